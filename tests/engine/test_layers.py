"""The engine is layered: imports only point down, and no modules import each other in a circle.

Every import counts, also those only for type checking and those inside functions:
a layer that needs something from above is passed it (a protocol, a callback, a
context object) instead. ``engine/__init__.py`` is the public face: it hands names on
from every layer, and no engine module imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine.documents.document import Document
from engine.metadata.doctype import DOCUMENT_ATTRIBUTES, RESERVED_NAMES
from engine.rules.record import Record

ENGINE = Path(__file__).resolve().parents[2] / "engine"

# Lowest first; a module may import its own layer and the layers below it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("engine.errors",)),
    ("metadata", ("engine.metadata",)),
    ("storage", ("engine.storage",)),
    ("rules", ("engine.rules",)),
    ("documents", ("engine.documents",)),
    ("site", ("engine.site",)),
    ("web", ("engine.web",)),
    ("cli", ("engine.cli",)),
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def layer_of(module: str) -> int:
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in {__file__}")


def imports_of(module: str) -> set[str]:
    """The engine modules ``module`` imports, wherever the import statement stands."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            submodules = {f"{base}.{a.name}" for a in node.names} & MODULES.keys()
            if len(submodules) < len(node.names) and base in MODULES:
                submodules.add(base)  # a name defined in the module (or package face) itself
            found.update(submodules - {module})
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES and a.name != module)
    return found


INNER = sorted(m for m in MODULES if m != "engine")  # engine/__init__.py is the public face


def test_every_module_has_a_layer():
    for module in INNER:
        layer_of(module)


@pytest.mark.parametrize("module", INNER)
def test_imports_point_down(module):
    mine = layer_of(module)
    for target in sorted(imports_of(module)):
        assert target != "engine", f"{module} imports the engine package's public face; import the module itself"
        theirs = layer_of(target)
        assert theirs <= mine, (f"{module} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]}), a layer "
                                "above it: pass what it needs in (a protocol, a callback) instead")


def test_no_import_circles():
    graph = {m: {t for t in imports_of(m) if t != "engine"} for m in INNER}
    cycles = _strongly_connected(graph)
    assert not cycles, "import circles: " + "; ".join(" -> ".join(sorted(c)) for c in cycles)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_check_finds_an_upward_import(tmp_path):
    """The AST walk sees imports that exist only for type checking, and those inside functions."""
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\n"
                     "if TYPE_CHECKING:\n    from engine.site.session import Session\n"
                     "def f():\n    from engine.web import app\n")
    MODULES["engine.rules.probe"] = probe
    try:
        assert imports_of("engine.rules.probe") == {"engine.site.session", "engine.web.app"}
        with pytest.raises(AssertionError, match="a layer above it"):
            test_imports_point_down("engine.rules.probe")
    finally:
        del MODULES["engine.rules.probe"]


def test_packages_are_only_faces():
    """A layer's ``__init__.py`` holds its docstring, so importing one module never loads its neighbours."""
    for module, path in MODULES.items():
        if path.name == "__init__.py" and module not in ("engine", "engine.web"):
            body = ast.parse(path.read_text("utf-8")).body
            assert all(isinstance(n, ast.Expr) for n in body), f"{path} should hold only a docstring"


# ---------------------------------------------------------------- what the layers promise each other

def test_document_is_a_record(session):
    """The rules read documents through the Record protocol; Document keeps to it."""
    doc = session.new_doc("Test Customer", {"customer_name": "Probe"})
    assert isinstance(doc, Record)


def test_reserved_field_names_cover_every_document_attribute():
    """A field named like a Document attribute would be hidden by it; the metadata layer keeps the list."""
    public = {a for a in dir(Document) if not a.startswith("_")}
    assert public <= set(DOCUMENT_ATTRIBUTES), f"add {sorted(public - set(DOCUMENT_ATTRIBUTES))} to DOCUMENT_ATTRIBUTES"
    assert set(DOCUMENT_ATTRIBUTES) <= RESERVED_NAMES

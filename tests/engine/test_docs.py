"""The README keeps up with the code: every YAML key, hook, field type, operator and error is documented.

Two README sections are generated from the code (the lifecycle order and the hook
reference); after changing ``engine/documents/lifecycle.py`` or ``engine/documents/hookspecs.py`` run
``python tests/engine/test_docs.py`` to rewrite them. The quick start is run as a
doctest, so its outputs are real.
"""

from __future__ import annotations

import doctest
import inspect
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
README = REPO_ROOT / "README.md"
SCHEMA = REPO_ROOT / "engine" / "metadata" / "doctype.schema.json"
if str(REPO_ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(REPO_ROOT))

from engine import errors  # noqa: E402
from engine.documents import hookspecs  # noqa: E402
from engine.documents.lifecycle import LIFECYCLE  # noqa: E402
from engine.metadata.fieldtypes import FIELD_TYPES  # noqa: E402
from engine.rules.query import OPERATORS  # noqa: E402

# What each built-in lifecycle step does (hooks describe themselves in their docstrings).
STEP_DESCRIPTIONS = {
    "coerce_values": "before any hook, every value becomes its field's type (\"12\" -> 12, \"2026-12-01\" -> a "
                     "date); one that does not convert is emptied and its error reported by check_fields with the "
                     "rest, so hooks never compute on a client's raw \"abc\"",
    "check_new": "refuses a document that is already saved, not a draft, or carries an ID its naming rule sets",
    "check_draft": "refuses saving a submitted or cancelled document (submitted ones go through update after submit)",
    "check_submittable": "the doctype is submittable and the document a saved draft; sets docstatus 1",
    "check_submitted": "the document is submitted and stays so",
    "check_allowed_on_submit": "refuses changes to fields without `allow_on_submit`",
    "check_cancellable": "the doctype is submittable and the document submitted; sets docstatus 2",
    "check_deletable": "the document is saved and not submitted (cancel first)",
    "set_name": "the naming rule gives the document its ID (see Naming)",
    "check_fields": "built-in checks of the document and its rows: types, required, options, lengths, formats, "
                    "non-negative, set-only-once, unique values, links (one query), tree rules; fills "
                    "defaults and `fetch_from`; ALL problems raised together as one ValidationError",
    "write_insert": "INSERT of the row and its child rows",
    "write_update": "UPDATE of the row if it is unchanged since it was read (optimistic locking), "
                    "child rows reconciled (insert, update, delete)",
    "write_delete": "DELETE of the child rows and the row",
    "check_tree_delete": "refuses deleting a tree node that has children",
    "check_links": "refuses deleting a record other documents link to (names them)",
    "record_version": "writes a Version record of the changes (`track_changes` doctypes only)",
}
OPERATION_CALLS = {
    "insert": "`doc.insert()`, `session.insert(...)`, `doc.save()` of a new document",
    "save": "`doc.save()` of a saved draft, or of any saved document of a doctype that is not submittable",
    "submit": "`doc.submit()`",
    "update_after_submit": "`doc.save()` of a submitted document",
    "cancel": "`doc.cancel()`",
    "delete": "`doc.delete()`, `session.delete_doc(doctype, name)`",
}


def hook_signature(name: str) -> str:
    return f"{name}({', '.join(hookspecs.hook_arguments(name))})"


def hook_callers() -> dict[str, list[str]]:
    """hook -> operations that call it, from LIFECYCLE (and the rename steps)."""
    operations: dict[str, tuple[str, ...]] = dict(LIFECYCLE)
    try:
        from engine.documents.rename import RENAME_STEPS
    except ImportError:  # pragma: no cover - rename not part of this build
        RENAME_STEPS = ()
    if RENAME_STEPS:
        operations["rename"] = tuple(RENAME_STEPS)
    out: dict[str, list[str]] = {}
    for op, steps in operations.items():
        for step in steps:
            out.setdefault(step, []).append(op)
    return out


def render_lifecycle() -> str:
    lines = ["Hooks in **bold**; the other steps are built in (described below).", ""]
    for op, steps in LIFECYCLE.items():
        chain = " → ".join(f"**`{s}`**" if s in hookspecs.HOOK_NAMES else f"`{s}`" for s in steps)
        lines += [f"- **{op}** ({OPERATION_CALLS.get(op, '')}):", f"  {chain}"]
    lines += ["", "Built-in steps:", ""]
    used = dict.fromkeys(s for steps in LIFECYCLE.values() for s in steps if s not in hookspecs.HOOK_NAMES)
    lines += [f"- `{step}`: {STEP_DESCRIPTIONS[step]}" for step in used]
    return "\n".join(lines) + "\n"


def render_hooks() -> str:
    callers = hook_callers()
    lines = []
    for name in hookspecs.HOOK_NAMES:
        doc = textwrap.dedent(inspect.getdoc(getattr(hookspecs, name)) or "").strip()
        ops = ", ".join(callers.get(name, [])) or hookspecs.OTHER_CALLERS.get(name, "no operation yet")
        lines += [f"#### `{hook_signature(name)}`", "", f"Called by: {ops}.", "", doc, ""]
    return "\n".join(lines).rstrip() + "\n"


GENERATED = {"lifecycle": render_lifecycle, "hooks": render_hooks}
_BLOCK = "<!-- BEGIN GENERATED: {0} (python tests/engine/test_docs.py) -->\n{1}<!-- END GENERATED: {0} -->"
_BLOCK_RE = r"<!-- BEGIN GENERATED: {0} .*?-->\n.*?<!-- END GENERATED: {0} -->"


def regenerate(text: str) -> str:
    for name, render in GENERATED.items():
        pattern = re.compile(_BLOCK_RE.format(re.escape(name)), re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no generated block {name!r}")
        text = pattern.sub(lambda _m, n=name, r=render: _BLOCK.format(n, r()), text)
    return text


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text("utf-8")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text("utf-8"))


def section(text: str, title: str) -> str:
    """The text of the README section ``## title`` (up to the next ``## ``)."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert m, f"README.md has no section '## {title}'"
    return m.group(1)


def table_rows(text: str) -> dict[str, list[str]]:
    """Markdown table rows keyed by the backticked text of their first cell."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and (m := re.fullmatch(r"`([^`]+)`", cells[0])):
            rows[m.group(1)] = cells[1:]
    return rows


def schema_properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "top": schema["properties"],
        "naming": schema["$defs"]["naming"]["properties"],
        "field": schema["$defs"]["field"]["properties"],
    }


# --------------------------------------------------------------- the tests


def test_readme_starts_with_the_two_setup_commands(readme: str) -> None:
    headings = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert headings[0] == "Set-up: two commands"
    setup = section(readme, "Set-up: two commands")
    assert "pip install -e . && docframe demo" in setup
    assert "pip install -e '.[test]' && python -m pytest" in setup


def test_ci_runs_the_readme_test_command_in_a_fresh_virtualenv() -> None:
    """A missing install step must fail CI the way it fails a new user."""
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "-m venv" in ci and "source \"$work/venv/bin/activate\"" in ci
    assert "pip install -q -e '.[test]' && python -m pytest -q" in ci
    assert ci.index("-m venv") < ci.index("pip install")


@pytest.mark.parametrize("part", ["top", "naming", "field"])
def test_every_schema_key_is_documented_in_its_table(readme: str, schema: dict[str, Any], part: str) -> None:
    rows = table_rows(section(readme, {"top": "Doctype YAML", "naming": "Naming", "field": "Fields"}[part]))
    for key in schema_properties(schema)[part]:
        assert key in rows, f"README.md: YAML key {key!r} ({part}) has no row in its table"
        assert rows[key][0] and "`" in rows[key][1], f"README.md: YAML key {key!r} needs a meaning and an example"


@pytest.mark.parametrize("part", ["top", "naming", "field"])
def test_every_schema_property_has_a_description(schema: dict[str, Any], part: str) -> None:
    for key, spec in schema_properties(schema)[part].items():
        assert spec.get("description", "").strip(), f"doctype.schema.json: {part} key {key!r} has no description"
    assert schema["$defs"]["naming"].get("description") and schema["$defs"]["field"].get("description")


def test_every_enum_value_of_the_schema_is_documented(readme: str, schema: dict[str, Any]) -> None:
    naming = schema_properties(schema)["naming"]
    for rule in naming["rule"]["enum"]:
        assert f"`{rule}`" in section(readme, "Naming"), f"naming rule {rule!r} is not documented"
    for value in naming["on_duplicate"]["enum"]:
        assert f"`{value}`" in section(readme, "Naming")
    actions = schema["properties"]["permissions"]["additionalProperties"]["items"]["enum"]
    for action in actions:
        assert f"`{action}`" in section(readme, "Doctype YAML"), f"permission action {action!r} is not documented"
    assert set(schema_properties(schema)["field"]["type"]["enum"]) == set(FIELD_TYPES)


def test_every_field_type_is_documented_with_its_sql_types(readme: str) -> None:
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    from engine.metadata.doctype import Field

    rows = table_rows(section(readme, "Field types"))
    dialects = (sqlite.dialect(), postgresql.dialect(), mysql.dialect())
    for name, ft in FIELD_TYPES.items():
        assert name in rows, f"README.md: field type {name!r} is not in the field type table"
        cells = rows[name]
        if ft.sql_type is None:
            assert cells[0].startswith("no column"), f"{name}: expected 'no column'"
            continue
        length = ft.default_length if name != "Password" else None
        sql = ft.sql_type(Field("x", name, "X", length=length))
        for dialect, cell in zip(dialects, cells[:3], strict=True):
            documented = re.match(r"`([^`]+)`", cell)
            assert documented, f"{name}: no SQL type in {cell!r}"
            assert documented.group(1) == sql.compile(dialect=dialect), f"{name} on {dialect.name}: {cell}"


def test_every_hook_is_documented_with_its_signature(readme: str) -> None:
    for name in hookspecs.HOOK_NAMES:
        assert f"`{hook_signature(name)}`" in readme, f"README.md: hook {hook_signature(name)} is not documented"


def test_every_hookspec_has_a_docstring() -> None:
    for name in hookspecs.HOOK_NAMES:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc.split()) >= 5, f"hookspecs.{name} needs a docstring saying when it runs"


def test_every_lifecycle_step_is_documented() -> None:
    for op, steps in LIFECYCLE.items():
        assert op in OPERATION_CALLS, f"operation {op!r}: add it to OPERATION_CALLS in this file"
        for step in steps:
            assert step in hookspecs.HOOK_NAMES or step in STEP_DESCRIPTIONS, (
                f"lifecycle step {step!r}: describe it in STEP_DESCRIPTIONS in this file"
            )


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_sections_are_up_to_date(readme: str, name: str) -> None:
    pattern = re.compile(_BLOCK_RE.format(re.escape(name)), re.DOTALL)
    m = pattern.search(readme)
    assert m, f"README.md has no generated block {name!r}"
    assert m.group(0) == _BLOCK.format(name, GENERATED[name]()), (
        f"README.md's {name} section is out of date: run python tests/engine/test_docs.py"
    )


def test_every_query_operator_is_documented(readme: str) -> None:
    rows = table_rows(section(readme, "Queries"))
    for op in OPERATORS:
        assert op in rows, f"README.md: operator {op!r} is not in the operator table"


def test_every_error_class_is_documented_with_its_status(readme: str) -> None:
    rows = table_rows(section(readme, "Errors"))

    def walk(cls: type[errors.DocframeError]) -> list[type[errors.DocframeError]]:
        return [cls] + [c for sub in cls.__subclasses__() for c in walk(sub)]

    for cls in walk(errors.DocframeError):
        if cls.__module__ != "engine.errors":
            continue
        assert cls.__name__ in rows, f"README.md: error {cls.__name__} is not in the error table"
        assert rows[cls.__name__][0] == str(cls.status), f"README.md: {cls.__name__} has status {cls.status}"


def test_cli_commands_and_options_are_documented(readme: str) -> None:
    cli = section(readme, "Command line")
    for text in ("docframe check", "docframe migrate", "--dry-run", "--force", "docframe demo", "--db", "--app",
                 "DOCFRAME_DATABASE_URL"):
        assert text in cli, f"README.md: {text!r} missing from the command line section"
    try:
        from engine.cli import docframe
    except ImportError:  # pragma: no cover - the CLI is not part of this build
        return
    for name, command in docframe.commands.items():
        assert f"docframe {name}" in cli, f"README.md: command 'docframe {name}' is not documented"
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in cli, f"README.md: option {opt} of 'docframe {name}' is not documented"


def test_quick_start_runs_as_written(readme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick start's files are written to a folder and its Python session is run as a doctest."""
    quick = section(readme, "Quick start")
    files = re.findall(r"```(?:yaml|python)\n# (myapp/[\w/.]+)\n(.*?)```", quick, re.DOTALL)
    assert len(files) >= 4
    for rel, body in files:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, "utf-8")
    sessions = re.findall(r"```python\n(>>> .*?)```", quick, re.DOTALL)
    assert sessions, "the quick start has no >>> session"
    monkeypatch.chdir(tmp_path)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for i, text in enumerate(sessions):
        runner.run(parser.get_doctest(text, {}, f"README quick start {i + 1}", str(README), 0))
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} quick start example(s) failed (output above)"


if __name__ == "__main__":
    README.write_text(regenerate(README.read_text("utf-8")), "utf-8")
    print(f"updated {README}")

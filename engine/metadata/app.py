"""An application: a folder of doctypes/, hooks/, templates/, fixtures/ and demo/.

The engine takes the app folder as configuration. The bundled app (the customer
master) is the repository's top level in a checkout or an editable install, and the
installed package data ``docframe_app`` after ``pip install .``; both are found
through the import system, so ``docframe`` works from any folder.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engine.metadata.doctype import DocType
from engine.metadata.loader import core_doctypes_dir, load_doctypes

BUNDLED_APP_PACKAGE = "docframe_app"


@dataclass(frozen=True)
class App:
    """Where an application's parts live."""

    root: Path

    @property
    def doctypes_dir(self) -> Path:
        return self.root / "doctypes"

    @property
    def hooks_dir(self) -> Path:
        return self.root / "hooks"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def fixtures_dir(self) -> Path:
        return self.root / "fixtures"

    @property
    def demo_dir(self) -> Path:
        return self.root / "demo"


@cache
def bundled_app_dir() -> Path:
    """The bundled app's folder.

    In a checkout (run in place or installed editable) the repository's top level;
    after a regular install the package data ``docframe_app`` in site-packages, a
    namespace package that pyproject.toml maps to the repository's top level.
    """
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "doctypes").is_dir() and (checkout / "engine").is_dir():
        return checkout
    spec = importlib.util.find_spec(BUNDLED_APP_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(location)
        if (folder / "doctypes").is_dir():
            return folder.resolve()
    raise RuntimeError(f"the bundled app ({BUNDLED_APP_PACKAGE}) is not installed: run pip install . "
                       "in the docframe folder, or give --app DIR")


def load_app_doctypes(app_dir: Path | str | None = None) -> dict[str, DocType]:
    """The engine's core doctypes plus the app's; raises MetaError listing every problem."""
    app = App(Path(app_dir) if app_dir else bundled_app_dir())
    dirs = [core_doctypes_dir()]
    if app.doctypes_dir.is_dir():
        dirs.append(app.doctypes_dir)
    return load_doctypes(dirs)

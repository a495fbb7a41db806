"""A Site: one app (doctypes, hooks, templates) on one database.

Built by a factory from a folder and a URL; it owns the metadata registry, the
compiled tables, the hook registry and the SQLAlchemy engine (and their caches).
Nothing is created at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from engine.auth import VerifiedSecrets
from engine.db import create_db_engine
from engine.errors import DoesNotExistError
from engine.hooks import HookRegistry
from engine.links import ReverseLinks
from engine.meta import DocType, core_doctypes_dir, load_doctypes
from engine.schema import NAMING_COUNTER_TABLE, compile_schema
from engine.session import Session

if TYPE_CHECKING:
    from engine.sync import Plan

T = TypeVar("T")
DEFAULT_APP_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class App:
    """Where an application's parts live: doctypes/, hooks/, templates/."""

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


def load_app_doctypes(app_dir: Path | str | None = None) -> dict[str, DocType]:
    """The engine's core doctypes plus the app's; raises MetaError listing every problem."""
    app = App(Path(app_dir) if app_dir else DEFAULT_APP_DIR)
    dirs = [core_doctypes_dir()]
    if app.doctypes_dir.is_dir():
        dirs.append(app.doctypes_dir)
    return load_doctypes(dirs)


class Site:
    """The engine for one app and one database."""

    def __init__(self, db_url: str | None = None, app_dir: Path | str | None = None, **engine_kwargs: Any):
        self.app = App(Path(app_dir).resolve() if app_dir else DEFAULT_APP_DIR)
        self.doctypes: dict[str, DocType] = load_app_doctypes(self.app.root)
        self.engine = create_db_engine(db_url, **engine_kwargs)
        self.metadata = compile_schema(self.doctypes, self.engine.dialect.name)
        self._tables = {name: self.metadata.tables[dt.table_name] for name, dt in self.doctypes.items()}
        self.counter_table = self.metadata.tables[NAMING_COUNTER_TABLE]
        self.reverse_links = ReverseLinks(self.doctypes)
        self.hooks = HookRegistry(self.doctypes)
        self.hooks.load_folder(self.app.hooks_dir)
        self.ci_names = self.engine.dialect.name == "mysql"  # _ci collation compares IDs itself
        self._statements: dict[Hashable, Any] = {}
        self.verified_secrets = VerifiedSecrets()  # API secrets already checked (engine.auth)

    # ------------------------------------------------------------ metadata
    def get_meta(self, doctype: str) -> DocType:
        try:
            return self.doctypes[doctype]
        except (KeyError, TypeError):
            raise DoesNotExistError(f"DocType {doctype!r} not found") from None

    def table(self, doctype: str) -> sa.Table:
        try:
            return self._tables[doctype]
        except (KeyError, TypeError):
            raise DoesNotExistError(f"DocType {doctype!r} not found") from None

    def name_match(self, table: sa.Table, name: Any) -> sa.ColumnElement[bool]:
        """Case-insensitive ID comparison that uses the lower(name) index.

        ``name`` is a value or a bindparam; a bindparam must be given the lowered value
        (except on MariaDB, whose _ci collation compares case-insensitively by itself).
        """
        if self.ci_names:
            return table.c.name == name
        if isinstance(name, str):
            name = name.lower()
        return sa.func.lower(table.c.name) == name

    def name_in(self, table: sa.Table, lowered: Sequence[str]) -> sa.ColumnElement[bool]:
        if self.ci_names:
            return table.c.name.in_(list(lowered))
        return sa.func.lower(table.c.name).in_(list(lowered))

    def statement(self, key: Hashable, build: Callable[[], T]) -> T:
        """A prebuilt statement for ``key``: building Core expressions costs more than running them."""
        try:
            return self._statements[key]  # type: ignore[no-any-return]
        except KeyError:
            built = self._statements[key] = build()
            return built

    def insert_statement(self, doctype: str) -> sa.Insert:
        return self.statement(("insert", doctype), lambda: self.table(doctype).insert())

    def permission_conditions(self, session: Session, doctype: str) -> list[sa.ColumnElement[bool]]:
        """Record-level conditions for the session's user: the doctype's record rules as SQL."""
        from engine.permissions import conditions

        return conditions(session, doctype)

    # ------------------------------------------------------------- sessions
    def session(self, user: str = "Administrator", **flags: Any) -> Session:
        return Session(self, user, flags)

    def migrate(self, *, dry_run: bool = False, force: bool = False) -> Plan:
        """Bring the schema in line with the YAML, then install the app's missing standard records.

        Returns the Plan; ``plan.installed`` lists the standard records installed (with
        ``dry_run``: the ones that would be), see :mod:`engine.fixtures`.
        """
        from engine.fixtures import install_fixtures
        from engine.sync import migrate

        plan = migrate(self, dry_run=dry_run, force=force)
        plan.installed = install_fixtures(self, dry_run=dry_run)
        return plan

    def dispose(self) -> None:
        self.engine.dispose()

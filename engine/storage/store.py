"""A Store: an app's compiled tables on one database, and the statements built for them.

It owns the SQLAlchemy engine (and its read replicas'), the tables compiled from the doctypes, the
reverse-link index and the cache of prebuilt statements. :class:`engine.site.site.Site`
is a Store that also holds the app's hooks and hands out Sessions; the layers below
the site see only this storage face.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from engine.errors import DoesNotExistError
from engine.metadata.app import App
from engine.metadata.doctype import DocType
from engine.metadata.reverse_links import ReverseLinks
from engine.storage.db import create_db_engine
from engine.storage.replicas import Replicas
from engine.storage.schema import NAMING_COUNTER_TABLE, compile_schema
from engine.storage.writes import track_writes

T = TypeVar("T")


SHAPES_KEPT = 2048


class Store:
    """The tables of an app's doctypes on one database."""

    def __init__(self, app: App, doctypes: Mapping[str, DocType], db_url: str | None = None, *,
                 replica_urls: Sequence[str] = (), **engine_kwargs: Any):
        """``replica_urls``: read replicas of the database, for reads that may lag it (see
        :mod:`engine.storage.replicas`)."""
        self.app = app
        self.doctypes: dict[str, DocType] = dict(doctypes)
        self.engine = create_db_engine(db_url, **engine_kwargs)
        self.replicas = Replicas(self.engine, replica_urls, **engine_kwargs)
        self.metadata = compile_schema(self.doctypes, self.engine.dialect.name)
        self._tables = {name: self.metadata.tables[dt.table_name] for name, dt in self.doctypes.items()}
        self.counter_table = self.metadata.tables[NAMING_COUNTER_TABLE]
        self.reverse_links = ReverseLinks(self.doctypes)
        self.ci_names = self.engine.dialect.name == "mysql"  # _ci collation compares IDs itself
        self._statements: dict[Hashable, Any] = {}
        self._shapes: OrderedDict[Hashable, Any] = OrderedDict()  # see shaped()
        self._shapes_lock = threading.Lock()
        # Called with the doctypes a unit of work wrote, after its transaction commits
        # (e.g. the site's token cache forgets users); registered by the layers above.
        self.commit_listeners: list[Callable[[frozenset[str]], None]] = []
        self._parents_of = _parents_of_children(self.doctypes)
        track_writes(self.engine, {dt.table_name: name for name, dt in self.doctypes.items()}, self.committed)

    def committed(self, doctypes: frozenset[str]) -> None:
        """A transaction that wrote documents of ``doctypes`` ("*": of any) has committed.

        The listeners hear a child doctype's parents too: a row written by itself
        (a hook's own UPDATE of a customer's accounts) changes its parent document.
        """
        parents = [self._parents_of[d] for d in doctypes if d in self._parents_of]
        if parents:
            doctypes = doctypes.union(*parents)
        for listener in self.commit_listeners:
            listener(doctypes)

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

    # ------------------------------------------------------------ IDs
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

    # ------------------------------------------------------------ statements
    def statement(self, key: Hashable, build: Callable[[], T]) -> T:
        """A prebuilt statement for ``key``: building Core expressions costs more than running them."""
        try:
            return self._statements[key]  # type: ignore[no-any-return]
        except KeyError:
            built = self._statements[key] = build()
            return built

    def shaped(self, key: Hashable, build: Callable[[], T]) -> T:
        """Like :meth:`statement` for pieces keyed by what a caller asked for (a list's field names):
        at most ``SHAPES_KEPT`` are kept, least recently used dropped first, as the keys come from users."""
        shapes = self._shapes
        try:
            value = shapes[key]
        except KeyError:
            value = build()
            with self._shapes_lock:
                shapes[key] = value
                while len(shapes) > SHAPES_KEPT:
                    shapes.popitem(last=False)
            return value
        try:
            shapes.move_to_end(key)
        except KeyError:  # dropped by another thread meanwhile
            pass
        return value  # type: ignore[no-any-return]

    def cached_statement(self, key: Hashable) -> Any:
        """The statement prebuilt for ``key``, or None (for callers that decide late whether to build)."""
        return self._statements.get(key)

    def insert_statement(self, doctype: str) -> sa.Insert:
        return self.statement(("insert", doctype), lambda: self.table(doctype).insert())

    def dispose(self) -> None:
        self.replicas.dispose()
        self.engine.dispose()


def _parents_of_children(doctypes: Mapping[str, DocType]) -> dict[str, frozenset[str]]:
    """Child doctype -> the doctypes whose tables hold its rows."""
    parents: dict[str, set[str]] = {}
    for name, meta in doctypes.items():
        for f in meta.table_fields:
            parents.setdefault(f.options, set()).add(name)  # type: ignore[arg-type]
    return {child: frozenset(names) for child, names in parents.items()}

"""A unit of work: one user's connection to a Store and the transaction around their writes.

:class:`engine.site.session.Session` is a UnitOfWork with the document API on top.
The rules below the documents (naming, validation, links, permissions, trees,
queries) are given a UnitOfWork and use only this: the store, the connection, the
user, the flags and the clock.

It owns one database connection. Every write (with all the hooks it triggers, and
every document those hooks write through the same unit) is one transaction;
``atomic()`` groups several writes into one. Reads outside a write end their
transaction at once so no snapshot or lock is held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol, Self

import sqlalchemy as sa

from engine.errors import ReadOnlyError
from engine.metadata.doctype import DocType
from engine.storage.db import begin_write, reading
from engine.storage.store import Store
from engine.storage.writes import WRITTEN, take_written

READ_ONLY = ("a report's session only reads (from a read replica when the site has one) and cannot write: "
             "write through site.session() instead")


class Flags(dict):
    """Switches of a unit of work or a document (``flags.importing``...); missing ones are None."""

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):  # protocols (copy, pickle, templates) must not see None
            raise AttributeError(key)
        return self.get(key)

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


class SharedValues(Protocol):
    """Values the units of one process share while a token stays the same (the site's auth epoch).

    Read the token before the database and keep what was read under that token: a
    change committed in between has given a new token, so the value is never used.
    """

    def epoch(self) -> Hashable | None:
        """The token now; None: keep and serve nothing."""

    def get(self, key: Hashable, epoch: Hashable) -> Any:
        """The value kept under ``key`` for ``epoch``, or None."""

    def put(self, key: Hashable, epoch: Hashable, value: Any) -> None: ...


class UnitOfWork:
    """One user's connection and transaction against a Store."""

    def __init__(self, site: Store, user: str = "Administrator", flags: Mapping[str, Any] | None = None,
                 conn: sa.Connection | None = None, replica: sa.Engine | None = None):
        """``conn``: a connection to use (and close) instead of taking one from the pool on first use.

        ``replica``: the engine to read, a read replica of the site's database (see
        :mod:`engine.storage.replicas`; ``conn`` is one of its connections) or the site's own;
        given, the unit only reads: it cannot write.
        """
        self.site = site
        self.user = user
        self.flags = Flags(flags or {})
        self._conn: sa.Connection | None = conn
        self._engine = replica if replica is not None else site.engine
        self.read_only = replica is not None
        self._depth = 0
        # Per-unit values worked out once (e.g. the user's roles, by engine.rules.permissions),
        # each under a key of the module that owns it; gone with the unit.
        self.cache: dict[Hashable, Any] = {}
        # Reads remembered while a batch of documents is written (see memoized()): by doctype.
        self._memo: dict[str, dict[Hashable, Any]] | None = None
        # Doctypes written in the open transaction ("*": any), told to the Store after the commit.
        self._written: set[str] = set()
        # Values about users shared with the process's other units (set by the site layer), e.g.
        # a user's roles, kept while no User or Role has changed; None: every unit reads its own.
        self.shared_auth: SharedValues | None = None

    # ------------------------------------------------------------ connection
    @property
    def conn(self) -> sa.Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ transactions
    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def atomic(self) -> Iterator[Self]:
        """One transaction around the block; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        if self.read_only:
            raise ReadOnlyError(READ_ONLY)
        conn = self.conn
        if conn.in_transaction():
            conn.rollback()
        earlier = take_written(conn)  # SQL outside a transaction wrote (and committed) these: still to tell
        tx = begin_write(conn)
        self._depth = 1
        self._written = set()
        try:
            yield self
            tx.commit()
        except BaseException:
            if tx.is_active:
                tx.rollback()
            take_written(conn)  # undone
            if earlier:
                conn.info[WRITTEN] = earlier  # told when the connection goes back to the pool
            raise
        finally:
            self._depth = 0
        self._written |= earlier | take_written(conn)  # what the statements wrote, hooks' own SQL included
        if self._written:
            written, self._written = frozenset(self._written), set()
            self.site.committed(written)

    @property
    def wrote_untold(self) -> bool:
        """Whether SQL on this unit's connection outside ``atomic()`` wrote what the Store has not been told yet
        (it is told when the connection goes back to the pool)."""
        return self._conn is not None and bool(self._conn.info.get(WRITTEN))

    def reading(self) -> AbstractContextManager[sa.Connection]:
        """The connection for reads: inside a write, its transaction; outside, a read that holds nothing."""
        if self._depth:
            return nullcontext(self.conn)
        return reading(self._engine, self.conn)

    def now(self) -> dt.datetime:
        return dt.datetime.now()

    # ------------------------------------------------------------ memo
    @contextmanager
    def memoized(self) -> Iterator[None]:
        """Remember reads by ID (``name_exists``, values by ID, link checks) until the block ends.

        For writing a batch of documents (the data import's bulk path): the hooks of
        each document read the same groups, companies and price lists again and
        again. A remembered doctype is forgotten as soon as a document of it is
        written through the lifecycle (:meth:`forget`), so a hook never reads its own
        batch's stale rows; a write in raw SQL (``ctx.conn``) should call ``forget``.
        """
        if self._memo is not None:
            yield
            return
        self._memo = {}
        try:
            yield
        finally:
            self._memo = None

    def memo(self, doctype: str) -> dict[Hashable, Any] | None:
        """The remembered reads of a doctype (None outside :meth:`memoized`)."""
        if self._memo is None:
            return None
        return self._memo.setdefault(doctype, {})

    def forget(self, doctype: str | None) -> None:
        """Documents of ``doctype`` (None: of any doctype) were written: reads remembered about them are stale.

        The doctype is also told to the Store's commit listeners once the transaction commits.
        """
        self._written.add(doctype or "*")
        if self._memo is None:
            return
        if doctype is None:
            self._memo.clear()
        else:
            self._memo.pop(doctype, None)

    # ------------------------------------------------------------ IDs
    def name_exists(self, meta: DocType, name: str) -> bool:
        """Whether an ID is taken, case-insensitively (inside the current transaction)."""
        site = self.site
        memo = self.memo(meta.name)
        if memo is not None:
            hit = memo.get(("exists", name.lower()))
            if hit is not None:
                return hit

        def build() -> sa.Select:
            t = site.table(meta.name)
            return sa.select(t.c.name).where(site.name_match(t, sa.bindparam("name"))).limit(1)

        stmt = site.statement(("name_exists", meta.name), build)
        key = name if site.ci_names else name.lower()
        found = self.conn.execute(stmt, {"name": key}).first() is not None
        if memo is not None:
            memo[("exists", name.lower())] = found
        return found

"""Which doctypes a connection wrote, seen from every statement it ran.

The document cache (:mod:`engine.site.doc_cache`) and the token cache end their
entries when a commit writes a doctype. Hooks write with their own SQL
(``ctx.conn.execute(update(...))``: a Company's accounts, a contact's primary
flag), scripts and ``docframe migrate`` write outside any unit of work; so instead of
trusting each writer to say what it wrote, every statement on the engine is looked
at as it is sent: an INSERT, UPDATE or DELETE names its table, any other statement
that is not plainly a read (DDL, SQL text) counts as writing everything ("*").

Statements are seen as they go to the driver cursor (SQLAlchemy's
``before_cursor_execute``: ``exec_driver_sql`` passes no other event). The doctypes
are kept in the connection's ``info`` until the unit of work commits
(:func:`take_written`); whatever a connection wrote outside a unit of work is told
when it goes back to the pool, which is after its commit or rollback. Telling a
rollback too only ends cache entries early, never keeps a stale one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.sql.dml import UpdateBase

log = logging.getLogger(__name__)

WRITTEN = "docframe_written"  # key in a pooled connection's info: the doctypes it wrote
ANY = "*"
# First words of SQL text that change no document (reads, transaction control, session settings).
_READ_WORDS = frozenset({"SELECT", "SHOW", "EXPLAIN", "DESCRIBE", "PRAGMA", "SET", "BEGIN", "START", "COMMIT",
                         "ROLLBACK", "SAVEPOINT", "RELEASE", "VALUES", "ANALYZE"})


def track_writes(engine: sa.Engine, doctype_of_table: Mapping[str, str],
                 told: Callable[[frozenset[str]], None]) -> None:
    """Record in each connection's info the doctypes its statements write; ``told`` hears the rest at check-in.

    ``doctype_of_table``: table name -> doctype (tables of no doctype, as the naming
    counters, are ignored).
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _before_cursor_execute(conn: sa.Connection, cursor: Any, statement: str, parameters: Any,
                               context: Any, executemany: bool) -> None:
        compiled = context.compiled if context is not None else None
        clause: Any = statement  # SQL text (exec_driver_sql, text()): judged by its first word
        if compiled is not None:
            if context.isinsert or context.isupdate or context.isdelete or context.isddl:
                clause = compiled.statement
            elif not isinstance(compiled.statement, sa.TextClause):
                return  # a compiled read: the common case, decided without looking at the text
        doctype = _written_by(clause, doctype_of_table)
        if doctype is not None:
            conn.info.setdefault(WRITTEN, set()).add(doctype)

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn: Any, record: Any) -> None:
        written = record.info.pop(WRITTEN, None)
        if written:
            try:
                told(frozenset(written))
            except Exception:  # a listener's failure must not break the pool
                log.exception("telling the commit listeners what a connection wrote failed")


def _written_by(clause: Any, doctype_of_table: Mapping[str, str]) -> str | None:
    """The doctype a statement writes, ANY for one that may write anything, None for a read or another table."""
    if isinstance(clause, UpdateBase):
        name = getattr(clause.table, "name", None)
        return ANY if name is None else doctype_of_table.get(name)
    if not isinstance(clause, str):
        return ANY  # DDL
    words = clause.lstrip(" \t\r\n(").split(None, 1)
    return None if words and words[0].upper() in _READ_WORDS else ANY


def take_written(conn: sa.Connection) -> set[str]:
    """The doctypes the connection wrote since the last call (and forget them)."""
    return conn.info.pop(WRITTEN, None) or set()

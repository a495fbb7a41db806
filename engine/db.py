"""Database engines for SQLite, PostgreSQL and MariaDB, made to behave alike.

- SQLite: WAL journal, a 30 s busy timeout, foreign-key-free; write transactions
  start with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing
  with "database is locked" when they upgrade a read lock.
- PostgreSQL and MariaDB: READ COMMITTED, so a retried statement sees rows other
  transactions committed meanwhile (naming relies on it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

DEFAULT_SQLITE_FILE = "docframe.db"
_BEGIN_IMMEDIATE = "docframe_begin_immediate"


def normalize_url(url: str | None) -> str:
    """Accept plain driver URLs and pick the drivers docframe ships with."""
    if not url:
        return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif driver in ("mysql", "mariadb"):
        parsed = parsed.set(drivername="mysql+pymysql")
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str | None, **kwargs: Any) -> sa.Engine:
    url = normalize_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if backend in ("postgresql", "mysql"):
        return sa.create_engine(url, isolation_level="READ COMMITTED", pool_pre_ping=True, **kwargs)
    raise ValueError(f"unsupported database {backend!r}: use SQLite, PostgreSQL or MariaDB")


def _configure_sqlite(engine: sa.Engine) -> None:
    memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        # Unicode-aware lower() so case-insensitive IDs agree with PostgreSQL's.
        dbapi_conn.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        immediate = conn.info.pop(_BEGIN_IMMEDIATE, False)
        # Straight to the driver: this runs for every transaction, reads included.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def begin_write(conn: sa.Connection) -> sa.RootTransaction:
    """Begin a transaction that will write (IMMEDIATE on SQLite)."""
    if conn.dialect.name == "sqlite":
        conn.info[_BEGIN_IMMEDIATE] = True
    return conn.begin()


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:index '([^']+)'|([\w.]+(?:, [\w.]+)*))")
_PG_UNIQUE = re.compile(r'unique constraint "([^"]+)"')
_MYSQL_UNIQUE = re.compile(r"Duplicate entry .* for key '(?:[^.']+\.)?([^']+)'")


def unique_violation(exc: sa.exc.IntegrityError, table: sa.Table) -> str | None:
    """Which column a unique violation is about ('name' for the ID), or None if not unique."""
    text = str(exc.orig)
    index_name: str | None = None
    if m := _SQLITE_UNIQUE.search(text):
        if m.group(1):
            index_name = m.group(1)
        else:
            return m.group(2).split(",")[0].split(".")[-1].strip()
    elif (m := _PG_UNIQUE.search(text)) or (m := _MYSQL_UNIQUE.search(text)):
        index_name = m.group(1)
    if index_name is None:
        return None
    if index_name in ("PRIMARY", f"{table.name}_pkey") or "_name_ci" in index_name:
        return "name"
    for ix in table.indexes:
        if ix.name == index_name:
            cols = [c.name for c in ix.columns]
            return cols[0] if cols else "name"
    return None


def is_deadlock(exc: sa.exc.DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "deadlock" in text or "could not serialize" in text or "lock wait timeout" in text

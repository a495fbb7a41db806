"""Database engines for SQLite, PostgreSQL and MariaDB, made to behave alike.

- SQLite: WAL journal, a 30 s busy timeout, foreign-key-free; write transactions
  start with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing
  with "database is locked" when they upgrade a read lock.
- PostgreSQL and MariaDB: READ COMMITTED, so a retried statement sees rows other
  transactions committed meanwhile (naming relies on it). The driver runs in
  autocommit mode and docframe says BEGIN itself: for every transaction but the reads
  a Session marks with :func:`autocommit_read`, which then cost no BEGIN and ROLLBACK
  round trips. Under READ COMMITTED each statement sees its own snapshot anyway, in a
  transaction or not, so such reads lose nothing. For the same reason ROLLBACK is sent
  only when the server reports a transaction open (PyMySQL would send one for every
  connection returned to the pool: a round trip per read request on MariaDB).
- Pooled connections are pinged before use only when they sat idle for a while
  (``PING_AFTER_IDLE``), not on every checkout.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

DEFAULT_SQLITE_FILE = "docframe.db"
_BEGIN_IMMEDIATE = "docframe_begin_immediate"
_AUTOCOMMIT_READ = "docframe_autocommit_read"  # set: the next transaction is a read without BEGIN
_AUTOCOMMIT_TX = "docframe_autocommit_tx"  # set while the current transaction is such a read
_LAST_USED = "docframe_last_used"
PING_AFTER_IDLE = 5.0  # seconds a pooled server connection may sit unused before it is pinged on checkout


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
        engine = sa.create_engine(url, **kwargs)
        _configure_server(engine)
        return engine
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


def _configure_server(engine: sa.Engine) -> None:
    postgres = engine.dialect.name == "postgresql"

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, record: Any) -> None:
        if postgres:
            dbapi_conn.autocommit = True
            begin = "BEGIN ISOLATION LEVEL READ COMMITTED"
        else:
            dbapi_conn.autocommit(True)
            with dbapi_conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            begin = "START TRANSACTION"
        record.info["docframe_begin"] = begin

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.info[_AUTOCOMMIT_TX] = conn.info.pop(_AUTOCOMMIT_READ, False)
        if conn.info[_AUTOCOMMIT_TX]:
            return  # a read: each statement commits on its own
        record = conn.connection._connection_record  # type: ignore[union-attr]
        with conn.connection.driver_connection.cursor() as cur:  # type: ignore[union-attr]
            cur.execute(record.info["docframe_begin"])

    in_transaction = _in_transaction_check(postgres)
    dbapi_rollback = engine.dialect.do_rollback

    def do_rollback(conn: Any) -> None:  # the pool's proxy or the DBAPI connection
        if in_transaction(getattr(conn, "dbapi_connection", conn)):
            dbapi_rollback(conn)

    engine.dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        """Ping a connection that sat idle (the server may have dropped it); a dead one is replaced."""
        last = record.info.get(_LAST_USED)
        if last is not None and time.monotonic() - last < PING_AFTER_IDLE:
            return
        try:
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchall()
        except Exception as exc:
            raise sa.exc.DisconnectionError(str(exc)) from exc

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()


def _in_transaction_check(postgres: bool) -> Callable[[Any], bool]:
    """A check of whether a DBAPI connection's server session has a transaction open (no round trip)."""
    if postgres:
        from psycopg.pq import TransactionStatus

        idle = TransactionStatus.IDLE
        return lambda dbapi_conn: dbapi_conn.info.transaction_status != idle  # type: ignore[no-any-return]
    from pymysql.constants import SERVER_STATUS

    in_trans = SERVER_STATUS.SERVER_STATUS_IN_TRANS  # PyMySQL keeps the flags of the server's last answer

    def mysql(dbapi_conn: Any) -> bool:
        status = dbapi_conn.server_status
        return status is None or bool(status & in_trans)

    return mysql


def autocommit_read(conn: sa.Connection) -> None:
    """Let the connection's next (auto-begun) transaction be a read without BEGIN (servers only).

    On SQLite reads keep their deferred BEGIN: it holds one WAL snapshot for the read.
    """
    if conn.dialect.name != "sqlite" and not conn.in_transaction():
        conn.info[_AUTOCOMMIT_READ] = True


@contextmanager
def reading(engine: sa.Engine, conn: sa.Connection | None = None) -> Iterator[sa.Connection]:
    """A connection for a few reads outside any write: ``conn`` (left open) or a new one (closed after)."""
    if conn is None:
        with engine.connect() as new:
            yield new
        return
    autocommit_read(conn)
    try:
        yield conn
    finally:
        end_read(conn)


def end_read(conn: sa.Connection) -> None:
    """After reads outside a write transaction: end a real transaction (SQLite's snapshot).

    An autocommit read's transaction exists only in SQLAlchemy's bookkeeping: it is
    kept, so the next read costs no round trip; the next write ends it first.
    """
    if conn.in_transaction() and not conn.info.get(_AUTOCOMMIT_TX):
        conn.rollback()


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def begin_write(conn: sa.Connection) -> sa.RootTransaction:
    """Begin a transaction that will write (IMMEDIATE on SQLite, a real BEGIN on the servers)."""
    conn.info.pop(_AUTOCOMMIT_READ, None)
    if conn.dialect.name == "sqlite":
        conn.info[_BEGIN_IMMEDIATE] = True
    return conn.begin()


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:index '([^']+)'|([\w.]+(?:, [\w.]+)*))")
_PG_UNIQUE = re.compile(r'unique constraint "([^"]+)"')
_MYSQL_UNIQUE = re.compile(r"Duplicate entry .* for key '(?:[^.']+\.)?([^']+)'")


def unique_violation_columns(exc: sa.exc.IntegrityError, table: sa.Table) -> tuple[str, ...] | None:
    """The columns of the unique index a violation is about (('name',) for the ID), or None if not unique."""
    text = str(exc.orig)
    index_name: str | None = None
    if m := _SQLITE_UNIQUE.search(text):
        if m.group(1):
            index_name = m.group(1)
        else:
            return tuple(part.split(".")[-1].strip() for part in m.group(2).split(","))
    elif (m := _PG_UNIQUE.search(text)) or (m := _MYSQL_UNIQUE.search(text)):
        index_name = m.group(1)
    if index_name is None:
        return None
    if index_name in ("PRIMARY", f"{table.name}_pkey") or "_name_ci" in index_name:
        return ("name",)
    for ix in table.indexes:
        if ix.name == index_name:
            return tuple(c.name for c in ix.columns) or ("name",)
    return None


def is_deadlock(exc: sa.exc.DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "deadlock" in text or "could not serialize" in text or "lock wait timeout" in text

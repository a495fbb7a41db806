"""How docframe talks to the databases: reads hold no transaction on the servers, writes are one transaction."""

from __future__ import annotations

import sqlalchemy as sa

from engine import Session, Site


def _open_transaction(site: Site, conn: sa.Connection, probe: sa.Connection) -> bool:
    """Whether the server sees a transaction open on ``conn`` (asked from another connection)."""
    dbapi = conn.connection.driver_connection
    try:
        if site.engine.dialect.name == "postgresql":  # pg_stat_activity is a snapshot per transaction
            pid = dbapi.info.backend_pid
            state = probe.exec_driver_sql(f"SELECT state FROM pg_stat_activity WHERE pid = {int(pid)}").scalar()
            return state != "idle"
        with dbapi.cursor() as cur:  # MariaDB reports its own session's state (straight to the driver: no BEGIN)
            cur.execute("SELECT @@in_transaction")
            return bool(cur.fetchone()[0])
    finally:
        probe.rollback()


def test_reads_hold_no_transaction_on_the_servers(site: Site, session: Session) -> None:
    if site.engine.dialect.name == "sqlite":
        # SQLite reads run in a deferred BEGIN (one WAL snapshot) that ends with the read
        session.get_list("Test Group")
        assert not session.conn.in_transaction()
        return
    session.insert("Test Group", group_name="Alpha")
    with site.engine.connect() as probe:
        session.get_doc("Test Group", "Alpha")
        session.get_list("Test Group", fields=["name"])
        session.exists("Test Group", "Alpha")
        assert not _open_transaction(site, session.conn, probe)
        with session.atomic():  # a write is a real transaction, seen by the server
            session.insert("Test Group", group_name="Beta")
            assert _open_transaction(site, session.conn, probe)
        assert not _open_transaction(site, session.conn, probe)


def test_a_write_after_reads_is_still_all_or_nothing(site: Site, session: Session) -> None:
    session.get_list("Test Group")  # leaves the connection after a read
    try:
        with session.atomic():
            session.insert("Test Group", group_name="Gamma")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with site.session() as other:
        assert not other.exists("Test Group", "Gamma")


def _server_in_transaction(site: Site, dbapi: object) -> bool:
    """What the server says of the DBAPI connection's own session (asked on it, straight to the driver)."""
    with dbapi.cursor() as cur:  # type: ignore[attr-defined]
        if site.engine.dialect.name == "postgresql":
            return dbapi.info.transaction_status != 0  # type: ignore[attr-defined]  # 0: IDLE
        cur.execute("SELECT @@in_transaction")
        return bool(cur.fetchone()[0])


def _rollbacks_received(dbapi: object) -> int:
    """MariaDB's count of ROLLBACK statements this session has received."""
    with dbapi.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("SHOW SESSION STATUS LIKE 'Com_rollback'")
        return int(cur.fetchone()[1])


def test_connections_go_back_to_the_pool_without_a_transaction_and_reads_send_no_rollback(site: Site) -> None:
    """A read request's connection costs no ROLLBACK round trip; an open transaction is still ended."""
    if site.engine.dialect.name == "sqlite":
        return  # SQLite's reads keep their BEGIN (a WAL snapshot), ended in-process
    mariadb = site.engine.dialect.name == "mysql"
    with site.session() as s:
        s.insert("Test Group", group_name="Delta")
        dbapi = s.conn.connection.driver_connection
        sent = _rollbacks_received(dbapi) if mariadb else 0
        s.get_doc("Test Group", "Delta")
        s.get_list("Test Group")
    # the Session gave its connection back to the pool: nothing was open, nothing was sent
    assert not _server_in_transaction(site, dbapi)
    if mariadb:
        assert _rollbacks_received(dbapi) == sent
    raw = site.engine.raw_connection()  # a transaction SQLAlchemy knows nothing of, left open
    with raw.driver_connection.cursor() as cur:
        cur.execute("BEGIN")
    assert _server_in_transaction(site, raw.driver_connection)
    dbapi = raw.driver_connection
    raw.close()
    assert not _server_in_transaction(site, dbapi)  # the pool rolled it back

"""Read replicas: reports read them, everything else the primary; roles always come from the primary.

The "replica" here is a second database of the same server that the test fills on its
own, so what a report shows tells which database it read (a real replica would follow
the primary; its lag is what these differences stand for).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from engine import Site
from engine.documents.reports import Report, ReportResult
from engine.errors import ReadOnlyError
from engine.site.auth import ensure_administrator, generate_api_key
from engine.site.fixtures import install_fixtures
from engine.web import create_app
from tests.conftest import IsolatedDatabases, _clear
from tests.web.conftest import APP_CONFIG, REPO_ROOT, clear_but_administrator

RUN = "/api/method/frappe.desk.query_report.run"
REPORT = {"report_name": "Customers by Group"}


@dataclass
class Pair:
    primary: Site  # has the replica
    replica: Site  # the replica's database, opened on its own to fill it
    replica_url: str
    client: FlaskClient  # Administrator, by token

    def counted(self, client: FlaskClient | None = None, headers: dict[str, str] | None = None) -> list[int]:
        r = (client or self.client).get(RUN, query_string=REPORT, headers=headers or {})
        assert r.status_code == 200, r.get_json()
        return [row["customers"] for row in r.get_json()["message"]["result"]]


@pytest.fixture(scope="module")
def pair(databases: IsolatedDatabases) -> Iterator[Pair]:
    replica_url = databases.new()
    replica = Site(replica_url, REPO_ROOT)
    replica.migrate()
    primary = Site(databases.new(), REPO_ROOT, replica_urls=[replica_url])
    primary.migrate()
    ensure_administrator(primary, "admin pw")
    with primary.session() as s:
        token = "token {}:{}".format(*generate_api_key(s, "Administrator"))
    client = create_app(primary, APP_CONFIG).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = token
    yield Pair(primary, replica, replica_url, client)
    primary.dispose()
    replica.dispose()


@pytest.fixture
def fresh(pair: Pair) -> Iterator[Pair]:
    """Both databases as migrated (Administrator and its key kept on the primary) after the test."""
    yield pair
    clear_but_administrator(pair.primary)
    _clear(pair.replica)
    for site in (pair.primary, pair.replica):
        with site.session() as s:
            install_fixtures(s)


def _customers(site: Site, *names: str, manager: str | None = None) -> None:
    with site.session() as s:
        for name in names:
            s.insert("Customer", customer_name=name, customer_manager=manager)


def test_reports_read_the_replica_and_everything_else_the_primary(fresh: Pair) -> None:
    _customers(fresh.primary, "Primary One", "Primary Two")
    _customers(fresh.replica, "Replica One", "Replica Two", "Replica Three")
    assert fresh.counted() == [3]  # the REST report
    page = fresh.client.get("/app/report/customers-by-group?format=csv")  # the desk's export
    assert page.text.splitlines() == ["Customer Group,Customers", "Default Customer Group,3"]
    listed = fresh.client.get("/api/resource/Customer", query_string={"limit_page_length": 0}).get_json()["data"]
    assert sorted(c["name"] for c in listed) == ["Primary One", "Primary Two"]  # not a report: the primary
    with fresh.primary.report_session() as s:
        assert s.conn.engine is fresh.primary.replicas.engines[0]
        assert sorted(s.get_list("Customer", pluck="name")) == ["Replica One", "Replica Three", "Replica Two"]


def test_a_report_sessions_roles_come_from_the_primary(fresh: Pair) -> None:
    """A role given on the primary counts before the replica has it; one taken away counts at once."""
    with fresh.primary.session() as s:
        s.insert("User", name="new@example.com", email="new@example.com", roles=[{"role": "Sales User"}])
        s.insert("User", name="gone@example.com", email="gone@example.com")
        new = {"Authorization": "token {}:{}".format(*generate_api_key(s, "new@example.com"))}
        gone = {"Authorization": "token {}:{}".format(*generate_api_key(s, "gone@example.com"))}
    with fresh.replica.session() as s:  # the replica still has the old roles
        s.insert("User", name="new@example.com", email="new@example.com")
        s.insert("User", name="gone@example.com", email="gone@example.com", roles=[{"role": "Sales User"}])
    _customers(fresh.replica, "New's", manager="new@example.com")
    _customers(fresh.replica, "Gone's", "Gone's Too", manager="gone@example.com")
    anon = create_app(fresh.primary, APP_CONFIG).test_client()
    assert fresh.counted(anon, new) == [1]  # the Sales User's record rule, on the replica's rows
    refused = anon.get(RUN, query_string=REPORT, headers=gone)
    assert refused.status_code == 403 and "report permission on Customer" in refused.text


def test_a_report_session_cannot_write_with_or_without_replicas(fresh: Pair, databases: IsolatedDatabases) -> None:
    def writes(ctx, filters):  # a report that (wrongly) saves something
        ctx.insert("Customer", customer_name="Written By A Report")
        return ReportResult(columns=[], rows=[])

    report = Report("Writing Report", "Customer", (), writes)
    fresh.primary.hooks.reports[report.name] = report
    try:
        r = fresh.client.get(RUN, query_string={"report_name": report.name})
    finally:
        del fresh.primary.hooks.reports[report.name]
    assert r.status_code == 417
    assert "A new Customer cannot be inserted: a report's session only reads" in r.get_json()["exception"]
    for site in (fresh.primary, fresh.replica):
        with site.session() as s:
            assert not s.exists("Customer", "Written By A Report")
    with fresh.replica.report_session() as s:  # a site without replicas: the primary, read-only all the same
        assert s.conn.engine is fresh.replica.engine
        with pytest.raises(ReadOnlyError, match="only reads"):
            s.insert("Customer", customer_name="Written By A Report")
        with pytest.raises(ReadOnlyError, match="only reads"), s.atomic():  # a hook's own transaction, too
            pass


def test_a_report_never_takes_documents_from_or_leaves_them_in_the_document_cache(fresh: Pair) -> None:
    _customers(fresh.primary, "Same Name")
    _customers(fresh.replica, "Same Name")
    with fresh.replica.session() as s:
        s.set_value("Customer", "Same Name", {"notes": "as the replica has it"})
    with fresh.primary.session() as s:
        assert s.get_doc("Customer", "Same Name").notes is None  # read (and kept, with Redis)
    with fresh.primary.report_session() as s:
        assert s.get_doc("Customer", "Same Name").notes == "as the replica has it"
    with fresh.primary.session() as s:
        assert s.get_doc("Customer", "Same Name").notes is None


def _unreachable(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return "sqlite:////nonexistent-folder/replica.db"
    return parsed.set(host="127.0.0.1", port=9).render_as_string(hide_password=False)


def test_replicas_take_turns_and_one_that_is_down_is_skipped(fresh: Pair, caplog: pytest.LogCaptureFixture) -> None:
    _customers(fresh.replica, "On The Replica")
    site = Site(fresh.primary.engine.url.render_as_string(hide_password=False), REPO_ROOT,
                replica_urls=[fresh.replica_url, fresh.replica_url])
    try:
        engines = []
        for _ in range(4):
            with site.report_session() as s:
                engines.append(s.conn.engine)
        assert engines == [*site.replicas.engines, *site.replicas.engines]
    finally:
        site.dispose()
    site = Site(fresh.primary.engine.url.render_as_string(hide_password=False), REPO_ROOT,
                replica_urls=[_unreachable(fresh.replica_url), fresh.replica_url])
    try:
        with caplog.at_level(logging.WARNING, "engine.storage.replicas"):
            for _ in range(2):
                with site.report_session() as s:
                    assert s.get_list("Customer", pluck="name") == ["On The Replica"]
        assert "read replica" in caplog.text and "cannot be reached" in caplog.text
    finally:
        site.dispose()
    site = Site(fresh.primary.engine.url.render_as_string(hide_password=False), REPO_ROOT,
                replica_urls=[_unreachable(fresh.replica_url)])
    try:
        _customers(site, "On The Primary")
        with site.report_session() as s:  # none left: the primary, read-only
            assert s.conn.engine is site.engine and s.get_list("Customer", pluck="name") == ["On The Primary"]
            with pytest.raises(ReadOnlyError):
                s.delete_doc("Customer", "On The Primary")
    finally:
        site.dispose()


def test_replicas_come_from_the_environment_and_must_be_of_the_primarys_kind(
        fresh: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh.primary.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DOCFRAME_REPLICA_URLS", f"{fresh.replica_url}, {fresh.replica_url}")
    site = Site(url, REPO_ROOT)
    try:
        assert len(site.replicas.engines) == 2
    finally:
        site.dispose()
    other = "mysql://root@127.0.0.1:3306/test" if fresh.primary.engine.dialect.name != "mysql" \
        else "postgresql://postgres@127.0.0.1:5432/test"
    monkeypatch.setenv("DOCFRAME_REPLICA_URLS", other)
    with pytest.raises(ValueError, match=r"read replica .* is a .* database, but the primary is"):
        Site(url, REPO_ROOT)


STANDBY = os.environ.get("DOCFRAME_TEST_PG_STANDBY")


def _replayed(primary: Site, standby: sa.Engine, timeout: float = 30.0) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with primary.engine.connect() as conn:
        lsn = conn.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
    deadline = time.monotonic() + timeout
    with standby.connect() as conn:
        while not conn.exec_driver_sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).scalar():
            assert time.monotonic() < deadline, f"the standby did not replay up to {lsn} in {timeout} s"
            conn.rollback()
            time.sleep(0.05)


def test_reports_on_a_real_hot_standby(databases: IsolatedDatabases) -> None:
    """PostgreSQL streaming replication (``.ci/pg-standby`` makes the standby CI uses)."""
    if databases.backend != "postgresql" or not STANDBY:
        pytest.skip("needs DOCFRAME_TEST_PG_STANDBY: a hot standby of the PostgreSQL under test (.ci/pg-standby)")
    primary_url = make_url(databases.new())
    standby = make_url(STANDBY)
    standby_url = primary_url.set(host=standby.host, port=standby.port, database=standby.database)
    site = Site(primary_url.render_as_string(hide_password=False), REPO_ROOT,
                replica_urls=[standby_url.render_as_string(hide_password=False)])
    try:
        site.migrate()
        _customers(site, "Streamed One", "Streamed Two")
        _replayed(site, site.replicas.engines[0])
        with site.report_session() as s:
            assert s.conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar() is True
            assert sorted(s.get_list("Customer", pluck="name")) == ["Streamed One", "Streamed Two"]
            with pytest.raises(ReadOnlyError):
                s.insert("Customer", customer_name="Streamed Three")
            with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):  # the server's own refusal
                s.conn.execute(site.table("Customer").delete())
        _customers(site, "Streamed Three")
        _replayed(site, site.replicas.engines[0])
        ensure_administrator(site, "admin pw")
        with site.session() as s:
            token = "token {}:{}".format(*generate_api_key(s, "Administrator"))
        r = create_app(site, APP_CONFIG).test_client().get(RUN, query_string=REPORT, headers={"Authorization": token})
        assert r.get_json()["message"]["result"] == [{"customer_group": "Default Customer Group", "customers": 3}]
    finally:
        site.dispose()

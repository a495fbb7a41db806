"""The document cache: a document read again costs no statement, and every commit, in any process, ends it at once.

Two Sites on one database with one Redis stand for two web workers: what one
commits (a save, a hook's own SQL, a delete, a rename, SQL outside any session)
is what the other reads next.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import Site, hookimpl
from engine.errors import DoesNotExistError, PermissionError
from engine.site.doc_cache import DocumentCache
from tests.sqltrace import statements

TEST_APP = Path(__file__).resolve().parent.parent / "app"
REDIS = os.environ.get("DOCFRAME_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def workers(site: Site) -> Iterator[Callable[..., Site]]:
    """workers(): another Site on the test database, with its caches on the machine's Redis."""
    made: list[Site] = []
    url = site.engine.url.render_as_string(hide_password=False)

    def make(cache_url: str = REDIS) -> Site:
        worker = Site(url, TEST_APP, cache_url=cache_url)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.dispose()


@pytest.fixture
def two_workers(workers: Callable[..., Site]) -> tuple[Site, Site]:
    """Two workers and a Test Customer "Acme" (two rows, JSON settings) made through the first."""
    one, two = workers(), workers()
    with one.session() as s:
        s.insert("Test Group", group_name="Retail")
        s.insert("Test Customer", customer_name="Acme", visits=1, settings={"tags": ["a"]},
                 rows=[{"item": "bolt", "amount": 2}, {"item": "nut", "amount": 3}])
    return one, two


def read(site: Site, name: str = "Acme", user: str = "Administrator") -> dict:
    with site.session(user) as s:
        return s.get_doc("Test Customer", name).as_dict()


def test_a_document_read_again_costs_no_statement(two_workers: tuple[Site, Site]) -> None:
    _, two = two_workers
    first = read(two)
    with statements(two) as seen:
        again = read(two)
    assert seen == []
    assert again == first
    assert [r["item"] for r in again["rows"]] == ["bolt", "nut"]


def test_a_save_in_one_worker_is_read_by_the_other_at_once(two_workers: tuple[Site, Site]) -> None:
    one, two = two_workers
    read(two)
    with one.session() as s:
        doc = s.get_doc("Test Customer", "Acme")
        doc.visits = 7
        doc.rows[0].amount = 20
        doc.append("rows", {"item": "washer", "amount": 1})
        doc.save()
    doc = read(two)
    assert doc["visits"] == 7
    assert [(r["item"], float(r["amount"])) for r in doc["rows"]] == [("bolt", 20.0), ("nut", 3.0), ("washer", 1.0)]


def test_a_hooks_own_sql_on_child_rows_ends_the_parent_document(two_workers: tuple[Site, Site],
                                                                 register_hook: Callable) -> None:
    """A hook of another doctype updating rows with its own SQL (as the Company's accounts hook does)."""
    one, two = two_workers
    assert [float(r["amount"]) for r in read(two)["rows"]] == [2.0, 3.0]

    class RepriceRows:
        @hookimpl
        def on_update(self, doc, ctx):
            rows = ctx.site.table("Test Customer Row")
            ctx.conn.execute(rows.update().where(rows.c.item == "bolt").values(amount=77))

    plugin = RepriceRows()
    one.hooks.register("Test Group", plugin)
    try:
        with one.session() as s:
            s.set_value("Test Group", "Retail", {"default_rate": 5})
    finally:
        one.hooks.unregister(plugin)
    assert [float(r["amount"]) for r in read(two)["rows"]] == [77.0, 3.0]


def test_sql_outside_any_session_ends_the_entries(two_workers: tuple[Site, Site]) -> None:
    one, two = two_workers
    read(two)
    table = one.table("Test Customer")
    with one.engine.begin() as conn:
        conn.execute(table.update().where(table.c.name == "Acme").values(visits=41))
    assert read(two)["visits"] == 41
    with one.engine.begin() as conn:  # SQL text: may write anything
        conn.exec_driver_sql(f"UPDATE {one.engine.dialect.identifier_preparer.quote(table.name)} SET visits = 42")
    assert read(two)["visits"] == 42


def test_delete_and_rename_are_seen_at_once(two_workers: tuple[Site, Site]) -> None:
    one, two = two_workers
    read(two)
    with one.session() as s:
        s.rename_doc("Test Customer", "Acme", "Acme Ltd")
    with pytest.raises(DoesNotExistError):
        read(two, "Acme")
    assert read(two, "Acme Ltd")["customer_name"] == "Acme"
    with one.session() as s:
        s.delete_doc("Test Customer", "Acme Ltd")
    with pytest.raises(DoesNotExistError):
        read(two, "Acme Ltd")


def test_changing_a_document_read_from_the_cache_leaves_the_cache_alone(two_workers: tuple[Site, Site]) -> None:
    _, two = two_workers
    read(two)
    with two.session() as s:
        doc = s.get_doc("Test Customer", "Acme")
        doc.visits = 99
        doc.rows[0].item = "changed"
        doc.rows.pop()
        doc.settings["tags"].append("b")
    again = read(two)
    assert again["visits"] == 1
    assert [r["item"] for r in again["rows"]] == ["bolt", "nut"]
    assert again["settings"] == {"tags": ["a"]}


def test_a_rolled_back_write_keeps_the_entries(two_workers: tuple[Site, Site]) -> None:
    one, two = two_workers
    read(two)
    with one.session() as s, pytest.raises(RuntimeError), s.atomic():
        s.set_value("Test Customer", "Acme", {"visits": 5})
        raise RuntimeError("rolled back")
    with statements(two) as seen:
        assert read(two)["visits"] == 1
    assert seen == []


def test_reads_inside_a_write_and_for_update_go_to_the_database(two_workers: tuple[Site, Site]) -> None:
    _, two = two_workers
    read(two)
    with two.session() as s:
        with statements(two) as seen:
            s.get_doc("Test Customer", "Acme", for_update=True)
        assert seen
        with s.atomic():
            s.set_value("Test Customer", "Acme", {"visits": 3})
            with statements(two) as seen:
                assert s.get_doc("Test Customer", "Acme").visits == 3  # its own uncommitted write
            assert seen


def test_a_cached_document_is_still_checked_for_each_user(two_workers: tuple[Site, Site]) -> None:
    one, two = two_workers
    with one.session() as s:
        s.insert("User", name="clerk@example.com", email="clerk@example.com")  # no role reads Test Customer
    read(two)
    with pytest.raises(PermissionError):
        read(two, user="clerk@example.com")


def test_without_redis_every_read_goes_to_the_database(two_workers: tuple[Site, Site],
                                                       workers: Callable[..., Site]) -> None:
    one, _ = two_workers
    unreachable = workers("redis://127.0.0.1:1/0")
    for visits in (1, 2):
        with statements(unreachable) as seen:
            assert read(unreachable)["visits"] == visits
        assert seen
        with one.session() as s:
            s.set_value("Test Customer", "Acme", {"visits": visits + 1})


class Versions:
    """Versions in memory, for the cache's own rules."""

    def __init__(self) -> None:
        self.now: dict[str, int] = {}

    def current(self, doctype: str) -> int:
        return self.now.get(doctype, 0)

    def bump(self, doctypes: frozenset[str]) -> None:
        for d in doctypes:
            self.now[d] = self.now.get(d, 0) + 1


def test_entries_expire_and_the_least_recently_used_go_first() -> None:
    clock = [0.0]
    versions = Versions()
    cache = DocumentCache(versions, size=2, max_age=60, clock=lambda: clock[0])  # type: ignore[arg-type]
    for name in ("a", "b"):
        cache.put("T", name, cache.version("T"), {"name": name}, {})
    assert cache.get("T", "a", cache.version("T")) == ({"name": "a"}, {})  # a is now the most recent
    cache.put("T", "c", cache.version("T"), {"name": "c"}, {})
    assert cache.get("T", "b", cache.version("T")) is None
    assert cache.get("T", "a", cache.version("T")) is not None
    cache.committed(frozenset({"T"}))
    assert cache.get("T", "a", cache.version("T")) is None  # another version
    cache.put("T", "a", cache.version("T"), {"name": "a"}, {})
    clock[0] += 61
    assert cache.get("T", "a", cache.version("T")) is None
    assert DocumentCache(None).version("T") is None  # no Redis: nothing is kept
    assert DocumentCache(versions, size=0).version("T") is None  # DOCFRAME_DOC_CACHE_SIZE=0


def test_a_child_doctype_written_alone_counts_for_its_parents(site: Site) -> None:
    heard: list[frozenset[str]] = []
    site.commit_listeners.append(heard.append)
    try:
        rows = site.table("Test Customer Row")
        with site.engine.begin() as conn:
            conn.execute(rows.delete().where(rows.c.item == "nothing"))
            conn.execute(sa.select(site.table("Test Group")))
    finally:
        site.commit_listeners.remove(heard.append)
    assert heard == [frozenset({"Test Customer Row", "Test Customer"})]


def test_a_write_names_only_the_doctypes_it_wrote(site: Site) -> None:
    """Not "*": an insert (its naming counter, its child rows) ends no other doctype's entries."""
    heard: list[frozenset[str]] = []
    site.commit_listeners.append(heard.append)
    try:
        with site.session() as s:
            s.insert("Test Customer", customer_name="Named", rows=[{"item": "bolt"}])
            s.set_value("Test Customer", "Named", {"visits": 2})
    finally:
        site.commit_listeners.remove(heard.append)
    assert heard and all("*" not in doctypes and "Test Customer" in doctypes for doctypes in heard)
    assert set().union(*heard) <= {"Test Customer", "Test Customer Row", "Version"}


def test_a_session_reads_what_its_own_sql_wrote_outside_a_transaction(two_workers: tuple[Site, Site]) -> None:
    _, two = two_workers
    read(two)
    table = two.table("Test Customer")
    with two.session() as s:
        s.conn.execute(table.update().where(table.c.name == "Acme").values(visits=9))
        s.conn.commit()
        assert s.get_doc("Test Customer", "Acme").visits == 9
    assert read(two)["visits"] == 9  # told when the session's connection went back to the pool


def test_an_id_in_other_letter_case_is_cached_and_ended_alike(two_workers: tuple[Site, Site]) -> None:
    one, two = two_workers
    assert read(two, "ACME")["name"] == "Acme"
    with statements(two) as seen:
        assert read(two, "ACME")["name"] == "Acme"
    assert seen == []
    with one.session() as s:
        s.set_value("Test Customer", "Acme", {"visits": 4})
    assert read(two, "ACME")["visits"] == 4


def test_threads_that_come_and_go_share_a_few_redis_connections(two_workers: tuple[Site, Site]) -> None:
    """The development server runs each request on a new thread: the cache must not open a connection each."""
    import threading

    import redis

    _, two = two_workers
    read(two)
    name = two.doc_cache.versions.prefix.replace(":", "-")  # type: ignore[union-attr]
    server = redis.Redis.from_url(REDIS)

    def connections() -> int:
        return sum(c["name"] == name for c in server.client_list())

    before = connections()
    assert before >= 1
    threads = [threading.Thread(target=read, args=(two,)) for _ in range(30)]
    for t in threads:
        t.start()
        t.join()
    assert connections() == before  # the one connection is taken and given back by each thread in turn
    server.close()


def test_a_bad_cache_size_is_refused_by_name(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCFRAME_DOC_CACHE_SIZE", "lots")
    with pytest.raises(ValueError, match=r"DOCFRAME_DOC_CACHE_SIZE must be a whole number .* not 'lots'"):
        Site(site.engine.url.render_as_string(hide_password=False), TEST_APP, cache_url="")
    monkeypatch.setenv("DOCFRAME_DOC_CACHE_SIZE", "0")
    off = Site(site.engine.url.render_as_string(hide_password=False), TEST_APP, cache_url=REDIS)
    try:
        assert not off.doc_cache.enabled
    finally:
        off.dispose()

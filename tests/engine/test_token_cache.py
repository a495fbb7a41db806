"""The API token cache: no database read for a known token, and still immediate revocation in every process.

Two Sites on one database with one Redis stand for two web workers: what one
process commits (a key revoked, a user disabled) ends the other's cached entries.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

import engine.rules.validation
from engine import Site
from engine.errors import AuthenticationError, PermissionError
from engine.site import auth
from engine.site.token_cache import TokenCache
from tests.sqltrace import statements

TEST_APP = Path(__file__).resolve().parent.parent / "app"
REDIS = os.environ.get("DOCFRAME_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine.rules.validation, "_password_hasher", PasswordHasher(time_cost=1, memory_cost=256,
                                                                              parallelism=1))


def following(site: Site) -> Site:
    """``site`` once its token cache follows the Redis epoch (the subscription is confirmed in a moment)."""
    deadline = time.monotonic() + 5
    while site.token_cache.epoch() is None:
        assert time.monotonic() < deadline, "the token cache never subscribed to Redis"
        time.sleep(0.02)
    return site


@pytest.fixture
def workers(site: Site) -> Iterator[Callable[[], Site]]:
    """workers(): another Site on the test database, with the token cache on the machine's Redis."""
    made: list[Site] = []
    url = site.engine.url.render_as_string(hide_password=False)

    def make() -> Site:
        worker = Site(url, TEST_APP, cache_url=REDIS)
        made.append(worker)
        return following(worker)

    yield make
    for worker in made:
        worker.dispose()


@pytest.fixture
def ann_key(workers: Callable[[], Site], fast_hashing: None) -> tuple[Site, Site, str, str]:
    """Two workers and an API key pair of a new user made through the first."""
    one, two = workers(), workers()
    with one.session() as s:
        s.insert("User", name="ann@example.com", email="ann@example.com", full_name="Ann")
        key, secret = auth.generate_api_key(s, "ann@example.com")
    return one, two, key, secret


def test_a_known_token_is_checked_without_the_database(ann_key: tuple[Site, Site, str, str]) -> None:
    _, two, key, secret = ann_key
    assert auth.check_token(two, key, secret) == "ann@example.com"  # read and verified once
    with statements(two) as seen:
        assert auth.check_token(two, key, secret) == "ann@example.com"
    assert seen == []
    with statements(two) as seen, pytest.raises(AuthenticationError):
        auth.check_token(two, key, secret + "x")  # another secret is not the cached one
    assert len(seen) == 1


def test_a_known_token_takes_no_connection(ann_key: tuple[Site, Site, str, str]) -> None:
    """A web request passes a way to get its connection; a cached token never asks for it (no pool checkout)."""
    _, two, key, secret = ann_key
    taken = []

    def request_conn() -> sa.Connection:
        taken.append(two.engine.connect())
        return taken[-1]

    try:
        assert auth.check_token(two, key, secret, conn=request_conn) == "ann@example.com"
        assert len(taken) == 1  # read the user's row on the request's connection
        assert auth.check_token(two, key, secret, conn=request_conn) == "ann@example.com"
        assert len(taken) == 1
    finally:
        for conn in taken:
            conn.close()


def test_revoking_in_one_worker_ends_the_token_in_the_other_at_once(ann_key: tuple[Site, Site, str, str]) -> None:
    one, two, key, secret = ann_key
    assert auth.check_token(two, key, secret) == "ann@example.com"
    assert auth.check_token(two, key, secret) == "ann@example.com"  # now cached in two
    with one.session() as s:
        auth.revoke_api_key(s, "ann@example.com")
    with pytest.raises(AuthenticationError):
        auth.check_token(two, key, secret)


def test_disabling_the_user_elsewhere_ends_the_token_at_once(ann_key: tuple[Site, Site, str, str]) -> None:
    one, two, key, secret = ann_key
    auth.check_token(two, key, secret)
    with one.session() as s:
        s.set_value("User", "ann@example.com", {"enabled": 0})
    with pytest.raises(AuthenticationError, match="disabled"):
        auth.check_token(two, key, secret)
    with one.session() as s:
        s.set_value("User", "ann@example.com", {"enabled": 1})
    assert auth.check_token(two, key, secret) == "ann@example.com"


def test_a_rolled_back_change_keeps_the_cache_and_other_doctypes_do_not_touch_it(
        ann_key: tuple[Site, Site, str, str]) -> None:
    one, two, key, secret = ann_key
    auth.check_token(two, key, secret)
    epoch = two.token_cache.epoch()
    with one.session() as s, pytest.raises(RuntimeError), s.atomic():
        s.set_value("User", "ann@example.com", {"enabled": 0})
        raise RuntimeError("rolled back")
    with one.session() as s:
        s.insert("Test Group", group_name="Not a user")
    assert two.token_cache.epoch() == epoch
    with statements(two) as seen:
        assert auth.check_token(two, key, secret) == "ann@example.com"
    assert seen == []


def test_without_redis_every_check_reads_the_user(site: Site, fast_hashing: None) -> None:
    with site.session() as s:
        s.insert("User", name="bo@example.com", email="bo@example.com")
        key, secret = auth.generate_api_key(s, "bo@example.com")
    unreachable = Site(site.engine.url.render_as_string(hide_password=False), TEST_APP,
                       cache_url="redis://127.0.0.1:1/0")
    try:
        for _ in range(2):
            with statements(unreachable) as seen:
                assert auth.check_token(unreachable, key, secret) == "bo@example.com"
            assert len(seen) == 1
        assert unreachable.token_cache.epoch() is None
    finally:
        unreachable.dispose()


def test_entries_expire_after_max_age() -> None:
    now = [100.0]
    cache = TokenCache(None, max_age=60, clock=lambda: now[0])
    cache.remember("k", "s", "e1", "ann")
    assert cache.user("k", "s", "e1") == "ann"
    assert cache.user("k", "s", "e2") is None  # another epoch
    now[0] += 61
    assert cache.user("k", "s", "e1") is None


def test_a_users_roles_are_read_once_per_process_and_a_change_is_seen_at_once(
        workers: Callable[[], Site]) -> None:
    """The roles behind every permission check are kept under the auth epoch too: a role given or taken
    away in one worker decides the very next request in the other."""
    one, two = workers(), workers()
    with one.session() as s:
        if not s.exists("Role", "System Manager"):
            s.insert("Role", name="System Manager")
        s.insert("User", name="cy@example.com", email="cy@example.com")
        s.insert("Test Group", group_name="Retail")
    with two.session("cy@example.com") as s, pytest.raises(PermissionError):
        s.get_doc("Test Group", "Retail")
    with one.session() as s:
        user = s.get_doc("User", "cy@example.com")
        user.append("roles", {"role": "System Manager"})
        user.save()
    with two.session("cy@example.com") as s:
        assert s.get_doc("Test Group", "Retail").name == "Retail"
    with statements(two) as seen, two.session("cy@example.com") as s:
        assert "System Manager" in s.roles()
    assert seen == []  # no User or Has Role read
    with one.session() as s:
        user = s.get_doc("User", "cy@example.com")
        user.roles = []
        user.save()
    with two.session("cy@example.com") as s, pytest.raises(PermissionError):
        s.get_doc("Test Group", "Retail")

"""Login and API-secret rate limits: 429 with Retry-After before any password hashing,
per user, per API key and per client address, with counters in memory or in Redis.

Each test runs on both storages; the Redis ones use a key prefix of their own (so
parallel runs never share counters) and delete their keys afterwards.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import engine.site.auth
from engine.site.auth import generate_api_key, set_password
from engine.web import create_app
from engine.web.ratelimit import EXTENSION_KEY
from tests.web.conftest import ADMIN_PASSWORD, APP_CONFIG, WebEnv

REDIS_URL = os.environ.get("DOCFRAME_REDIS_URL") or "redis://127.0.0.1:6379/0"
LOGIN = "/api/method/login"
ADDRESS_A, ADDRESS_B = "192.0.2.10", "192.0.2.20"  # documentation addresses: only strings in the WSGI environ
LIMITS = {
    "RATELIMIT_LOGIN_FAILURES_PER_USER": "2 per 10 minutes",
    "RATELIMIT_LOGIN_PER_IP": "6 per minute",
    "RATELIMIT_TOKEN_FAILURES_PER_KEY": "2 per 10 minutes",
    "RATELIMIT_TOKEN_FAILURES_PER_IP": "3 per minute",
}


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is unreachable ({exc}); the memory:// variant still runs")


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> dict[str, str]:
    """Config naming the rate-limit storage; Redis under a prefix unique to this test."""
    if request.param == "memory":
        return {"RATELIMIT_STORAGE_URI": "memory://"}
    _redis_or_skip()
    return {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": f"docframe-test-{uuid.uuid4().hex}"}


@pytest.fixture
def make_app(web: WebEnv, storage: dict[str, str]) -> Iterator[Callable[..., Flask]]:
    """make_app(**config): an app (a worker) on the test's site with small limits and the test's storage."""
    apps: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = create_app(web.site, {**APP_CONFIG, **LIMITS, **storage, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions[EXTENSION_KEY].storage.reset()  # Redis: only this test's prefix


def _client(app: Flask, address: str = ADDRESS_A) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _add_user(web: WebEnv, email: str, password: str) -> None:
    with web.site.session() as s:
        s.insert("User", name=email, email=email, full_name=email, roles=[{"role": "System Manager"}])
        set_password(s, email, password)


def _login(client: FlaskClient, usr: str, pwd: str, url: str = LOGIN) -> TestResponse:
    return client.post(url, data={"usr": usr, "pwd": pwd})


def _assert_limited(r: TestResponse, window: int) -> None:
    assert r.status_code == 429, r.get_json()
    assert 1 <= int(r.headers["Retry-After"]) <= window
    body = r.get_json()
    assert body["exc_type"] == "RateLimitExceededError"
    assert body["exception"].startswith("frappe.exceptions.RateLimitExceededError: Too many")
    assert json.loads(body["exc"]) == [body["exception"]]
    (message,) = json.loads(body["_server_messages"])
    assert json.loads(message)["message"] in body["exception"]


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the Argon2 verifications engine.site.auth runs (the real check still runs)."""
    calls: list[int] = []
    real = engine.site.auth.verify_password

    def counting(stored: str | None, plain: str) -> bool:
        calls.append(1)
        return real(stored, plain)

    monkeypatch.setattr(engine.site.auth, "verify_password", counting)
    return calls


# ------------------------------------------------------------------ logins


@pytest.mark.parametrize("usr", ["ann@example.com", "nobody@example.com"])
def test_failed_logins_of_a_user_get_429_before_any_password_check(
        web: WebEnv, make_app: Callable[..., Flask], argon2_checks: list[int], usr: str) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    client = _client(make_app())
    for _ in range(2):
        assert _login(client, usr, "wrong").status_code == 401
    assert len(argon2_checks) == 2
    # an unknown user is limited exactly like a known one: the answer tells nothing
    _assert_limited(_login(client, usr, "ann-pass-1"), 600)
    _assert_limited(_login(client, usr.upper(), "wrong"), 600)
    r = _login(client, usr, "ann-pass-1", "/api/v2/method/login")  # v2 has its own error body
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1, r.get_json()
    assert r.get_json()["errors"][0]["type"] == "RateLimitExceededError"
    r = client.post("/", data={"cmd": "login", "usr": usr, "pwd": "ann-pass-1"})  # legacy form
    _assert_limited(r, 600)
    assert len(argon2_checks) == 2  # refused before hashing: an attacker burns no CPU
    assert client.get("/api/method/frappe.auth.get_logged_user").status_code == 401  # no session started


def test_other_users_and_addresses_are_not_blocked_by_a_users_failures(
        web: WebEnv, make_app: Callable[..., Flask]) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    app = make_app()
    here, elsewhere = _client(app, ADDRESS_A), _client(app, ADDRESS_B)
    for _ in range(2):
        assert _login(here, "ann@example.com", "wrong").status_code == 401
    _assert_limited(_login(here, "ann@example.com", "ann-pass-1"), 600)
    assert _login(here, "Administrator", ADMIN_PASSWORD).status_code == 200  # same address, other user
    assert here.get("/api/method/frappe.auth.get_logged_user").get_json() == {"message": "Administrator"}
    _assert_limited(_login(elsewhere, "ann@example.com", "ann-pass-1"), 600)  # the user, from anywhere


def test_login_attempts_per_address(web: WebEnv, make_app: Callable[..., Flask]) -> None:
    app = make_app(RATELIMIT_LOGIN_PER_IP="3 per minute")
    here, elsewhere = _client(app, ADDRESS_A), _client(app, ADDRESS_B)
    assert _login(here, "Administrator", ADMIN_PASSWORD).status_code == 200  # every attempt counts
    for name in ("a@example.com", "b@example.com"):  # different users: no per-user limit reached
        assert _login(here, name, "wrong").status_code == 401
    _assert_limited(_login(here, "Administrator", ADMIN_PASSWORD), 60)
    assert _login(elsewhere, "Administrator", ADMIN_PASSWORD).status_code == 200


def test_a_successful_login_clears_the_users_failures(web: WebEnv, make_app: Callable[..., Flask]) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    client = _client(make_app())
    assert _login(client, "ann@example.com", "wrong").status_code == 401
    assert _login(client, "ann@example.com", "ann-pass-1").status_code == 200
    for _ in range(2):
        assert _login(client, "ann@example.com", "wrong").status_code == 401
    _assert_limited(_login(client, "ann@example.com", "wrong"), 600)


def test_the_limit_lifts_when_its_window_has_passed(web: WebEnv, make_app: Callable[..., Flask]) -> None:
    client = _client(make_app(RATELIMIT_LOGIN_FAILURES_PER_USER="1 per 2 seconds"))
    assert _login(client, "Administrator", "wrong").status_code == 401
    r = _login(client, "Administrator", ADMIN_PASSWORD)
    _assert_limited(r, 2)
    time.sleep(int(r.headers["Retry-After"]) + 0.1)
    assert _login(client, "Administrator", ADMIN_PASSWORD).status_code == 200


def test_limits_can_be_switched_off(web: WebEnv, make_app: Callable[..., Flask]) -> None:
    client = _client(make_app(RATELIMIT_ENABLED=False, RATELIMIT_LOGIN_FAILURES_PER_USER="1 per minute"))
    for _ in range(2):
        assert _login(client, "Administrator", "wrong").status_code == 401
    assert _login(client, "Administrator", ADMIN_PASSWORD).status_code == 200


# ------------------------------------------------------------------ API secrets


def test_wrong_api_secrets_are_limited_per_key_and_address(
        web: WebEnv, make_app: Callable[..., Flask], argon2_checks: list[int]) -> None:
    _add_user(web, "bob@example.com", "bob-pass-1")
    with web.site.session() as s:
        key, secret = generate_api_key(s, "bob@example.com")
    app = make_app()
    here, elsewhere = _client(app, ADDRESS_A), _client(app, ADDRESS_B)
    who = "/api/method/frappe.auth.get_logged_user"
    assert here.get(who, headers=web.token).get_json() == {"message": "Administrator"}
    for _ in range(2):
        assert here.get(who, headers={"Authorization": f"token {key}:wrong"}).status_code == 401
    checks = len(argon2_checks)
    _assert_limited(elsewhere.get(who, headers={"Authorization": f"token {key}:{secret}"}), 600)  # the key
    assert len(argon2_checks) == checks  # refused before hashing
    assert here.get(who, headers=web.token).get_json() == {"message": "Administrator"}  # other keys work
    # the address: wrong secrets of any keys (known or not)
    for n in range(3):
        assert elsewhere.get(who, headers={"Authorization": f"token unknown{n}:wrong"}).status_code == 401
    _assert_limited(elsewhere.get(who, headers={"Authorization": "token unknown9:wrong"}), 60)
    # a secret this worker has verified costs no hashing, so it is not held back
    assert elsewhere.get(who, headers=web.token).get_json() == {"message": "Administrator"}


# ------------------------------------------------------------------ across workers


def test_workers_share_the_counters_through_redis(web: WebEnv) -> None:
    _redis_or_skip()
    config = {**APP_CONFIG, **LIMITS, "RATELIMIT_STORAGE_URI": REDIS_URL,
              "RATELIMIT_KEY_PREFIX": f"docframe-test-{uuid.uuid4().hex}"}
    worker_a, worker_b = create_app(web.site, config), create_app(web.site, config)
    try:
        for _ in range(2):
            assert _login(_client(worker_a), "Administrator", "wrong").status_code == 401
        _assert_limited(_login(_client(worker_b), "Administrator", ADMIN_PASSWORD), 600)
    finally:
        worker_a.extensions[EXTENSION_KEY].storage.reset()


def test_an_unreachable_store_fails_closed_with_503_and_sessions_keep_working(web: WebEnv) -> None:
    app = create_app(web.site, {**APP_CONFIG, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})  # nothing listens
    r = _login(_client(app), "Administrator", ADMIN_PASSWORD)
    assert r.status_code == 503, r.get_json()
    assert r.get_json()["exc_type"] == "ServiceUnavailableError" and "rate-limit store" in r.get_json()["exception"]
    assert web.client.get("/api/method/ping", headers=web.token).status_code == 200  # verifies the secret once
    r = _client(app).get("/api/method/frappe.auth.get_logged_user", headers=web.token)  # no check again
    assert r.status_code == 200
    client = _client(app)
    client.set_cookie("sid", web.client.get_cookie("sid").value)
    assert client.get("/api/method/frappe.auth.get_logged_user").get_json() == {"message": "Administrator"}


def test_behind_a_trusted_proxy_the_forwarded_address_counts(web: WebEnv) -> None:
    app = create_app(web.site, {**APP_CONFIG, **LIMITS, "RATELIMIT_STORAGE_URI": "memory://",
                                "RATELIMIT_LOGIN_PER_IP": "2 per minute", "TRUSTED_PROXIES": 1})
    proxy = _client(app, "10.0.0.1")  # every request arrives from the proxy
    for _ in range(2):
        r = proxy.post(LOGIN, data={"usr": "x@example.com", "pwd": "x"}, headers={"X-Forwarded-For": ADDRESS_A})
        assert r.status_code == 401
    r = proxy.post(LOGIN, data={"usr": "y@example.com", "pwd": "x"}, headers={"X-Forwarded-For": ADDRESS_A})
    _assert_limited(r, 60)
    r = proxy.post(LOGIN, data={"usr": "Administrator", "pwd": ADMIN_PASSWORD},
                   headers={"X-Forwarded-For": ADDRESS_B})
    assert r.status_code == 200  # another client behind the same proxy is not blocked

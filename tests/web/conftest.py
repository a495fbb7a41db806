"""Fixtures for the REST API tests: the bundled app on the configured database, behind Flask's test client.

- ``web_site``: session-scoped Site on the bundled app (repo root), migrated on its own database.
- ``web``: a :class:`WebEnv` for one test: the app, a test client logged in as Administrator
  (cookie session), ``anon()`` for a client without one, and Administrator's API key pair.
  After the test every table is emptied (but Administrator and the run's login session,
  restored even if the test logged it out) and the standard records re-installed.

Argon2 makes each password or API-secret check cost a few hundred ms, so the Administrator's
password and key are set once per run, and most tests use the cookie session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Site, hookimpl
from engine.rules.permissions import ADMINISTRATOR
from engine.site.auth import ensure_administrator, generate_api_key
from engine.site.fixtures import install_fixtures
from engine.storage.schema import AUTH_SESSION_TABLE
from engine.web import create_app

if TYPE_CHECKING:
    from tests.conftest import IsolatedDatabases

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
ADMIN_PASSWORD = "admin-test-password"
# Rate-limit counters in the app's memory (never a Redis named by the environment): each test's app starts afresh.
APP_CONFIG = {"SECRET_KEY": "test-secret", "TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"}


@dataclass
class WebEnv:
    site: Site
    app: Flask
    client: FlaskClient  # logged in as Administrator
    api_key: str
    api_secret: str

    def anon(self) -> FlaskClient:
        """A client without a session cookie."""
        return self.app.test_client()

    @property
    def token(self) -> dict[str, str]:
        """Headers with Frappe's token authorization for Administrator."""
        return {"Authorization": f"token {self.api_key}:{self.api_secret}"}


@dataclass(frozen=True)
class RunLogin:
    """What every test of the run shares: Administrator's API key pair and login session."""

    api_key: str
    api_secret: str
    cookie: str
    session_row: dict[str, Any]  # the login's row of the session table, restored after each test


@pytest.fixture(scope="session")
def web_site_keys(databases: IsolatedDatabases) -> Iterator[tuple[Site, RunLogin]]:
    """The migrated site, with Administrator's password set, an API key pair and a session cookie."""
    site = Site(databases.new(), REPO_ROOT)
    site.migrate()
    ensure_administrator(site, ADMIN_PASSWORD)
    with site.session() as s:
        key, secret = generate_api_key(s, ADMINISTRATOR)
    client = create_app(site, APP_CONFIG).test_client()
    r = client.post("/api/method/login", data={"usr": ADMINISTRATOR, "pwd": ADMIN_PASSWORD})
    assert r.status_code == 200, r.get_json()
    cookie = client.get_cookie("sid")
    assert cookie is not None
    sessions = site.metadata.tables[AUTH_SESSION_TABLE]
    with site.engine.connect() as conn:
        (row,) = conn.execute(sessions.select()).mappings().all()
    yield site, RunLogin(key, secret, cookie.value, dict(row))
    site.dispose()


def clear_but_administrator(site: Site, login: RunLogin | None = None) -> None:
    """Empty every table but keep the Administrator user (and its roles) and the run's login session."""
    users, roles = site.table("User"), site.table("Has Role")
    sessions = site.metadata.tables[AUTH_SESSION_TABLE]
    with site.engine.begin() as conn:
        for table in reversed(site.metadata.sorted_tables):
            if table is users:
                conn.execute(table.delete().where(table.c.name != ADMINISTRATOR))
            elif table is roles:
                conn.execute(table.delete().where(table.c.parent != ADMINISTRATOR))
            else:
                conn.execute(table.delete())
        if login is not None:
            conn.execute(sessions.insert().values(login.session_row))


@pytest.fixture
def web(web_site_keys: tuple[Site, RunLogin]) -> Iterator[WebEnv]:
    site, login = web_site_keys
    app = create_app(site, APP_CONFIG)
    client = app.test_client()
    client.set_cookie("sid", login.cookie)  # the run's login session
    yield WebEnv(site, app, client, login.api_key, login.api_secret)
    clear_but_administrator(site, login)
    with site.session(ignore_permissions=True) as seed:
        install_fixtures(seed)


class _BrokenValidate:
    @hookimpl
    def validate(self, doc: object, ctx: object) -> None:
        raise RuntimeError("secret internals")


@pytest.fixture
def broken_price_list(web: WebEnv) -> Iterator[None]:
    """Saving a Price List fails with an unexpected error (its text must never reach the client)."""
    plugin = _BrokenValidate()
    web.site.hooks.register("Price List", plugin)
    try:
        yield
    finally:
        web.site.hooks.unregister(plugin)

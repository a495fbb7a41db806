"""Fixtures for the REST API tests: the bundled app on the configured database, behind Flask's test client.

- ``web_site``: session-scoped Site on the bundled app (repo root), migrated on its own database.
- ``web``: a :class:`WebEnv` for one test: the app, a test client logged in as Administrator
  (cookie session), ``anon()`` for a client without one, and Administrator's API key pair.
  After the test every table is emptied (but Administrator) and the standard records re-installed.

Argon2 makes each password or API-secret check cost a few hundred ms, so the Administrator's
password and key are set once per run, and most tests use the cookie session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Site
from engine.auth import ensure_administrator, generate_api_key
from engine.fixtures import install_fixtures
from engine.permissions import ADMINISTRATOR
from engine.web import create_app

if TYPE_CHECKING:
    from tests.conftest import IsolatedDatabases

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
ADMIN_PASSWORD = "admin-test-password"
APP_CONFIG = {"SECRET_KEY": "test-secret", "TESTING": True}


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


@pytest.fixture(scope="session")
def web_site_keys(databases: IsolatedDatabases) -> Iterator[tuple[Site, str, str, str]]:
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
    yield site, key, secret, cookie.value
    site.dispose()


def _clear(site: Site) -> None:
    """Empty every table but keep the Administrator user (and its roles)."""
    users, roles = site.table("User"), site.table("Has Role")
    with site.engine.begin() as conn:
        for table in reversed(site.metadata.sorted_tables):
            if table is users:
                conn.execute(table.delete().where(table.c.name != ADMINISTRATOR))
            elif table is roles:
                conn.execute(table.delete().where(table.c.parent != ADMINISTRATOR))
            else:
                conn.execute(table.delete())


@pytest.fixture
def web(web_site_keys: tuple[Site, str, str, str]) -> Iterator[WebEnv]:
    site, key, secret, cookie = web_site_keys
    app = create_app(site, APP_CONFIG)
    client = app.test_client()
    client.set_cookie("sid", cookie)  # the run's login (same SECRET_KEY)
    yield WebEnv(site, app, client, key, secret)
    _clear(site)
    install_fixtures(site)

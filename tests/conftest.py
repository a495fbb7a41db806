"""Fixtures: a real database per test run, isolated so reruns never collide.

``DOCFRAME_TEST_DB`` selects the server: unset for SQLite (a temporary file),
or a PostgreSQL / MariaDB URL. On a server each run creates its own schema
(PostgreSQL) or database (MariaDB) and drops it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from engine import Site
from engine.storage.db import normalize_url

TEST_APP = Path(__file__).parent / "app"
REPO_ROOT = Path(__file__).parent.parent


class IsolatedDatabases:
    """Creates throw-away databases on the configured server and drops them at exit."""

    def __init__(self, base_url: str | None, tmp: Path):
        self.base_url = normalize_url(base_url) if base_url else None
        self.tmp = tmp
        self.created: list[str] = []

    @property
    def backend(self) -> str:
        return make_url(self.base_url).get_backend_name() if self.base_url else "sqlite"

    def new(self) -> str:
        label = f"dftest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        if self.base_url is None:
            return f"sqlite:///{self.tmp / (label + '.db')}"
        url = make_url(self.base_url)
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if self.backend == "postgresql":
                conn.exec_driver_sql(f'CREATE SCHEMA "{label}"')
                new = url.update_query_dict({"options": f"-csearch_path={label}"})
            else:
                conn.exec_driver_sql(f"CREATE DATABASE `{label}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
                new = url.set(database=label)
        engine.dispose()
        self.created.append(label)
        return new.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if self.base_url is None or not self.created:
            return
        engine = sa.create_engine(self.base_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for label in self.created:
                if self.backend == "postgresql":
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{label}" CASCADE')
                else:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{label}`")
        engine.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IsolatedDatabases]:
    dbs = IsolatedDatabases(os.environ.get("DOCFRAME_TEST_DB"), tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def backend(databases: IsolatedDatabases) -> str:
    return databases.backend


@pytest.fixture(scope="session")
def migrated_site(databases: IsolatedDatabases) -> Iterator[Site]:
    site = Site(databases.new(), TEST_APP)
    site.migrate()
    yield site
    site.dispose()


def _clear(site: Site) -> None:
    with site.engine.begin() as conn:
        for table in reversed(site.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def site(migrated_site: Site) -> Iterator[Site]:
    """The test app on a migrated database, emptied after each test."""
    yield migrated_site
    _clear(migrated_site)


@pytest.fixture
def session(site: Site) -> Iterator:
    with site.session() as s:
        yield s


@pytest.fixture
def register_hook(site: Site) -> Iterator[Callable[[str | None, object], object]]:
    """register_hook(doctype or None, plugin): registered for this test only."""
    registered: list[object] = []

    def register(doctype: str | None, plugin: object) -> object:
        site.hooks.register(doctype, plugin)
        registered.append(plugin)
        return plugin

    yield register
    for plugin in registered:
        site.hooks.unregister(plugin)


@pytest.fixture
def new_database(databases: IsolatedDatabases) -> Callable[[], str]:
    """A factory of fresh, empty database URLs (for migration and CLI tests)."""
    return databases.new


@pytest.fixture
def open_site(new_database: Callable[[], str]) -> Iterator[Callable[..., Site]]:
    """open_site(app_dir, url=None): a Site on a fresh database (or the given one); disposed after the test."""
    sites: list[Site] = []

    def make(app_dir: Path, url: str | None = None) -> Site:
        site = Site(url or new_database(), app_dir)
        sites.append(site)
        return site

    yield make
    for s in sites:
        s.dispose()

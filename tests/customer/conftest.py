"""Fixtures for the customer-master tests: the bundled app (repo root) on its own database.

- ``cm_site``: session-scoped :class:`engine.Site` on the bundled app, migrated on a
  fresh isolated database (``databases.new()``); migrate installs the standard records
  of ``fixtures/*.yaml`` (roles, tree roots, "Standard Selling").
- ``cm``: a Session on that site; after each test every table is emptied and the
  standard records are installed again, so each test starts from the same state.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from engine import Site
from engine.documents.hooks import _import_package
from engine.site.fixtures import install_fixtures
from engine.site.session import Session

if TYPE_CHECKING:
    from tests.conftest import IsolatedDatabases

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def clear_tables(site: Site) -> None:
    """Delete every row of every table (children first)."""
    with site.engine.begin() as conn:
        for table in reversed(site.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def cm_site(databases: IsolatedDatabases) -> Iterator[Site]:
    """The bundled app, migrated (schema and standard records) on its own database."""
    site = Site(databases.new(), REPO_ROOT)
    site.migrate()
    yield site
    site.dispose()


@pytest.fixture
def cm(cm_site: Site) -> Iterator[Session]:
    """A Session with only the standard records; emptied and re-seeded after the test."""
    with cm_site.session() as s:
        yield s
    clear_tables(cm_site)
    with cm_site.session(ignore_permissions=True) as seed:
        install_fixtures(seed)


def app_module(name: str) -> ModuleType:
    """A private module of the app's hooks folder (e.g. ``_selling``), as the site loads it."""
    return importlib.import_module(f"{_import_package(REPO_ROOT / 'hooks')}.{name}")


@pytest.fixture
def selling(cm_site: Site) -> ModuleType:
    """hooks/_selling.py: price list chain, due date, credit limit, invoiceable, picker filters."""
    return app_module("_selling")


@pytest.fixture
def books(cm: Session) -> Session:
    """A company (with its chart), items priced in the standard list, and customer Acme with a limit of 1,000."""
    cm.insert("Company", company_name="Docframe Inc", abbr="DI", default_currency="USD")
    cm.set_value("Price List", "Standard Selling", {"currency": "USD"})
    cm.insert("Item Group", item_group_name="Products", parent_item_group="All Item Groups")
    for code, rate in (("WIDGET", 100), ("GADGET", 250)):
        cm.insert("Item", item_code=code, item_name=code.title(), item_group="Products")
        cm.insert("Item Price", item_code=code, price_list="Standard Selling", price_list_rate=rate)
    cm.insert("Customer", customer_name="Acme", company="Docframe Inc", payment_deadline="Fixed days", credit_days=30,
              credit_limits=[{"company": "Docframe Inc", "credit_limit": 1000}])
    return cm

"""Standalone Django configuration for the baseline (no project files).

Every query goes to the database alias of the backend being measured
(:class:`Router`), so one process can measure SQLite and PostgreSQL in turn.
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings
from django.db.backends.signals import connection_created


class Router:
    """Sends every model to the alias being measured (the list model to its list alias)."""

    alias = "default"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return f"{self.alias}_list" if model._meta.model_name == "listcustomer" else self.alias

    db_for_write = db_for_read

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return False


def _sqlite_pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Same SQLite settings as docframe and the Core floor: WAL, synchronous=NORMAL."""
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")


def configure(databases: dict[str, dict[str, Any]]) -> None:
    """Configure Django once per process with the given DATABASES aliases."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        USE_TZ=False,
        DATABASES={"default": {}, **databases},
        DATABASE_ROUTERS=[Router()],
        INSTALLED_APPS=["bench.django_baseline.apps.BaselineConfig"],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    connection_created.connect(_sqlite_pragmas)

"""Where each system's data lives, isolated per run and removed afterwards.

SQLite: one file per system in a temporary folder (the 1M-row list table is a file
cached in ``bench/.cache/``). PostgreSQL: one schema per system on the given server,
created for this run and dropped at the end (like ``tests/conftest.py``).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, CreateTable

from bench import workload
from engine.storage.db import normalize_url

ROLES = ("docframe", "core", "django", "list", "customer")  # customer: the customer master app (issue 3)


@dataclass
class Backend:
    """The databases of one backend: a URL per role, Django settings, and clean-up."""

    name: str  # "sqlite" or "postgresql"
    urls: dict[str, str]
    django: dict[str, dict[str, Any]]  # role -> Django DATABASES entry (roles "django" and "list")
    _tmp: Path | None = None
    _server: str | None = None
    _schemas: list[str] = field(default_factory=list)

    def cleanup(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        if self._server and self._schemas:
            engine = sa.create_engine(self._server, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                for schema in self._schemas:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            engine.dispose()


def sqlite_backend(list_file: Path) -> Backend:
    tmp = Path(tempfile.mkdtemp(prefix="dfbench_"))
    urls = {role: f"sqlite:///{tmp / (role + '.db')}" for role in ROLES if role != "list"}
    urls["list"] = f"sqlite:///{list_file}"
    django = {
        "django": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp / "django.db")},
        "list": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(list_file)},
    }
    return Backend("sqlite", urls, django, _tmp=tmp)


def postgresql_backend(url: str) -> Backend:
    """Schemas ``dfbench_<pid>_<random>_<role>`` on the server at ``url``."""
    server = normalize_url(url)
    parsed = make_url(server)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"--pg needs a postgresql:// URL, not {url!r}")
    label = f"dfbench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    backend = Backend("postgresql", {}, {}, _server=server)
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for role in ROLES:
                schema = f"{label}_{role}"
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
                backend._schemas.append(schema)
                backend.urls[role] = parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                    hide_password=False)
    finally:
        engine.dispose()
    for role in ("django", "list"):
        backend.django[role] = {
            "ENGINE": "django.db.backends.postgresql", "NAME": parsed.database or "postgres",
            "USER": parsed.username or "", "PASSWORD": parsed.password or "",
            "HOST": parsed.host or "", "PORT": str(parsed.port or ""),
            "OPTIONS": {"options": f"-c search_path={label}_{role}"},
        }
    return backend


def schema_fingerprint(metadata: sa.MetaData, dialect: sa.Dialect, rows: int) -> str:
    """A key for the cached list table: the DDL, the row generator's code and the size."""
    h = hashlib.sha256()
    for table in metadata.sorted_tables:
        h.update(str(CreateTable(table).compile(dialect=dialect)).encode())
        for ix in sorted(table.indexes, key=lambda i: i.name or ""):
            h.update(str(CreateIndex(ix).compile(dialect=dialect)).encode())
    h.update(inspect.getsource(workload.list_row).encode())
    h.update(str(rows).encode())
    return h.hexdigest()[:12]

"""A Site: one app (doctypes, hooks, templates) on one database.

Built by a factory from a folder and a URL. It is the app's
:class:`~engine.storage.store.Store` (metadata, compiled tables, the SQLAlchemy
engine and their caches) plus the app's hook registry, and it hands out Sessions.
Nothing is created at import time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.documents.hooks import HookRegistry
from engine.metadata.app import App, bundled_app_dir, load_app_doctypes
from engine.rules import permissions
from engine.site import jobs
from engine.site.doc_cache import make_doc_cache
from engine.site.fixtures import install_fixtures
from engine.site.session import Session
from engine.site.token_cache import VerifiedSecrets, make_token_cache
from engine.storage import sync
from engine.storage.replicas import parse_urls
from engine.storage.store import Store
from engine.storage.unit import SharedValues


class Site(Store):
    """The engine for one app and one database."""

    def __init__(self, db_url: str | None = None, app_dir: Path | str | None = None, *,
                 files_dir: Path | str | None = None, queue_url: str | None = None, cache_url: str | None = None,
                 replica_urls: Sequence[str] | None = None, **engine_kwargs: Any):
        """``files_dir``: where uploaded files are kept (default: env ``DOCFRAME_FILES_DIR``, else
        beside a SQLite database file, else in the system's temporary folder); ``queue_url``:
        the Redis of the background job queue (default: env ``DOCFRAME_QUEUE_URL``; none: jobs
        run on a thread of this process), see :mod:`engine.site.jobs`; ``cache_url``: the Redis
        whose auth epoch lets API token checks skip the database and whose doctype versions
        let reads by ID be served from this process's memory (default: env
        ``DOCFRAME_REDIS_URL``; ``""`` or none: every check and read goes to the database), see
        :mod:`engine.site.token_cache` and :mod:`engine.site.doc_cache` (its size: env
        ``DOCFRAME_DOC_CACHE_SIZE``, documents per process, default 4096; 0 turns it off);
        ``replica_urls``: read replicas of the database that reports read (default: env
        ``DOCFRAME_REPLICA_URLS``, separated by commas or spaces), see :meth:`report_session`."""
        app = App(Path(app_dir).resolve() if app_dir else bundled_app_dir())
        if replica_urls is None:
            replica_urls = parse_urls(os.environ.get("DOCFRAME_REPLICA_URLS"))
        super().__init__(app, load_app_doctypes(app.root), db_url, replica_urls=replica_urls, **engine_kwargs)
        self.hooks = HookRegistry(self.doctypes)
        self.hooks.load_folder(app.hooks_dir)
        self.verified_secrets = VerifiedSecrets()  # API secrets already checked (engine.site.auth)
        if cache_url is None:
            cache_url = os.environ.get("DOCFRAME_REDIS_URL")
        self.token_cache = make_token_cache(cache_url or None, jobs.site_key(self))
        self.commit_listeners.append(self.token_cache.committed)
        self.doc_cache = make_doc_cache(cache_url or None, jobs.site_key(self), size=_doc_cache_size())
        self.commit_listeners.append(self.doc_cache.committed)
        self.files_dir = Path(files_dir or os.environ.get("DOCFRAME_FILES_DIR") or _default_files_dir(self.engine.url))
        self.jobs = jobs.make_queue(self, queue_url or os.environ.get("DOCFRAME_QUEUE_URL") or None,
                                    os.environ.get("DOCFRAME_QUEUE_NAME") or None)

    def session(self, user: str = "Administrator", *, conn: sa.Connection | None = None, **flags: Any) -> Session:
        """A Session for ``user`` with ``flags`` (e.g. ``ignore_permissions=True``).

        ``conn``: a connection for the session to use (and close), e.g. the one a web
        request checked its credentials on.
        """
        return Session(self, self.hooks, user, flags, conn, self.doc_cache, self._shared_auth())

    def _shared_auth(self) -> SharedValues | None:
        """The token cache, as the values about users sessions share, when it has an auth epoch (Redis)."""
        return self.token_cache if self.token_cache.epoch_source is not None else None

    def report_session(self, user: str = "Administrator", *, primary: Session | None = None,
                       **flags: Any) -> Session:
        """A Session for ``user`` that only reads: a read replica's, in turn, else the primary's.

        For reports, as Frappe's ``read_only`` methods. It cannot write (``ReadOnlyError``),
        replicas or not, so a report that writes fails on a developer's machine too. On a
        replica, what it reads may lag the primary by the replication delay; the user's
        roles are still read on the primary (from ``primary``, e.g. the request's session,
        else a session of its own), so a role taken away counts at once; and no document
        cache: a lagging read must not be kept as current.
        """
        if not self.replicas:
            session = Session(self, self.hooks, user, flags, None, self.doc_cache, self._shared_auth(), self.engine)
            if primary is not None:
                permissions.carry_user_context(primary, session)
            return session
        engine, conn = self.replicas.connect()
        session = Session(self, self.hooks, user, flags, conn, None, None, engine)
        if primary is not None:
            permissions.carry_user_context(primary, session)
        else:
            with self.session(user, **flags) as own:
                permissions.carry_user_context(own, session)
        return session

    def dispose(self) -> None:
        """Wait for this process's running jobs, then close the database connections."""
        self.jobs.close()
        self.token_cache.close()
        self.doc_cache.close()
        super().dispose()

    def migrate(self, *, dry_run: bool = False, force: bool = False, drop_removed: bool = False) -> sync.Plan:
        """Bring the schema in line with the YAML, then install the app's missing standard records.

        ``drop_removed``: also drop the columns of removed fields that still hold values (kept
        otherwise). Returns the Plan; ``plan.installed`` lists the standard records installed (with
        ``dry_run``: the ones that would be), see :mod:`engine.site.fixtures`.
        """
        plan = sync.migrate(self, dry_run=dry_run, force=force, drop_removed=drop_removed)
        with self.session(ignore_permissions=True) as session:
            plan.installed = install_fixtures(session, dry_run=dry_run)
        return plan


def _default_files_dir(url: sa.URL) -> Path:
    """Beside a SQLite file (``site.db`` keeps its files in ``site.files``), else a folder per database."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().with_suffix(".files")  # type: ignore[arg-type]
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"docframe-files-{digest}"


def _doc_cache_size() -> int:
    """``DOCFRAME_DOC_CACHE_SIZE``: documents each process keeps (default 4096; 0: none)."""
    raw = os.environ.get("DOCFRAME_DOC_CACHE_SIZE", "").strip()
    if not raw:
        return 4096
    if not raw.isdigit():
        raise ValueError(f"DOCFRAME_DOC_CACHE_SIZE must be a whole number of documents per process "
                         f"(0 turns the document cache off), not {raw!r}")
    return int(raw)

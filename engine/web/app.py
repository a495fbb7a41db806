"""The Flask app factory: one Site, per-request Sessions, Frappe-shaped errors, security headers."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.site.site import Site
from engine.storage.schema_gaps import behind_message, schema_gaps
from engine.web import errors, method, openapi, ratelimit, resource, v2
from engine.web.context import SITE_KEY, authenticate, close_session
from engine.web.jsonio import JSONProvider
from engine.web.ui import views as desk

MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # 10 MB: larger requests get a 413

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def create_app(site: Site | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """The WSGI app for ``site`` (default: the database and app named by the environment).

    ``config`` overrides Flask settings (e.g. ``MAX_CONTENT_LENGTH``, the ``RATELIMIT_*`` keys).
    Login sessions live in the database (shared by every worker); set ``DOCFRAME_REDIS_URL``
    so login rate limits count across workers. Behind a reverse proxy, set
    ``DOCFRAME_TRUSTED_PROXIES`` to the number of proxies in front, so the client's address
    (for the per-address limits and the session record) comes from ``X-Forwarded-For``.
    """
    if site is None:  # a production server (gunicorn): say at start-up if migrate was not run
        site = Site(os.environ.get("DOCFRAME_DATABASE_URL"), os.environ.get("DOCFRAME_APP") or None)
        gaps = schema_gaps(site)
        if gaps:
            logging.getLogger("engine.web").warning("%s", behind_message(gaps))
    app = Flask("engine.web")
    app.json = JSONProvider(app)
    app.config.update(
        SECRET_KEY=os.environ.get("DOCFRAME_SECRET_KEY") or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        # The login session cookie "sid" (engine.web.auth); Secure whenever the request is HTTPS.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=3),  # a session unused this long expires
        SESSION_REFRESH_INTERVAL=dt.timedelta(hours=1),  # last use is written at most this often
        # Credential rate limits (engine.web.ratelimit); Redis shares the counters across workers.
        RATELIMIT_STORAGE_URI=os.environ.get("DOCFRAME_REDIS_URL") or "memory://",
        RATELIMIT_KEY_PREFIX="docframe",
        RATELIMIT_STRATEGY="moving-window",
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_PER_IP="60 per minute",
        RATELIMIT_LOGIN_FAILURES_PER_USER="10 per 10 minutes",
        RATELIMIT_TOKEN_FAILURES_PER_KEY="10 per 10 minutes",
        RATELIMIT_TOKEN_FAILURES_PER_IP="60 per minute",
        TRUSTED_PROXIES=int(os.environ.get("DOCFRAME_TRUSTED_PROXIES") or 0),
        # /api/openapi.json and /api/docs: metadata only (no records); "0" makes them need a login.
        # A desk import of more rows than this runs as a background job (engine.site.jobs).
        DESK_IMPORT_BACKGROUND_ROWS=int(os.environ.get("DOCFRAME_IMPORT_BACKGROUND_ROWS") or 5_000),
        API_DOCS_PUBLIC=os.environ.get("DOCFRAME_API_DOCS_PUBLIC", "1").strip().lower() not in ("0", "false", "no"),
    )
    app.config.update(config or {})
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.extensions[SITE_KEY] = site
    ratelimit.init_app(app)
    errors.register(app)
    app.before_request(authenticate)
    app.teardown_request(close_session)
    app.after_request(_security_headers)
    app.register_blueprint(method.bp)
    app.register_blueprint(resource.bp)
    app.register_blueprint(v2.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(desk.bp)
    return app


def _security_headers(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response

"""The Flask app factory: one Site, per-request Sessions, Frappe-shaped errors, security headers."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from engine.site import Site
from engine.web import errors, method, resource
from engine.web.context import SITE_KEY, authenticate, close_session
from engine.web.jsonio import JSONProvider

MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # 10 MB: larger requests get a 413

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def create_app(site: Site | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """The WSGI app for ``site`` (default: the database and app named by the environment).

    ``config`` overrides Flask settings (e.g. ``SECRET_KEY``, ``MAX_CONTENT_LENGTH``).
    Without ``SECRET_KEY`` (or env ``DOCFRAME_SECRET_KEY``) a random key is made per
    process, so session cookies do not survive a restart or cross worker processes.
    """
    if site is None:
        site = Site(os.environ.get("DOCFRAME_DATABASE_URL"), os.environ.get("DOCFRAME_APP") or None)
    app = Flask("engine.web")
    app.json = JSONProvider(app)
    app.config.update(
        SECRET_KEY=os.environ.get("DOCFRAME_SECRET_KEY") or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=3),
    )
    app.config.update(config or {})
    app.extensions[SITE_KEY] = site
    errors.register(app)
    app.before_request(authenticate)
    app.teardown_request(close_session)
    app.after_request(_security_headers)
    app.register_blueprint(method.bp)
    app.register_blueprint(resource.bp)
    return app


def _security_headers(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response

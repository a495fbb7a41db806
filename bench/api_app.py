"""The WSGI app of the API benchmark: docframe's ``create_app()`` plus one bare Flask route.

``gunicorn 'bench.api_app:create_app()'`` serves the site named by the environment,
as ``engine.web:create_app()`` does. ``/bench/bare`` answers a small JSON object
without touching the database: the floor the API's routes are measured against, on
the same server, with docframe's request hooks (authentication, security headers)
around it like every other route.
"""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from engine import Site
from engine.web import create_app as create_docframe_app

BARE_PATH = "/bench/bare"


def bare() -> ResponseReturnValue:
    return jsonify({"message": "ok"})


def create_app(site: Site | None = None) -> Flask:
    """docframe's app for ``site`` (default: the one named by the environment) with the bare route."""
    app = create_docframe_app(site)
    app.add_url_rule(BARE_PATH, "bench_bare", bare, methods=["GET"])
    return app

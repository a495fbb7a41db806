"""``GET /api/openapi.json`` (the OpenAPI 3.1 document) and ``GET /api/docs`` (a page generated from it).

Both are built once per app, on first use, and kept by the app (``app.extensions``):
the document depends only on the site's doctypes and method registries, which do not
change while the app runs. The JSON is served with an ETag, so clients revalidate
with ``If-None-Match`` and get a 304. Neither needs a login: they hold metadata, no data.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any

import jinja2
from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from engine.metadata.app import bundled_app_dir
from engine.site.site import Site
from engine.web.context import SITE_KEY, require_user
from engine.web.openapi_doc import openapi_document
from engine.web.openapi_page import docs_page

bp = Blueprint("openapi", __name__)
DOCS_KEY = "docframe.openapi"
TEMPLATE = "api_docs.html"


class PublishedDocs:
    """The OpenAPI document of one app's site, its JSON, ETag and docs page, each built once."""

    def __init__(self, site: Site):
        self.site = site

    @cached_property
    def document(self) -> dict[str, Any]:
        return openapi_document(self.site)

    @cached_property
    def json_body(self) -> bytes:
        return json.dumps(self.document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @cached_property
    def etag(self) -> str:
        return hashlib.sha256(self.json_body).hexdigest()[:32]

    @cached_property
    def html(self) -> str:
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([
                jinja2.FileSystemLoader(str(self.site.app.templates_dir)),
                jinja2.FileSystemLoader(str(bundled_app_dir() / "templates")),
            ]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        return env.get_template(TEMPLATE).render(page=docs_page(self.document))


@bp.record_once
def _publish(state: BlueprintSetupState) -> None:
    state.app.extensions[DOCS_KEY] = PublishedDocs(state.app.extensions[SITE_KEY])


def _docs() -> PublishedDocs:
    return current_app.extensions[DOCS_KEY]  # type: ignore[no-any-return]


def _cacheable(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"  # may be stored, but revalidated (ETag) before use
    return response.make_conditional(request)


def _visible() -> None:
    """The docs are public unless the app says ``API_DOCS_PUBLIC=False``; then they need a login (401)."""
    if not current_app.config["API_DOCS_PUBLIC"]:
        require_user()


@bp.route("/api/openapi.json", methods=["GET"])
def openapi_json() -> Response:
    _visible()
    docs = _docs()
    return _cacheable(Response(docs.json_body, mimetype="application/json"), docs.etag)


@bp.route("/api/docs", methods=["GET"])
def api_docs() -> Response:
    _visible()
    docs = _docs()
    response = Response(docs.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return _cacheable(response, "docs-" + docs.etag)

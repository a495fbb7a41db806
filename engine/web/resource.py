"""``/api/resource/<DocType>[/<name>]``: Frappe's v1 document API.

- GET list: ``fields``, ``filters``, ``or_filters`` (JSON), ``order_by``, ``group_by``, ``limit_start``,
  ``limit_page_length`` (default 20, 0 = all; ``limit`` is an alias) -> ``{"data": [...]}``
- POST create (JSON body or form field ``data``) -> ``{"data": {...}}``
- GET one -> ``{"data": {...}}`` with child tables as lists of rows
- PUT: only the given fields change; a stale ``modified`` is a 409 -> ``{"data": {...}}``
- DELETE -> ``{"message": "ok"}`` (HTTP 202, as Frappe)
- POST one (or GET one) with ``run_method``: a document method -> ``{"data": result}``

A trailing slash after the ID is accepted, as Frappe's rule has one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from engine.documents.document import Document
from engine.errors import ValidationError
from engine.web.context import db_session, require_user
from engine.web.jsonio import document_body, request_args
from engine.web.method import invoke_doc_method

bp = Blueprint("resource", __name__)

DEFAULT_PAGE_LENGTH = 20
# Never taken from a request body: who made or changed a document, and its ID, are the server's.
NOT_FROM_CLIENT = ("name", "owner", "creation", "modified_by", "flags")


def query_args(args: Any) -> dict[str, Any]:
    """The list arguments v1 and v2 share, as the query builder takes them (JSON text it parses and checks)."""
    return {key: args.get(key) or None for key in ("fields", "filters", "or_filters", "order_by", "group_by")}


def update_from_request(doctype: str, name: str) -> Document:
    """A PUT/PATCH: the fields sent (never the server's) change, and the document is saved."""
    values = document_body(request)
    for key in NOT_FROM_CLIENT:
        values.pop(key, None)
    doc = db_session().get_doc(doctype, name)
    doc.update(values)
    doc.save()
    return doc


def _page_length(args: Any) -> Any:
    raw = args.get("limit_page_length", args.get("limit"))
    if raw is None:
        return DEFAULT_PAGE_LENGTH
    if isinstance(raw, str) and raw.strip() in ("0", ""):
        return None  # Frappe: 0 means every row
    return raw


@bp.route("/api/resource/<doctype>", methods=["GET"])
@bp.route("/api/resource/<doctype>/", methods=["GET"])  # frappe-client's get_doc(filters=...) sends the slash
def get_list(doctype: str) -> ResponseReturnValue:
    require_user()
    args = request.args
    rows = db_session().get_list(doctype, **query_args(args), limit=_page_length(args),
                                 offset=args.get("limit_start") or 0)
    return jsonify({"data": rows})


@bp.route("/api/resource/<doctype>", methods=["POST"])
@bp.route("/api/resource/<doctype>/", methods=["POST"])
def create(doctype: str) -> ResponseReturnValue:
    require_user()
    values = document_body(request)
    values.pop("flags", None)
    doc = db_session().insert(doctype, values)
    return jsonify({"data": doc.as_dict()})


def _name(name: str) -> str:
    """The document's ID from the path: Frappe's rule ends in a slash, which clients may send."""
    return name[:-1] if name.endswith("/") else name


@bp.route("/api/resource/<doctype>/<path:name>", methods=["GET"])
def get_doc(doctype: str, name: str) -> ResponseReturnValue:
    require_user()
    if "run_method" in request.args:  # Frappe's older form of a document method call
        return run_doc_method(doctype, name)
    return jsonify({"data": db_session().get_doc(doctype, _name(name)).as_dict()})


@bp.route("/api/resource/<doctype>/<path:name>", methods=["POST"])
def run_doc_method(doctype: str, name: str) -> ResponseReturnValue:
    """Frappe v1's document method call: ``run_method=<method>`` and its arguments -> ``{"data": result}``.

    GET needs read permission on the document, POST write permission (submit and cancel:
    their own), as :func:`engine.web.method.invoke_doc_method`.
    """
    require_user()
    args = request_args(request)
    method = args.pop("run_method", None)
    if not isinstance(method, str) or not method:
        raise ValidationError(f"POST /api/resource/{doctype}/<name> calls a document method: send run_method "
                              f"(to change the document, use PUT)")
    result, _ = invoke_doc_method(doctype, _name(name), method, args)
    return jsonify({"data": result})


@bp.route("/api/resource/<doctype>/<path:name>", methods=["PUT"])
def update(doctype: str, name: str) -> ResponseReturnValue:
    require_user()
    return jsonify({"data": update_from_request(doctype, _name(name)).as_dict()})


@bp.route("/api/resource/<doctype>/<path:name>", methods=["DELETE"])
def delete(doctype: str, name: str) -> ResponseReturnValue:
    require_user()
    db_session().delete_doc(doctype, _name(name))
    return jsonify({"message": "ok"}), 202

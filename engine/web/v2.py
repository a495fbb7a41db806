"""``/api/v2/...``: Frappe's v2 REST API.

Answers carry the result under ``data``; errors answer ``{"errors": [{"type", "message", ...}]}``
(see :mod:`engine.web.errors`). A trailing slash is accepted after every route, as Frappe's.

- GET ``/document/<DocType>``: ``fields``, ``filters``, ``or_filters``, ``order_by``, ``start`` (0),
  ``limit`` (20), ``group_by``, ``as_dict`` (1) -> ``{"data": [...], "has_next_page": bool}``
- POST ``/document/<DocType>`` -> ``{"data": {...the saved document...}}``
- GET ``/document/<DocType>/<name>`` (and ``.../copy``: a copy to post as a new document),
  PATCH or PUT (only the fields sent change; a stale ``modified`` is a 409), DELETE -> 202 ``{"data": "ok"}``
- GET/POST ``/document/<DocType>/<name>/method/<method>``: a whitelisted document method -> ``{"data": ...}``
- GET ``/doctype/<DocType>/meta`` (``include=children`` adds the child doctypes' metas under ``children``)
- GET ``/doctype/<DocType>/count``: ``filters``, ``or_filters``, ``distinct`` -> ``{"data": n}``
- ``/method/<method>`` (or ``/method/<DocType>/<method>`` for that doctype's hook module): the same
  methods as ``/api/method/`` -> ``{"data": result}``; ``login`` and ``logout`` answer as in v1, as Frappe's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import FieldError, ValidationError
from engine.metadata.doctype import DocType, snake
from engine.rules.permissions import check_permission
from engine.rules.query import MAX_LIMIT
from engine.web import v2_meta
from engine.web.context import current_site, db_session, require_user
from engine.web.jsonio import document_body, request_args
from engine.web.method import Reply, invoke, invoke_doc_method
from engine.web.resource import query_args, update_from_request

bp = Blueprint("v2", __name__, url_prefix="/api/v2")

DEFAULT_LIMIT = 20
_ANY_VERB = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# Cleared in a copy, on the document and its rows (Frappe's copy_doc).
_NOT_COPIED = ("name", "owner", "creation", "modified", "modified_by", "docstatus")
META_PARTS = ("children",)


def _data(result: Any) -> Response:
    """Frappe's v2 envelope: ``{"data": result}``, or ``{}`` for a method that returned nothing."""
    return jsonify({"data": result} if result is not None else {})


def _doc_name(name: str) -> str:
    return name.rstrip("/")  # the path converter keeps a trailing slash


def _count_arg(args: Any, key: str, default: int, doctype: str) -> int:
    """A query-string ``start`` or ``limit``: a whole number of at least 0 (else a 417 naming it)."""
    raw = args.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        number = int(raw.strip())
    except ValueError:
        number = -1
    if number < 0:
        message = f"{key!r} must be a whole number of at least 0, not {raw!r}"
        raise ValidationError(message, [FieldError(doctype, key, key, message, raw)])
    return number


def _flag(raw: str | None, default: bool) -> bool:
    if raw is None:
        return default
    return raw.strip().lower() not in ("", "0", "false", "no", "off")


# ------------------------------------------------------------------ documents

@bp.get("/document/<doctype>", strict_slashes=False)
def document_list(doctype: str) -> ResponseReturnValue:
    """One page of rows; one row more is read to tell whether another page follows."""
    require_user()
    args = request.args
    start = _count_arg(args, "start", 0, doctype)
    limit = min(_count_arg(args, "limit", DEFAULT_LIMIT, doctype), MAX_LIMIT - 1)
    rows = db_session().get_list(doctype, **query_args(args),
                                 limit=limit + 1, offset=start)
    page = rows[:limit]
    if not _flag(args.get("as_dict"), True):
        page = [list(row.values()) for row in page]
    return jsonify({"data": page, "has_next_page": len(rows) > limit})


@bp.post("/document/<doctype>", strict_slashes=False)
def create_doc(doctype: str) -> ResponseReturnValue:
    require_user()
    values = document_body(request)
    for key in ("doctype", "flags"):  # Frappe takes the doctype from the URL
        values.pop(key, None)
    return _data(db_session().insert(doctype, values).as_dict())


@bp.get("/document/<doctype>/<path:name>", strict_slashes=False)
def read_doc(doctype: str, name: str) -> ResponseReturnValue:
    require_user()
    return _data(db_session().get_doc(doctype, _doc_name(name)).as_dict())


@bp.get("/document/<doctype>/<path:name>/copy", strict_slashes=False)
def copy_doc(doctype: str, name: str) -> ResponseReturnValue:
    """The document without its ID, owner, timestamps and docstatus (its rows likewise), nulls left out."""
    require_user()
    data = db_session().get_doc(doctype, _doc_name(name)).as_dict()
    return _data(_copy_of(data, current_site().get_meta(doctype), current_site().doctypes))


def _copy_of(data: dict[str, Any], meta: DocType, doctypes: Mapping[str, DocType]) -> dict[str, Any]:
    """A new document's body: a document's own position (idx) means nothing for a copy; its rows keep theirs.

    Fields marked ``no_copy`` (an invoice's outstanding amount, ...) are left out, as Frappe's copy_doc does."""
    skip = {*_NOT_COPIED, "idx", *(f.name for f in meta.fields if f.no_copy)}
    out = {k: v for k, v in data.items() if v is not None and k not in skip}
    for tf in meta.table_fields:
        child = doctypes[tf.options]  # type: ignore[index]
        row_skip = {*_NOT_COPIED, *(f.name for f in child.fields if f.no_copy)}
        out[tf.name] = [{k: v for k, v in row.items() if v is not None and k not in row_skip}
                        for row in out.get(tf.name) or ()]
    return out


@bp.route("/document/<doctype>/<path:name>", methods=["PATCH", "PUT"], strict_slashes=False)
def update_doc(doctype: str, name: str) -> ResponseReturnValue:
    require_user()
    return _data(update_from_request(doctype, _doc_name(name)).as_dict())


@bp.delete("/document/<doctype>/<path:name>", strict_slashes=False)
def delete_doc(doctype: str, name: str) -> ResponseReturnValue:
    require_user()
    db_session().delete_doc(doctype, _doc_name(name))
    return jsonify({"data": "ok"}), 202


@bp.route("/document/<doctype>/<path:name>/method/<method>/", methods=["GET", "POST"], strict_slashes=False)
def execute_doc_method(doctype: str, name: str, method: str) -> ResponseReturnValue:
    require_user()
    result, doc = invoke_doc_method(doctype, _doc_name(name), method, request_args(request))
    body = {"data": result} if result is not None else {}
    body["docs"] = [doc.as_dict()]  # as Frappe: the document after the method ran
    return jsonify(body)


# ------------------------------------------------------------------ doctypes

@bp.get("/doctype/<doctype>/meta", strict_slashes=False)
def get_meta(doctype: str) -> ResponseReturnValue:
    """The doctype's metadata in Frappe's shape, for users who may read the doctype."""
    require_user()
    site = current_site()
    meta = site.get_meta(doctype)
    check_permission(db_session(), meta.name, "read")
    raw = request.args.get("include") or ""
    include = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [part for part in include if part not in META_PARTS]
    if unknown:
        message = f"Unknown include part {unknown[0]}. Known parts: {', '.join(META_PARTS)}"
        raise ValidationError(message, [FieldError(meta.name, "include", "include", message, raw)])
    body: dict[str, Any] = {"data": v2_meta.meta_dict(meta)}
    if "children" in include:
        body["children"] = [v2_meta.meta_dict(site.get_meta(child)) for child in v2_meta.child_doctypes(meta)]
    return jsonify(body)


@bp.get("/doctype/<doctype>/count", strict_slashes=False)
def count(doctype: str) -> ResponseReturnValue:
    require_user()
    args = request.args
    return _data(db_session().get_count(
        doctype,
        filters=args.get("filters") or None,
        or_filters=args.get("or_filters") or None,
        distinct=_flag(args.get("distinct"), False),
    ))


# ------------------------------------------------------------------ methods

@bp.route("/method/<path:method>", methods=_ANY_VERB)
def call_method(method: str) -> ResponseReturnValue:
    """A built-in or whitelisted method; ``<DocType>/<method>`` names one in that doctype's hook module."""
    name = method.strip("/")
    doctype, slash, short = name.rpartition("/")
    if slash:
        site = current_site()
        name = f"{site.app.hooks_dir.name}.{snake(site.get_meta(doctype).name)}.{short}"
    result = invoke(name, request_args(request))
    if isinstance(result, Response):  # a file (download_pdf)
        return result
    if isinstance(result, Reply):  # login, logout: Frappe answers these with their own keys, no data
        return jsonify(result.body)
    return _data(result)

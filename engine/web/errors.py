"""Frappe-shaped error answers, v1 or v2 by the request's path.

Every error answers with the HTTP status of its exception. Under ``/api/v2/`` the
body is Frappe's v2 shape: ``{"errors": [{"type": "ValidationError", "message": ...,
"title": "Message", "indicator": "red"}]}``, one entry per field problem, each with
its ``field`` (and ``doctype``, ``label``, ``row``) when known. Everywhere else it is
the v1 body clients of Frappe understand: ``exc_type``, ``exception``
("frappe.exceptions.X: message"), ``exc`` (a JSON list with that line: a message,
never a server traceback), ``_server_messages`` (a JSON string of a list of JSON
strings) and, beyond Frappe, ``errors``: a list of ``{field, message, ...}``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.errors import DocframeError
from engine.storage.schema_gaps import behind_message, schema_gaps
from engine.web.context import SITE_KEY

log = logging.getLogger("engine.web")

V2_PREFIX = "/api/v2"

# Werkzeug's HTTP errors, named as Frappe names the matching exception.
_HTTP_EXC_TYPES = {
    400: "ValidationError", 401: "AuthenticationError", 403: "PermissionError", 404: "DoesNotExistError",
    405: "ValidationError", 409: "DuplicateEntryError", 413: "ValidationError", 429: "RateLimitExceededError",
}


def error_body(exc_type: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The v1 body."""
    line = f"frappe.exceptions.{exc_type}: {message}"
    messages = [m["message"] for m in errors or () if m.get("message")] or [message]
    return {
        "exc_type": exc_type,
        "exception": line,
        "exc": json.dumps([line]),
        "_server_messages": json.dumps(
            [json.dumps({"message": m, "title": "Message", "indicator": "red", "raise_exception": 1})
             for m in messages]),
        "errors": errors if errors is not None else [{"field": None, "message": message}],
    }


def v2_error_body(exc_type: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The v2 body: Frappe's error entry (``type`` and the message dialog's keys) per problem."""
    entries = []
    for detail in errors or [{"message": message}]:
        entry: dict[str, Any] = {"type": exc_type, "message": detail.get("message") or message,
                                 "title": "Message", "indicator": "red"}
        entry.update((k, v) for k, v in detail.items() if k != "message" and v is not None)
        entries.append(entry)
    return {"errors": entries}


def is_v2_request() -> bool:
    if not has_request_context():
        return False
    path = request.path
    return path == V2_PREFIX or path.startswith(V2_PREFIX + "/")


def error_response(status: int, exc_type: str, message: str,
                   errors: list[dict[str, Any]] | None = None) -> Response:
    """The error answer for this request: the v2 body under /api/v2/, else the v1 body."""
    body = v2_error_body if is_v2_request() else error_body
    response = jsonify(body(exc_type, message, errors))
    response.status_code = status
    return response


def docframe_error(exc: DocframeError) -> Response:
    errors = [e.as_dict() for e in exc.errors] or None
    if exc.status >= 500:
        log.error("server error: %s", exc.message)
    return error_response(exc.status, exc.exc_type, exc.message, errors)


def http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    response = error_response(status, _HTTP_EXC_TYPES.get(status, "Exception"), exc.description or exc.name)
    if status == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    return response


def database_error(exc: sa.exc.SQLAlchemyError) -> Response:
    if isinstance(exc, sa.exc.DataError):  # a value the database refused: the caller's input
        return error_response(417, "ValidationError", "A value is invalid for its field")
    behind = _schema_behind() if isinstance(exc, (sa.exc.OperationalError, sa.exc.ProgrammingError)) else None
    if behind:
        log.error("%s", behind)
        return error_response(503, "ServiceUnavailableError", behind)
    log.exception("database error")
    return error_response(500, "Exception", "Internal server error (database)")


def _schema_behind() -> str | None:
    """The 'run migrate' message when the statement failed because a table or column is missing."""
    site = current_app.extensions.get(SITE_KEY) if has_request_context() else None
    if site is None:
        return None
    try:
        gaps = schema_gaps(site)
    except sa.exc.SQLAlchemyError:
        return None  # the database itself is unreachable
    return behind_message(gaps) if gaps else None


def too_deep(exc: RecursionError) -> Response:
    """JSON (or filters) nested thousands of levels deep: the caller's input, not a server fault."""
    return error_response(417, "ValidationError", "The request is nested too deeply: JSON arguments, filters and "
                                                  "documents may nest a few hundred levels at most")


def unexpected_error(exc: Exception) -> Response:
    log.exception("unexpected error")
    return error_response(500, "Exception", "Internal server error")


def register(app: Flask) -> None:
    app.register_error_handler(DocframeError, docframe_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(sa.exc.SQLAlchemyError, database_error)
    app.register_error_handler(RecursionError, too_deep)
    app.register_error_handler(Exception, unexpected_error)

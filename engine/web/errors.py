"""Frappe-shaped error answers.

Every error answers with the HTTP status of its exception and a body clients of
Frappe understand: ``exc_type``, ``exception`` ("frappe.exceptions.X: message"),
``exc`` (a JSON list with that line: a message, never a server traceback),
``_server_messages`` (a JSON string of a list of JSON strings) and, beyond Frappe,
``errors``: a list of ``{field, message, ...}``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from engine.errors import DocframeError

log = logging.getLogger("engine.web")

# Werkzeug's HTTP errors, named as Frappe names the matching exception.
_HTTP_EXC_TYPES = {
    400: "ValidationError", 401: "AuthenticationError", 403: "PermissionError", 404: "DoesNotExistError",
    405: "ValidationError", 409: "DuplicateEntryError", 413: "ValidationError", 429: "RateLimitExceededError",
}


def error_body(exc_type: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
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


def error_response(status: int, exc_type: str, message: str,
                   errors: list[dict[str, Any]] | None = None) -> Response:
    response = jsonify(error_body(exc_type, message, errors))
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
    log.exception("database error")
    return error_response(500, "Exception", "Internal server error (database)")


def unexpected_error(exc: Exception) -> Response:
    log.exception("unexpected error")
    return error_response(500, "Exception", "Internal server error")


def register(app: Flask) -> None:
    app.register_error_handler(DocframeError, docframe_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(sa.exc.SQLAlchemyError, database_error)
    app.register_error_handler(Exception, unexpected_error)

"""JSON in and out, the way Frappe clients expect it.

Out: Decimals as numbers, dates ``YYYY-MM-DD``, datetimes ``YYYY-MM-DD HH:MM:SS.ffffff``,
times ``HH:MM:SS[.ffffff]``; keys keep the document's field order.
In: request arguments from the query string, form fields (lists and dicts JSON-encoded
inside them) or a JSON body; a body that is not JSON is a 417, never a 500.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from flask import Request
from flask.json.provider import DefaultJSONProvider

from engine.errors import ValidationError


def to_json(value: Any) -> Any:
    """The JSON form of a value the json module cannot encode itself."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dt.time, dt.timedelta)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with docframe's value encoding and unsorted keys."""

    sort_keys = False
    ensure_ascii = False
    default = staticmethod(to_json)  # type: ignore[assignment]


def dumps(value: Any) -> str:
    return json.dumps(value, default=to_json, ensure_ascii=False)


_EMPTY = object()


def _body_json(request: Request) -> Any:
    """The parsed JSON body, or _EMPTY when there is no body."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return _EMPTY
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValidationError(f"The request body is not valid JSON: {exc}") from None


def _maybe_json(value: str) -> Any:
    """A form/query value: JSON when it looks like a JSON list or object, else the string."""
    text = value.strip()
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def request_args(request: Request) -> dict[str, Any]:
    """All arguments of a request: query string, then form fields, then a JSON object body.

    List and dict arguments are left as JSON strings when they came as strings; the
    engine's query builder parses (and checks) them.
    """
    args: dict[str, Any] = dict(request.args.items())
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            args.update(request.form.items())
        else:
            body = _body_json(request)
            if body is _EMPTY:
                return args
            if not isinstance(body, dict):
                raise ValidationError(f"The request body must be a JSON object, not {type(body).__name__}")
            args.update(body)
    return args


def document_body(request: Request) -> dict[str, Any]:
    """The document values of a create or update: a JSON object body, or a form field ``data``."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raw = request.form.get("data")
        if raw is None:
            values: Any = {k: _maybe_json(v) for k, v in request.form.items()}
        else:
            try:
                values = json.loads(raw)
            except ValueError as exc:
                raise ValidationError(f"The form field 'data' is not valid JSON: {exc}") from None
    else:
        values = _body_json(request)
        if values is _EMPTY:
            values = {}
    inner = values.get("data") if isinstance(values, dict) and set(values) == {"data"} else None
    if isinstance(inner, dict) or (isinstance(inner, str) and inner.lstrip().startswith("{")):
        values = inner  # {"data": {...}} or {"data": "<json object>"} as some clients send
        if isinstance(values, str):
            try:
                values = json.loads(values)
            except ValueError as exc:
                raise ValidationError(f"The field 'data' is not valid JSON: {exc}") from None
    if not isinstance(values, dict):
        raise ValidationError(f"The document must be a JSON object of fields, not {type(values).__name__}")
    return values

"""``/api/method/<name>``: whitelisted methods answering ``{"message": ...}``.

This slice has the session methods: ``ping`` (no login), ``login``, ``logout`` and
``frappe.auth.get_logged_user``. A trailing slash after the name is accepted, and
so is Frappe's legacy form: GET/POST ``/`` with ``cmd=<method>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from engine.errors import AuthenticationError, DoesNotExistError, ValidationError
from engine.web import auth, client_methods
from engine.web.context import current_site, current_user, db_session, require_user, set_user
from engine.web.jsonio import request_args

bp = Blueprint("method", __name__)


@dataclass(frozen=True)
class Method:
    fn: Callable[[dict[str, Any]], Any]
    allow_guest: bool = False
    http_methods: frozenset[str] = frozenset({"GET", "POST"})


def ping(args: dict[str, Any]) -> str:
    return "pong"


def login(args: dict[str, Any]) -> ResponseReturnValue:
    usr, pwd = args.get("usr"), args.get("pwd")
    if not isinstance(usr, str) or not isinstance(pwd, str) or not usr or not pwd:
        raise AuthenticationError("Incomplete login details: send usr and pwd")
    user = auth.login(current_site(), usr, pwd)
    set_user(user)
    full_name = db_session().get_value("User", user, "full_name") or user
    return jsonify({"message": "Logged In", "home_page": "/app", "full_name": full_name})


def logout(args: dict[str, Any]) -> ResponseReturnValue:
    auth.logout()
    set_user(auth.GUEST)
    return jsonify({})


def get_logged_user(args: dict[str, Any]) -> str:
    return require_user()


METHODS: dict[str, Method] = {
    "ping": Method(ping, allow_guest=True),
    "login": Method(login, allow_guest=True, http_methods=frozenset({"POST"})),
    "logout": Method(logout, allow_guest=True),
    "frappe.auth.get_logged_user": Method(get_logged_user),
}
METHODS.update({f"frappe.client.{n}": Method(fn) for n, fn in client_methods.READS.items()})
METHODS.update({f"frappe.client.{n}": Method(fn, http_methods=frozenset({"POST"}))
                for n, fn in client_methods.WRITES.items()})
ALIASES = {"frappe.handler.ping": "ping", "frappe.auth.login": "login", "frappe.handler.logout": "logout"}


def call(name: str, args: dict[str, Any]) -> ResponseReturnValue:
    name = name.strip("/")
    name = ALIASES.get(name, name)
    method = METHODS.get(name)
    if method is None:
        raise DoesNotExistError(f"Method {name!r} not found")
    if request.method not in method.http_methods:
        raise ValidationError(f"Method {name!r} does not accept {request.method}; use "
                              f"{' or '.join(sorted(method.http_methods))}")
    if not method.allow_guest and current_user() == auth.GUEST:
        raise AuthenticationError(f"Not logged in: {name!r} needs a login or an Authorization token")
    result = method.fn(args)
    if isinstance(result, (str, int, float, bool, list, dict)) or result is None:
        return jsonify({"message": result} if result is not None else {})
    return result


@bp.route("/api/method/<path:name>", methods=["GET", "POST"])
def api_method(name: str) -> ResponseReturnValue:
    return call(name, request_args(request))


@bp.route("/", methods=["GET", "POST"])
def legacy(name: str | None = None) -> ResponseReturnValue:
    args = request_args(request)
    cmd = args.pop("cmd", None)
    if not isinstance(cmd, str) or not cmd:
        raise DoesNotExistError("Nothing here: use /api/method/<method> or /api/resource/<DocType>")
    return call(cmd, args)

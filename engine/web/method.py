"""``/api/method/<name>``: whitelisted methods answering ``{"message": ...}``.

Built in: ``ping`` (no login), ``login``, ``logout``, ``frappe.auth.get_logged_user`` and
the ``frappe.client.*`` family; then the app's whitelisted methods (``@whitelist`` in
its hook modules, see :mod:`engine.documents.whitelist`), e.g. ``hooks.customer.get_defaults``.
A trailing slash after the name is accepted, and so is Frappe's legacy form: GET/POST
``/`` with ``cmd=<method>``. A method called with an HTTP method it does not accept
(a write over GET) answers 403, as Frappe does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from engine.documents.document import Document
from engine.errors import AuthenticationError, DoesNotExistError, PermissionError
from engine.web import auth, client_methods, report_methods
from engine.web.context import current_site, current_user, db_session, require_user, set_user
from engine.web.errors import docframe_error, is_v2_request
from engine.web.jsonio import request_args

bp = Blueprint("method", __name__)


@dataclass(frozen=True)
class Method:
    """A built-in method: ``fn(args)`` returns the message, or a :class:`Reply` for a whole body."""

    fn: Callable[[dict[str, Any]], Any]
    allow_guest: bool = False
    http_methods: frozenset[str] = frozenset({"GET", "POST"})


@dataclass(frozen=True)
class Reply:
    """A method result that is the answer's top-level keys, not its ``message`` (as Frappe's login)."""

    body: dict[str, Any]


def ping(args: dict[str, Any]) -> str:
    return "pong"


def login(args: dict[str, Any]) -> Reply | Response:
    usr, pwd = args.get("usr"), args.get("pwd")
    if not isinstance(usr, str) or not isinstance(pwd, str) or not usr or not pwd:
        raise AuthenticationError("Incomplete login details: send usr and pwd")
    try:
        result = auth.login(current_site(), usr, pwd)
    except AuthenticationError as exc:  # Frappe's LoginManager.fail also sets the answer's message
        response = docframe_error(exc)
        body = response.get_json()
        if not is_v2_request():
            body["message"] = exc.message
            response.set_data(json.dumps(body))
        return response  # type: ignore[return-value]
    set_user(result.user)
    return Reply({"message": "Logged In", "home_page": "/app", "full_name": result.full_name or result.user})


def logout(args: dict[str, Any]) -> Reply:
    auth.logout(current_site())
    set_user(auth.GUEST)
    return Reply({})


def get_logged_user(args: dict[str, Any]) -> str:
    return require_user()


def download_pdf(args: dict[str, Any]) -> Response:
    """Frappe's PDF of a printout: ``doctype``, ``name``, ``format`` (default Standard)."""
    from engine.web.ui import print_view

    return print_view.response(db_session(), args, as_pdf=True)  # type: ignore[no-any-return]


METHODS: dict[str, Method] = {
    "ping": Method(ping, allow_guest=True),
    "login": Method(login, allow_guest=True, http_methods=frozenset({"POST"})),
    "logout": Method(logout, allow_guest=True),
    "frappe.auth.get_logged_user": Method(get_logged_user),
    "frappe.utils.print_format.download_pdf": Method(download_pdf),
    "frappe.desk.query_report.run": Method(report_methods.run),
}
METHODS.update({f"frappe.client.{n}": Method(fn) for n, fn in client_methods.READS.items()})
METHODS.update({f"frappe.client.{n}": Method(fn, http_methods=frozenset({"POST"}))
                for n, fn in client_methods.WRITES.items()})
ALIASES = {"frappe.handler.ping": "ping", "frappe.auth.login": "login", "frappe.handler.logout": "logout",
           "frappe.templates.pages.print.download_pdf": "frappe.utils.print_format.download_pdf"}


def _allowed(name: str, http_methods: frozenset[str], allow_guest: bool) -> None:
    if request.method not in http_methods:  # Frappe: a write method over GET is "Not permitted"
        raise PermissionError(f"Not permitted: method {name!r} does not accept {request.method}; use "
                              f"{' or '.join(sorted(http_methods))}")
    if not allow_guest and current_user() == auth.GUEST:
        raise AuthenticationError(f"Not logged in: {name!r} needs a login or an Authorization token")


def invoke(name: str, args: dict[str, Any]) -> Any:
    """Run a built-in or whitelisted app method for this request; its raw result (maybe a Reply).

    Raises DoesNotExistError (404) for an unknown name, PermissionError (403) for an
    HTTP method it does not accept, AuthenticationError (401) for Guest.
    """
    name = name.strip("/")
    name = ALIASES.get(name, name)
    builtin = METHODS.get(name)
    if builtin is not None:
        _allowed(name, builtin.http_methods, builtin.allow_guest)
        return builtin.fn(args)
    app_method = current_site().hooks.methods.get(name)
    if app_method is None:
        raise DoesNotExistError(f"Method {name!r} not found")
    _allowed(name, app_method.http_methods, app_method.allow_guest)
    session = db_session()
    with session.atomic():  # a method's writes, with their hooks, are one transaction
        return app_method.call(session, args)


# Frappe's whitelisted methods of every Document: /api/v2/document/<DocType>/<name>/method/submit
DOCUMENT_METHODS = ("submit", "cancel")


def invoke_doc_method(doctype: str, name: str, method: str, args: dict[str, Any]) -> tuple[Any, Document]:
    """Run a document method (``@whitelist`` with ``doc, ctx``); its result and the document after it.

    GET needs read permission on the document, any other HTTP method write permission,
    as Frappe's ``run_doc_method``. What the method then reads and writes is part of
    that one permitted operation and not checked again, as for a hook.
    """
    session = db_session()
    meta = current_site().get_meta(doctype)
    found = current_site().hooks.doc_methods.get((meta.name, method.strip("/")))
    if found is None and method.strip("/") in DOCUMENT_METHODS:
        if request.method == "GET":
            raise PermissionError(f"Not permitted: {method!r} changes the document; use POST")
        with session.atomic():
            doc = session.get_doc(meta.name, name)
            getattr(doc, method.strip("/"))()  # the lifecycle checks the submit or cancel permission
            return None, doc
    if found is None:
        raise DoesNotExistError(f"DocType {meta.name!r} has no method {method!r}")
    _allowed(f"{meta.name}.{found.name}", found.http_methods, found.allow_guest)
    with session.atomic():
        doc = session.get_doc(meta.name, name)
        with session.checked(meta.name, "read" if request.method == "GET" else "write", doc):
            return found.call(session, args, doc), doc


def call(name: str, args: dict[str, Any]) -> ResponseReturnValue:
    """A method's v1 answer: ``{"message": result}`` (``{}`` for None), or a Reply's body."""
    result = invoke(name, args)
    if isinstance(result, Response):  # a file (download_pdf)
        return result
    if isinstance(result, Reply):
        return jsonify(result.body)
    return jsonify({"message": result} if result is not None else {})


@bp.route("/api/method/<path:name>", methods=["GET", "POST"])
def api_method(name: str) -> ResponseReturnValue:
    return call(name, request_args(request))


@bp.route("/", methods=["GET", "POST"])
def legacy(name: str | None = None) -> ResponseReturnValue:
    args = request_args(request)
    cmd = args.pop("cmd", None)
    if (not isinstance(cmd, str) or not cmd) and request.method == "GET" and not args:
        # A person at the front door: the desk, or its login page.
        return redirect("/app" if current_user() != auth.GUEST else "/login")
    if not isinstance(cmd, str) or not cmd:
        raise DoesNotExistError("Nothing here: use /api/method/<method> or /api/resource/<DocType>")
    return call(cmd, args)

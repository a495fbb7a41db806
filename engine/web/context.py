"""Per-request state: the site, the authenticated user and their Session (Flask ``g`` lives only here)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g, request

from engine.errors import AuthenticationError
from engine.site.session import Session
from engine.site.site import Site
from engine.web import auth

SITE_KEY = "docframe.site"


def current_site() -> Site:
    return current_app.extensions[SITE_KEY]  # type: ignore[no-any-return]


def authenticate() -> None:
    """before_request: who is calling (a bad credential answers 401 here)."""
    g.docframe_user = auth.GUEST  # an error answer still knows who asked
    g.docframe_user = auth.authenticate(current_site(), request, request_conn)


def request_conn() -> sa.Connection:
    """The request's database connection: credentials are checked on it, then its Session uses it."""
    s = g.get("docframe_session")
    if s is not None:
        return s.conn  # type: ignore[no-any-return]
    conn = g.get("docframe_conn")
    if conn is None:
        conn = g.docframe_conn = current_site().engine.connect()
    return conn  # type: ignore[no-any-return]


def current_user() -> str:
    return g.get("docframe_user", auth.GUEST)  # type: ignore[no-any-return]


def set_user(user: str) -> None:
    """After login/logout: later Session use in this request is for ``user``."""
    close_session(None)
    g.docframe_user = user


def db_session() -> Session:
    """The request's Session, for the authenticated user (opened on first use, closed at teardown)."""
    s = g.get("docframe_session")
    if s is None:
        s = g.docframe_session = current_site().session(current_user(), conn=g.pop("docframe_conn", None))
    return s  # type: ignore[no-any-return]


def report_session() -> Session:
    """The request's read-only Session for reports: on a read replica when the site has one
    (see :meth:`engine.site.site.Site.report_session`); closed at teardown."""
    s = g.get("docframe_report_session")
    if s is None:
        s = g.docframe_report_session = current_site().report_session(current_user(), primary=db_session())
    return s  # type: ignore[no-any-return]


def require_user() -> str:
    """The logged-in user; Guest gets a 401."""
    user = current_user()
    if user == auth.GUEST:
        raise AuthenticationError("Not logged in: log in or send an Authorization token")
    return user


def close_session(exc: BaseException | None) -> None:
    report = g.pop("docframe_report_session", None)
    if report is not None:
        report.close()
    s = g.pop("docframe_session", None)
    if s is not None:
        s.close()
    conn = g.pop("docframe_conn", None)
    if conn is not None:
        conn.close()

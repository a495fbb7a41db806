"""Who is calling: an API token, HTTP Basic with key:secret, or the session cookie; else Guest.

- ``Authorization: token <api_key>:<api_secret>``
- ``Authorization: Basic <base64 of api_key:api_secret>``
- the cookie ``sid`` set by ``/api/method/login``: the token of a server-side session
  (:mod:`engine.web.sessions`), HttpOnly, SameSite=Lax, Secure over HTTPS. Login also
  sets Frappe's informational cookies ``user_id``, ``full_name`` and ``system_user``.

Credentials are checked by :mod:`engine.site.auth`, rate-limited by :mod:`engine.web.ratelimit`
before any password hashing; a wrong or malformed header is a 401, never a silent
fall-back to Guest. A cookie whose session is gone (logout, expiry, user disabled,
deleted or given a new password) is Guest, and the answer deletes the cookies.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from flask import Request, Response, after_this_request, current_app, request

from engine.errors import AuthenticationError
from engine.site import auth as engine_auth
from engine.site.auth import PasswordLogin
from engine.site.site import Site
from engine.web import ratelimit, sessions

GUEST = "Guest"
SESSION_COOKIE = "sid"  # Frappe's name: clients read and send it
USER_COOKIES = ("user_id", "full_name", "system_user")  # Frappe sets these at login; not secret


def _client_ip(req: Request) -> str:
    return req.remote_addr or "unknown"


# ------------------------------------------------------------------ cookies

def _cookie_options() -> dict[str, object]:
    cfg = current_app.config
    return {
        "path": cfg.get("SESSION_COOKIE_PATH") or "/",
        "domain": cfg.get("SESSION_COOKIE_DOMAIN") or None,
        "secure": bool(cfg.get("SESSION_COOKIE_SECURE")) or request.is_secure,
        "samesite": cfg.get("SESSION_COOKIE_SAMESITE", "Lax"),
    }


def _lifetime() -> dt.timedelta:
    return current_app.permanent_session_lifetime


def _set_cookies(token: str, user: str, full_name: str | None) -> None:
    """Send the session cookie (and Frappe's user cookies) with this request's answer."""
    options = _cookie_options()
    max_age = int(_lifetime().total_seconds())
    httponly = bool(current_app.config.get("SESSION_COOKIE_HTTPONLY", True))

    def set_cookies(response: Response) -> Response:
        response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=httponly, **options)  # type: ignore[arg-type]
        for name, value in zip(USER_COOKIES, (user, full_name or user, "yes"), strict=True):
            response.set_cookie(name, value, max_age=max_age, **options)  # type: ignore[arg-type]
        return response

    after_this_request(set_cookies)


def _clear_cookies() -> None:
    options = _cookie_options()

    def clear_cookies(response: Response) -> Response:
        for name in (SESSION_COOKIE, *USER_COOKIES):
            response.delete_cookie(name, **options)  # type: ignore[arg-type]
        return response

    after_this_request(clear_cookies)


# ------------------------------------------------------------------ API tokens

def _key_secret(credentials: str, scheme: str) -> tuple[str, str]:
    key, sep, secret = credentials.strip().partition(":")
    if not sep or not key or not secret:
        raise AuthenticationError(f"Malformed {scheme} credentials: expected api_key:api_secret")
    return key, secret


def _from_header(site: Site, req: Request, header: str, conn: Callable[[], sa.Connection]) -> str:
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "token":
        key, secret = _key_secret(credentials, "token")
    elif scheme == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("Malformed Basic credentials: not base64 of api_key:api_secret") from None
        key, secret = _key_secret(decoded, "Basic")
    else:
        raise AuthenticationError(f"Unsupported Authorization scheme {scheme!r}: use 'token' or 'Basic'")
    limiter, ip = ratelimit.limiter(), _client_ip(req)
    try:
        return engine_auth.check_token(site, key, secret, before_verify=lambda k: limiter.check_token(k, ip),
                                       conn=conn)
    except AuthenticationError:
        limiter.token_failed(key, ip)
        raise


# ------------------------------------------------------------------ requests

def authenticate(site: Site, req: Request, conn: Callable[[], sa.Connection]) -> str:
    """The user making this request ("Guest" when anonymous); ``conn()`` gives the request's connection.

    A cookie costs one SELECT; a session last seen more than ``SESSION_REFRESH_INTERVAL``
    ago is also written back (sliding expiry) and its cookies sent again.
    """
    header = req.headers.get("Authorization")
    if header:
        return _from_header(site, req, header, conn)
    token = req.cookies.get(SESSION_COOKIE)
    if not token:
        return GUEST
    session = sessions.lookup(site, token, _lifetime(), conn())
    if session is None:
        _clear_cookies()
        return GUEST
    if sessions.utcnow() - session.last_seen >= current_app.config["SESSION_REFRESH_INTERVAL"]:
        sessions.touch(site, session)
        _set_cookies(token, session.user, session.full_name)
    return session.user


def login(site: Site, usr: str, pwd: str) -> PasswordLogin:
    """Check a password (rate-limited) and start a server-side session; returns the user's name and full name.

    The client's previous session, if it sent one, ends: a login never reuses a token.
    """
    limiter = ratelimit.limiter()
    limiter.login_attempt(_client_ip(request))
    checked: list[str] = []  # the rate-limit key of the user, known once looked up

    def before_verify(user: str) -> None:
        limiter.check_user(user)
        checked.append(user)

    try:
        result = engine_auth.verify_login(site, usr, pwd, before_verify=before_verify)
    except AuthenticationError:
        if checked:
            limiter.login_failed(checked[0])
        raise
    limiter.login_succeeded(result.user)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        sessions.end(site, previous)
    token = sessions.start(site, result, _lifetime(), ip=request.remote_addr,
                           user_agent=request.user_agent.string)
    _set_cookies(token, result.user, result.full_name)
    return result


def logout(site: Site) -> None:
    """End the session of the request's cookie (every copy of it stops working) and delete the cookies."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sessions.end(site, token)
    _clear_cookies()

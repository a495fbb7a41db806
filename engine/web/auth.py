"""Who is calling: an API token, HTTP Basic with key:secret, or the session cookie; else Guest.

- ``Authorization: token <api_key>:<api_secret>``
- ``Authorization: Basic <base64 of api_key:api_secret>``
- the signed session cookie ``sid`` set by ``/api/method/login`` (HttpOnly, SameSite=Lax)

Credentials are checked by :mod:`engine.auth`; a wrong or malformed header is a 401,
never a silent fall-back to Guest.
"""

from __future__ import annotations

import base64
import binascii

from flask import Request
from flask import session as cookie_session

from engine.errors import AuthenticationError
from engine.site import Site

GUEST = "Guest"
SESSION_USER_KEY = "user"


def _key_secret(credentials: str, scheme: str) -> tuple[str, str]:
    key, sep, secret = credentials.strip().partition(":")
    if not sep or not key or not secret:
        raise AuthenticationError(f"Malformed {scheme} credentials: expected api_key:api_secret")
    return key, secret


def _from_header(site: Site, header: str) -> str:
    from engine import auth

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
    return auth.check_token(site, key, secret)


def _active(site: Site, user: str) -> bool:
    """Whether the user of a session cookie still exists and is enabled."""
    with site.session() as s:
        enabled = s.get_value("User", user, "enabled")
    return bool(enabled)


def authenticate(site: Site, request: Request) -> str:
    """The user making this request ("Guest" when anonymous)."""
    header = request.headers.get("Authorization")
    if header:
        return _from_header(site, header)
    user = cookie_session.get(SESSION_USER_KEY)
    if isinstance(user, str) and user:
        if _active(site, user):
            return user
        cookie_session.clear()  # a deleted or disabled user's cookie is void
    return GUEST


def login(site: Site, usr: str, pwd: str) -> str:
    """Check a password and start a cookie session; returns the user's name."""
    from engine import auth

    user = auth.check_password(site, usr, pwd)
    cookie_session.clear()
    cookie_session[SESSION_USER_KEY] = user
    cookie_session.permanent = True
    return user


def logout() -> None:
    cookie_session.clear()

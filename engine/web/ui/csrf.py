"""CSRF tokens for the desk's forms, bound to the login session.

A token is a SHA-256 of the ``sid`` session cookie (itself a 256-bit secret another
site can neither read nor set: HttpOnly, SameSite=Lax), or before login of a random
``csrf_seed`` cookie. It needs no server key, so every worker and host agrees on it.
Every POST to the desk must carry it (form field ``csrf_token`` or header
``X-CSRF-Token``). A token from another session, or none, is a 403 and nothing is
changed. The REST API keeps Frappe's rules (token auth needs no CSRF token; SameSite=Lax
keeps other sites' forms from sending the cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, after_this_request, g, request

from engine.errors import PermissionError
from engine.web.auth import SESSION_COOKIE

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SEED_COOKIE = "csrf_seed"


def _sign(seed: str) -> str:
    return hashlib.sha256(b"docframe-csrf\x00" + seed.encode("utf-8", "surrogatepass")).hexdigest()


def token() -> str:
    """The token for forms on this page (starts a pre-login seed cookie when there is no session)."""
    seed = request.cookies.get(SESSION_COOKIE) or request.cookies.get(SEED_COOKIE)
    if not seed:
        seed = g.get("docframe_csrf_seed")
        if seed is None:
            seed = g.docframe_csrf_seed = secrets.token_urlsafe(24)

            def set_seed(response: Response) -> Response:
                response.set_cookie(SEED_COOKIE, seed, httponly=True, samesite="Lax", secure=request.is_secure)
                return response

            after_this_request(set_seed)
    return _sign(seed)


def check() -> None:
    """Refuse a POST whose token does not match the caller's session (or pre-login seed)."""
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    for seed in (request.cookies.get(SESSION_COOKIE), request.cookies.get(SEED_COOKIE)):
        if seed and hmac.compare_digest(sent, _sign(seed)):
            return
    raise PermissionError("The form expired or came from another site (CSRF token missing or wrong): "
                          "reload the page and try again")

"""Authentication: passwords and API keys of the core User doctype.

Passwords and API secrets are stored as Argon2 hashes (argon2-cffi, through
:func:`engine.rules.validation.hash_password`): the User fields ``password`` and
``api_secret`` are Password fields, hashed by the document lifecycle when set and
never returned by queries. :func:`check_password` and :func:`check_token` read the
hashes directly and answer with the user's ID, or raise
:class:`~engine.errors.AuthenticationError` (401) with a message that does not tell
whether the user exists. A disabled user cannot authenticate either way.

Both take a ``before_verify`` callback run just before the Argon2 check (a rate limit
raises there, so refused guesses cost no hashing). :func:`verify_login` also answers
with a :func:`password_stamp` that login sessions keep: setting a new password, by any
path, changes the stamp and so ends the user's sessions.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from engine.errors import AuthenticationError, InvalidValueError
from engine.rules.permissions import ADMINISTRATOR
from engine.rules.validation import hash_password, verify_password
from engine.storage.db import reading

if TYPE_CHECKING:
    from engine.site.session import Session
    from engine.site.site import Site

ADMINISTRATOR_EMAIL = "admin@example.com"
INVALID_LOGIN = "Invalid login credentials"
INVALID_TOKEN = "Invalid API key or secret"

_dummy_hash: str | None = None


def _spend_equal_time(plain: str) -> None:
    """Verify against a throw-away hash so an unknown user takes as long as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_hex(16))
    verify_password(_dummy_hash, plain)


def _require_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"User: {what} must be a non-empty text (got {value!r})")
    return value


# ------------------------------------------------------------------ passwords

def set_password(session: Session, user: str, plain: str) -> None:
    """Set ``user``'s password (stored hashed). The session user needs write permission on User."""
    _require_text(plain, "the password")
    doc = session.get_doc("User", user)
    doc.password = plain
    doc.save()


@dataclass(frozen=True)
class PasswordLogin:
    """A successful password check: who, and the stamp of the password they used."""

    user: str
    full_name: str | None
    password_stamp: str


def password_stamp(stored_hash: str) -> str:
    """``$<salt>$`` of an Argon2 hash: a new password gets a new random salt, so a stamp taken
    at login stops matching the User's ``password`` column once the password changes.

    The salt alone reveals nothing about the password (it is public by design).
    """
    parts = stored_hash.split("$")  # '', 'argon2id', 'v=19', 'm=...,t=...,p=...', salt, hash
    if len(parts) != 6 or not parts[4]:
        raise ValueError("not an Argon2 encoded hash")
    return f"${parts[4]}$"


def verify_login(site: Site, usr: str, pwd: str,
                 before_verify: Callable[[str], None] | None = None) -> PasswordLogin:
    """Check ``usr`` (the user's ID or email) and ``pwd`` against an enabled user.

    ``before_verify`` is called with the user's ID (or ``usr`` lower-cased when no user
    matches) right before the Argon2 check and may raise to stop it, e.g. a rate limit:
    a refused attempt then costs no hashing.
    """
    if not isinstance(usr, str) or not usr or not isinstance(pwd, str) or not pwd:
        raise AuthenticationError(INVALID_LOGIN)
    t = site.table("User")
    columns = (t.c.name, t.c.full_name, t.c.enabled, t.c.password)
    with site.engine.connect() as conn:
        row = conn.execute(sa.select(*columns).where(site.name_match(t, usr))).first()
        if row is None:
            row = conn.execute(sa.select(*columns).where(sa.func.lower(t.c.email) == usr.lower())).first()
    if before_verify is not None:
        before_verify(str(row.name) if row is not None else usr.lower())
    if row is None or not row.password:
        _spend_equal_time(pwd)
        raise AuthenticationError(INVALID_LOGIN)
    if not verify_password(row.password, pwd):
        raise AuthenticationError(INVALID_LOGIN)
    if not row.enabled:
        raise AuthenticationError(f"User {row.name!r} is disabled")
    return PasswordLogin(str(row.name), row.full_name, password_stamp(row.password))


def check_password(site: Site, usr: str, pwd: str) -> str:
    """The user's ID if ``usr`` (the user's ID or email) and ``pwd`` match an enabled user."""
    return verify_login(site, usr, pwd).user


# ------------------------------------------------------------------ API keys

def generate_api_key(session: Session, user: str) -> tuple[str, str]:
    """A new (api_key, api_secret) pair for ``user``, replacing any previous pair.

    The secret is stored hashed: this is the only time it can be read.
    """
    doc = session.get_doc("User", user)
    key, secret = secrets.token_hex(8), secrets.token_hex(16)
    doc.api_key = key
    doc.api_secret = secret
    doc.save()
    return key, secret


def revoke_api_key(session: Session, user: str) -> None:
    """Remove ``user``'s API key pair: requests with it fail from now on."""
    with session.atomic():
        doc = session.get_doc("User", user)
        doc.api_key = None
        doc.save()
        t = session.site.table("User")
        # A cleared Password field keeps its old hash when saved through a form; drop it here.
        session.conn.execute(sa.update(t).where(t.c.name == doc.name).values(api_secret=None))


def _token_statement(site: Site) -> sa.Select:
    def build() -> sa.Select:
        t = site.table("User")
        return sa.select(t.c.name, t.c.enabled, t.c.api_key, t.c.api_secret).where(
            t.c.api_key == sa.bindparam("key"))

    return site.statement(("auth", "token"), build)


def check_token(site: Site, key: str, secret: str, before_verify: Callable[[str], None] | None = None,
                conn: Callable[[], sa.Connection] | None = None) -> str:
    """The ID of the enabled user whose API key is ``key`` and whose secret is ``secret``.

    ``before_verify`` is called with ``key`` right before an Argon2 check (none runs for a
    secret this process already verified) and may raise to stop it, e.g. a rate limit.
    ``conn``: gives the request's connection (saves a pool checkout), called only when the
    user's row must be read (not for a token the cache vouches for).
    """
    if not isinstance(key, str) or not key or not isinstance(secret, str) or not secret:
        raise AuthenticationError(INVALID_TOKEN)
    cache = site.token_cache
    epoch = cache.epoch()  # read before the user's row: a change committed after it sets a new one
    if epoch is not None and (user := cache.user(key, secret, epoch)) is not None:
        return user
    with reading(site.engine, conn() if conn is not None else None) as c:
        row = c.execute(_token_statement(site), {"key": key}).first()
    if row is None or row.api_key != key or not row.api_secret:  # exact, also under a _ci collation
        if before_verify is not None:
            before_verify(key)
        _spend_equal_time(secret)
        raise AuthenticationError(INVALID_TOKEN)
    if not site.verified_secrets.seen(key, secret, row.api_secret):
        if before_verify is not None:
            before_verify(key)
        if not verify_password(row.api_secret, secret):
            raise AuthenticationError(INVALID_TOKEN)
        site.verified_secrets.remember(key, secret, row.api_secret)
    if not row.enabled:
        raise AuthenticationError(f"User {row.name!r} is disabled")
    if epoch is not None:
        cache.remember(key, secret, epoch, str(row.name))
    return str(row.name)


# ------------------------------------------------------------------ Administrator

def has_administrator(site: Site) -> bool:
    """Whether the Administrator User record exists."""
    with site.session() as s:
        return s.exists("User", ADMINISTRATOR)


def ensure_administrator(site: Site, password: str) -> str:
    """Create the Administrator user with ``password``, or set its password; 'created' or 'updated'."""
    _require_text(password, "the Administrator password")
    with site.session() as s:
        if s.exists("User", ADMINISTRATOR):
            set_password(s, ADMINISTRATOR, password)
            return "updated"
        s.insert("User", name=ADMINISTRATOR, email=ADMINISTRATOR_EMAIL, full_name=ADMINISTRATOR,
                 password=password)
        return "created"

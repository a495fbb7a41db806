"""Server-side login sessions, stored in the engine's own table ``tab_auth_session``.

The ``sid`` cookie holds a random token (``secrets.token_urlsafe``); the table keeps only
its SHA-256, so a copy of the table cannot be replayed as cookies. Because the session
lives in the database, every gunicorn worker and host sees the same sessions, and
logout (deleting the row) voids every copy of the cookie.

One SELECT per cookie request finds the session joined with its User, and matches only
while the user still exists, is enabled and has the password the session was started
with (the row's ``password_stamp`` is the salt of the password hash at login, see
:func:`engine.site.auth.password_stamp`). Disabling, deleting, renaming the user or setting
a new password therefore ends their sessions at once, on every path that changes User.

``last_seen`` slides the expiry: a session unused for its lifetime is expired. It is
written at most once per refresh interval, not on every request. Expired rows are
deleted when someone logs in.

Times are naive UTC. Nothing here knows about Flask: :mod:`engine.web.auth` handles the
request and the cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from engine.site.auth import PasswordLogin
from engine.site.site import Site
from engine.storage.db import begin_write, reading
from engine.storage.schema import AUTH_SESSION_TABLE

IP_LENGTH = 64
USER_AGENT_LENGTH = 255


@dataclass(frozen=True)
class ActiveSession:
    """A live session found for a cookie token."""

    sid_hash: str
    user: str
    full_name: str | None
    last_seen: dt.datetime


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _table(site: Site) -> sa.Table:
    return site.metadata.tables[AUTH_SESSION_TABLE]


def _lookup_statement(site: Site) -> sa.Select:
    def build() -> sa.Select:
        s, u = _table(site), site.table("User")
        return (sa.select(s.c.user, u.c.full_name, s.c.last_seen)
                .select_from(s.join(u, u.c.name == s.c.user))
                .where(s.c.sid_hash == sa.bindparam("sid_hash"),
                       s.c.last_seen > sa.bindparam("cutoff", type_=s.c.last_seen.type),
                       u.c.enabled == 1,
                       u.c.password.contains(s.c.password_stamp)))

    return site.statement(("auth_session", "lookup"), build)


def start(site: Site, login: PasswordLogin, lifetime: dt.timedelta, *,
          ip: str | None = None, user_agent: str | None = None) -> str:
    """Store a new session for a checked login; returns the cookie token (shown only now).

    Sessions unused for ``lifetime`` are deleted on the way.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    s = _table(site)
    with site.engine.connect() as conn, begin_write(conn):
        conn.execute(s.delete().where(s.c.last_seen <= now - lifetime))
        conn.execute(s.insert().values(
            sid_hash=token_hash(token), user=login.user, password_stamp=login.password_stamp,
            creation=now, last_seen=now,
            ip=(ip or None) and ip[:IP_LENGTH], user_agent=(user_agent or None) and user_agent[:USER_AGENT_LENGTH]))
    return token


def lookup(site: Site, token: str, lifetime: dt.timedelta, conn: sa.Connection | None = None) -> ActiveSession | None:
    """The live session of a cookie token, or None (unknown, expired, or its user may no longer log in).

    ``conn``: the request's connection, if it has one (saves a pool checkout).
    """
    sid_hash = token_hash(token)
    with reading(site.engine, conn) as c:
        row = c.execute(_lookup_statement(site), {"sid_hash": sid_hash, "cutoff": utcnow() - lifetime}).first()
    return ActiveSession(sid_hash, str(row.user), row.full_name, row.last_seen) if row is not None else None


def touch(site: Site, session: ActiveSession) -> None:
    """Slide the session's expiry: it was used now."""
    s = _table(site)
    with site.engine.connect() as conn, begin_write(conn):
        conn.execute(s.update().where(s.c.sid_hash == session.sid_hash).values(last_seen=utcnow()))


def end(site: Site, token: str) -> None:
    """Delete the session of a cookie token (nothing happens for an unknown token)."""
    s = _table(site)
    with site.engine.connect() as conn, begin_write(conn):
        conn.execute(s.delete().where(s.c.sid_hash == token_hash(token)))

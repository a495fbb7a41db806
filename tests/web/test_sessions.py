"""Server-side login sessions: the ``sid`` cookie names a row of the session table, so
logout, a disabled or deleted user and a new password end every copy of the cookie, and
every worker (app) on the database sees the same sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
from http.cookies import SimpleCookie

import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.site.auth import set_password
from engine.storage.schema import AUTH_SESSION_TABLE
from engine.web import create_app
from tests.web.conftest import ADMIN_PASSWORD, APP_CONFIG, WebEnv

WHO = "/api/method/frappe.auth.get_logged_user"


def _add_user(web: WebEnv, email: str, password: str) -> None:
    with web.site.session() as s:
        s.insert("User", name=email, email=email, full_name="Ann Smith", roles=[{"role": "System Manager"}])
        set_password(s, email, password)


def _login(client: FlaskClient, usr: str, pwd: str) -> TestResponse:
    r = client.post("/api/method/login", data={"usr": usr, "pwd": pwd})
    assert r.status_code == 200, r.get_json()
    return r


def _who(client: FlaskClient) -> str | int:
    """The logged-in user, or the HTTP status when the request is refused."""
    r = client.get(WHO)
    return r.get_json()["message"] if r.status_code == 200 else r.status_code


def _set_cookies(r: TestResponse) -> dict[str, SimpleCookie]:
    out = {}
    for header in r.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        (name,) = cookie.keys()
        out[name] = cookie
    return out


def _copy(web: WebEnv, client: FlaskClient) -> FlaskClient:
    """Another client (as on another machine) sending the same session cookie."""
    other = web.anon()
    other.set_cookie("sid", client.get_cookie("sid").value)
    return other


def _rows(web: WebEnv) -> list[sa.RowMapping]:
    t = web.site.metadata.tables[AUTH_SESSION_TABLE]
    with web.site.engine.connect() as conn:
        return list(conn.execute(t.select().where(t.c.user != "Administrator")).mappings())


def _age_sessions(web: WebEnv, by: dt.timedelta) -> None:
    t = web.site.metadata.tables[AUTH_SESSION_TABLE]
    with web.site.engine.begin() as conn:
        for row in conn.execute(sa.select(t.c.sid_hash, t.c.last_seen).where(t.c.user != "Administrator")).all():
            conn.execute(t.update().where(t.c.sid_hash == row.sid_hash).values(last_seen=row.last_seen - by))


# ------------------------------------------------------------------ logout


def test_logout_ends_every_copy_of_the_cookie(web: WebEnv) -> None:
    client = web.anon()
    _login(client, "Administrator", ADMIN_PASSWORD)
    copied = _copy(web, client)
    assert _who(copied) == "Administrator"
    r = client.post("/api/method/logout")
    assert r.status_code == 200 and r.get_json() == {}
    cleared = _set_cookies(r)
    for name in ("sid", "user_id", "full_name", "system_user"):
        assert cleared[name][name].value == "" and cleared[name][name]["max-age"] == "0"
    assert _who(copied) == 401  # the copy sent after logout is Guest
    r = copied.get("/api/resource/Price%20List")
    assert r.status_code == 401 and r.get_json()["exc_type"] == "AuthenticationError"
    assert _who(web.client) == "Administrator"  # other sessions of the user go on


def test_a_token_that_is_no_session_is_guest_and_its_cookie_deleted(web: WebEnv) -> None:
    for value in ("Guest", "made-up-token", "x" * 500):
        client = web.anon()
        client.set_cookie("sid", value)
        r = client.get("/api/method/ping")
        assert r.status_code == 200 and r.get_json() == {"message": "pong"}
        assert _set_cookies(r)["sid"]["sid"]["max-age"] == "0"
        assert _who(client) == 401


def test_login_replaces_the_clients_previous_session(web: WebEnv) -> None:
    client = web.anon()
    _login(client, "Administrator", ADMIN_PASSWORD)
    before = _copy(web, client)
    _login(client, "Administrator", ADMIN_PASSWORD)
    assert client.get_cookie("sid").value != before.get_cookie("sid").value
    assert _who(client) == "Administrator"
    assert _who(before) == 401


# ------------------------------------------------------------------ cookies and storage


def test_login_cookies_and_flags(web: WebEnv) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    r = _login(web.anon(), "ann@example.com", "ann-pass-1")
    cookies = _set_cookies(r)
    sid = cookies["sid"]["sid"]
    assert sid["httponly"] is True and sid["samesite"] == "Lax" and sid["path"] == "/"
    assert not sid["secure"]  # plain HTTP
    assert sid["max-age"] == str(3 * 24 * 3600)
    assert len(sid.value) >= 40 and "ann" not in sid.value  # a random token, not signed data
    for name, value in (("user_id", "ann@example.com"), ("full_name", "Ann Smith"), ("system_user", "yes")):
        morsel = cookies[name][name]
        assert morsel.value == value and not morsel["httponly"] and morsel["samesite"] == "Lax"
    (row,) = _rows(web)  # the table keeps a hash of the token, never the token
    assert row["sid_hash"] == hashlib.sha256(sid.value.encode()).hexdigest()
    assert sid.value not in {str(v) for v in row.values()}
    assert row["user"] == "ann@example.com" and row["ip"] == "127.0.0.1"
    assert row["user_agent"].startswith("Werkzeug/")


def test_cookies_are_secure_over_https(web: WebEnv) -> None:
    client = web.app.test_client()
    r = client.post("/api/method/login", base_url="https://localhost",
                    data={"usr": "Administrator", "pwd": ADMIN_PASSWORD})
    assert r.status_code == 200
    cookies = _set_cookies(r)
    assert all(cookies[name][name]["secure"] for name in ("sid", "user_id", "full_name", "system_user"))
    r = client.post("/api/method/logout", base_url="https://localhost")
    assert _set_cookies(r)["sid"]["sid"]["secure"]


def test_two_workers_on_one_database_share_sessions(web: WebEnv) -> None:
    """Two apps stand for two gunicorn workers (or hosts): nothing of a session lives in the process."""
    worker_a, worker_b = web.app, create_app(web.site, {**APP_CONFIG, "SECRET_KEY": "another-key"})
    client_a = worker_a.test_client()
    _login(client_a, "Administrator", ADMIN_PASSWORD)
    client_b = worker_b.test_client()
    client_b.set_cookie("sid", client_a.get_cookie("sid").value)
    assert _who(client_b) == "Administrator"
    assert client_b.post("/api/method/logout").status_code == 200
    assert _who(client_a) == 401  # logged out on the other worker


# ------------------------------------------------------------------ the user changes


def test_a_new_password_ends_the_users_sessions_on_every_path(web: WebEnv) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    client = web.anon()
    _login(client, "ann@example.com", "ann-pass-1")
    with web.site.session() as s:  # an edit that leaves the password alone keeps the session
        s.set_value("User", "ann@example.com", {"full_name": "Ann Jones"})
    assert _who(client) == "ann@example.com"
    with web.site.session() as s:
        set_password(s, "ann@example.com", "ann-pass-2")
    assert _who(client) == 401
    _login(client, "ann@example.com", "ann-pass-2")
    assert _who(client) == "ann@example.com"
    # through the REST API, by an administrator
    r = web.client.put("/api/resource/User/ann@example.com", json={"password": "ann-pass-3"})
    assert r.status_code == 200, r.get_json()
    assert _who(client) == 401
    _login(client, "ann@example.com", "ann-pass-3")
    assert _who(client) == "ann@example.com"


def test_disabling_or_deleting_the_user_ends_their_sessions(web: WebEnv) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    client = web.anon()
    _login(client, "ann@example.com", "ann-pass-1")
    with web.site.session() as s:
        s.set_value("User", "ann@example.com", {"enabled": 0})
    assert _who(client) == 401
    with web.site.session() as s:
        s.set_value("User", "ann@example.com", {"enabled": 1})
    assert _who(client) == 401  # the cookie was void and deleted: enabling again does not revive it
    _login(client, "ann@example.com", "ann-pass-1")
    copied = _copy(web, client)
    assert web.client.delete("/api/resource/User/ann@example.com").status_code == 202
    assert _who(copied) == 401


# ------------------------------------------------------------------ expiry


def test_an_expired_session_is_guest_and_expired_rows_go_at_the_next_login(web: WebEnv) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    client = web.anon()
    _login(client, "ann@example.com", "ann-pass-1")
    copied = _copy(web, client)
    _age_sessions(web, dt.timedelta(days=3, seconds=1))
    r = client.get(WHO)
    assert r.status_code == 401 and _set_cookies(r)["sid"]["sid"]["max-age"] == "0"
    assert _who(copied) == 401
    assert len(_rows(web)) == 1  # still stored ...
    _login(web.anon(), "ann@example.com", "ann-pass-1")
    assert len(_rows(web)) == 1  # ... until a login deletes it: only the new session is left
    assert _who(web.client) == "Administrator"


def test_use_slides_the_expiry_but_is_written_at_most_once_an_interval(web: WebEnv) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    client = web.anon()
    _login(client, "ann@example.com", "ann-pass-1")
    (row,) = _rows(web)
    r = client.get(WHO)  # used again at once: nothing written, no cookie sent
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert _rows(web)[0]["last_seen"] == row["last_seen"]
    _age_sessions(web, dt.timedelta(days=2, hours=23))  # nearly expired, then used
    r = client.get(WHO)
    assert r.status_code == 200
    assert _set_cookies(r)["sid"]["sid"]["max-age"] == str(3 * 24 * 3600)  # the browser keeps it 3 more days
    assert _rows(web)[0]["last_seen"] >= row["last_seen"]
    _age_sessions(web, dt.timedelta(days=2, hours=23))  # a full lifetime after login, but recently used
    assert _who(client) == "ann@example.com"

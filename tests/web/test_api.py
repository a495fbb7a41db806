"""The REST API (Frappe v1 wire format) through Flask's test client on a real database."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from engine.site.auth import generate_api_key, revoke_api_key, set_password
from engine.web import create_app
from tests.web.conftest import ADMIN_PASSWORD, REPO_ROOT, WebEnv


def _server_messages(body: dict) -> list[dict]:
    return [json.loads(m) for m in json.loads(body["_server_messages"])]


def _assert_error_shape(body: dict, exc_type: str) -> None:
    assert body["exc_type"] == exc_type
    assert body["exception"].startswith(f"frappe.exceptions.{exc_type}: ")
    assert "Traceback" not in body["exc"] and json.loads(body["exc"]) == [body["exception"]]
    messages = _server_messages(body)
    assert messages and all(m["indicator"] == "red" and m["message"] for m in messages)
    assert isinstance(body["errors"], list) and body["errors"]
    assert all({"field", "message"} <= set(e) for e in body["errors"])


# ---------------------------------------------------------------- health, auth

def _token(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": f"token {key}:{secret}"}


def test_ping_without_login_and_security_headers(web: WebEnv) -> None:
    anon = web.anon()
    for path in ("/api/method/ping", "/api/method/ping/"):
        r = anon.get(path)
        assert r.status_code == 200 and r.get_json() == {"message": "pong"}
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Referrer-Policy" in r.headers
    assert anon.post("/", data={"cmd": "ping"}).get_json() == {"message": "pong"}


def test_resources_need_authentication(web: WebEnv) -> None:
    anon = web.anon()
    r = anon.get("/api/resource/Price%20List")
    assert r.status_code == 401
    _assert_error_shape(r.get_json(), "AuthenticationError")
    assert anon.post("/api/resource/Price%20List", json={"price_list_name": "X"}).status_code == 401
    assert anon.get("/api/method/frappe.auth.get_logged_user").status_code == 401
    assert web.client.get("/api/resource/Price%20List/X").status_code == 404  # nothing was created


def test_login_sets_an_httponly_cookie_and_logout_ends_it(web: WebEnv) -> None:
    client = web.anon()
    r = client.post("/api/method/login", data={"usr": "Administrator", "pwd": ADMIN_PASSWORD})
    assert r.status_code == 200
    assert r.get_json() == {"message": "Logged In", "home_page": "/app", "full_name": "Administrator"}
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("sid=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/method/frappe.auth.get_logged_user").get_json() == {"message": "Administrator"}
    assert client.get("/api/resource/Price%20List").status_code == 200
    assert client.post("/api/method/logout").status_code == 200
    assert client.get("/api/resource/Price%20List").status_code == 401


def test_login_with_json_and_by_email(web: WebEnv) -> None:
    client = web.anon()
    r = client.post("/api/method/login", json={"usr": "admin@example.com", "pwd": ADMIN_PASSWORD})
    assert r.status_code == 200
    assert client.get("/api/method/frappe.auth.get_logged_user").get_json() == {"message": "Administrator"}


@pytest.mark.parametrize("form", [{"usr": "Administrator", "pwd": "wrong"}, {"usr": "nobody@x.com", "pwd": "x"},
                                  {"usr": "Administrator"}])
def test_failed_login_is_401_and_sets_no_session(web: WebEnv, form: dict) -> None:
    client = web.anon()
    r = client.post("/api/method/login", data=form)
    assert r.status_code == 401
    _assert_error_shape(r.get_json(), "AuthenticationError")
    assert client.get("/api/resource/Price%20List").status_code == 401


def _add_user(web: WebEnv, email: str, password: str) -> None:
    with web.site.session() as s:
        s.insert("User", name=email, email=email, full_name="Ann Smith", roles=[{"role": "System Manager"}])
        set_password(s, email, password)


def test_login_of_another_user_and_disabled_user(web: WebEnv) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    client = web.anon()
    r = client.post("/api/method/login", data={"usr": "ann@example.com", "pwd": "ann-pass-1"})
    assert r.get_json()["full_name"] == "Ann Smith"
    assert client.get("/api/method/frappe.auth.get_logged_user").get_json() == {"message": "ann@example.com"}
    with web.site.session() as s:
        s.set_value("User", "ann@example.com", {"enabled": 0})
    # the cookie of a user who was disabled since is void
    assert client.get("/api/method/frappe.auth.get_logged_user").status_code == 401


def test_a_failed_login_says_why_in_message_as_frappe_does(web: WebEnv) -> None:
    r = web.anon().post("/api/method/login", data={"usr": "Administrator", "pwd": "wrong"})
    assert r.status_code == 401
    assert r.get_json()["message"] == "Invalid login credentials" and r.get_json()["exc_type"] == "AuthenticationError"
    v2 = web.anon().post("/api/v2/method/login", data={"usr": "Administrator", "pwd": "wrong"})
    assert v2.status_code == 401 and v2.get_json() == {"errors": [{
        "type": "AuthenticationError", "message": "Invalid login credentials", "title": "Message", "indicator": "red"}]}


def test_a_user_who_may_not_read_users_logs_in(web: WebEnv) -> None:
    """A Sales User has no permission on User; logging in still answers Frappe's 200 with the full name."""
    with web.site.session() as s:
        s.insert("User", name="rep@example.com", email="rep@example.com", full_name="Rep Smith",
                 roles=[{"role": "Sales User"}])
        set_password(s, "rep@example.com", "rep-pass-1")
    client = web.anon()
    r = client.post("/api/method/login", data={"usr": "rep@example.com", "pwd": "rep-pass-1"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"message": "Logged In", "home_page": "/app", "full_name": "Rep Smith"}
    assert client.get("/api/method/frappe.auth.get_logged_user").get_json() == {"message": "rep@example.com"}
    v2 = web.anon().post("/api/v2/method/login", json={"usr": "rep@example.com", "pwd": "rep-pass-1"})
    assert v2.status_code == 200 and v2.get_json()["full_name"] == "Rep Smith"


def test_token_and_basic_auth(web: WebEnv) -> None:
    anon = web.anon()
    r = anon.get("/api/method/frappe.auth.get_logged_user", headers=_token(web.api_key, web.api_secret))
    assert r.get_json() == {"message": "Administrator"}
    basic = base64.b64encode(f"{web.api_key}:{web.api_secret}".encode()).decode()
    r = anon.get("/api/resource/Price%20List", headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200 and {"name": "Standard Selling"} in r.get_json()["data"]
    assert "Set-Cookie" not in r.headers  # token calls start no cookie session
    assert anon.get("/api/resource/Price%20List").status_code == 401


@pytest.mark.parametrize("header", ["token nocolon", "token abc:wrong", "Basic !!!notbase64", "Bearer abc",
                                    "Basic " + base64.b64encode(b"abc:def").decode()])
def test_bad_credentials_are_401(web: WebEnv, header: str) -> None:
    r = web.anon().get("/api/method/ping", headers={"Authorization": header})
    assert r.status_code == 401
    _assert_error_shape(r.get_json(), "AuthenticationError")


def test_revoked_api_key_is_refused(web: WebEnv) -> None:
    _add_user(web, "ann@example.com", "ann-pass-1")
    with web.site.session() as s:
        key, secret = generate_api_key(s, "ann@example.com")
    url = "/api/method/frappe.auth.get_logged_user"
    assert web.anon().get(url, headers=_token(key, secret)).get_json() == {"message": "ann@example.com"}
    with web.site.session() as s:
        revoke_api_key(s, "ann@example.com")
    r = web.anon().get(url, headers=_token(key, secret))
    assert r.status_code == 401


# ------------------------------------------------------------------- resources

def _create_price_lists(web: WebEnv) -> None:
    for i, name in enumerate(["Retail EUR", "Wholesale EUR", "Retail USD"]):
        r = web.client.post("/api/resource/Price%20List",
                            json={"price_list_name": name, "selling": 1, "buying": i % 2})
        assert r.status_code == 200, r.get_json()


def test_list_fields_filters_order_and_paging(web: WebEnv) -> None:
    _create_price_lists(web)
    url = "/api/resource/Price%20List"
    r = web.client.get(url)
    assert r.status_code == 200
    assert sorted(row["name"] for row in r.get_json()["data"]) == sorted(
        ["Standard Selling", "Retail EUR", "Wholesale EUR", "Retail USD"])
    assert all(list(row) == ["name"] for row in r.get_json()["data"])

    q = {"fields": json.dumps(["name", "buying"]), "filters": json.dumps([["name", "like", "Retail%"]]),
         "order_by": "name desc"}
    data = web.client.get(url, query_string=q).get_json()["data"]
    assert data == [{"name": "Retail USD", "buying": 0}, {"name": "Retail EUR", "buying": 0}]

    q = {"filters": json.dumps({"buying": 1}), "fields": '["name"]'}
    assert web.client.get(url, query_string=q).get_json()["data"] == [{"name": "Wholesale EUR"}]
    q = {"or_filters": json.dumps([["name", "=", "Retail USD"], ["buying", "=", 1]]), "order_by": "name asc"}
    assert [r["name"] for r in web.client.get(url, query_string=q).get_json()["data"]] == [
        "Retail USD", "Wholesale EUR"]

    q = {"order_by": "name asc", "limit_start": 1, "limit_page_length": 2}
    assert [r["name"] for r in web.client.get(url, query_string=q).get_json()["data"]] == [
        "Retail USD", "Standard Selling"]
    q = {"order_by": "name asc", "limit": 1}
    assert len(web.client.get(url, query_string=q).get_json()["data"]) == 1


def test_list_page_length_defaults_to_20_and_0_means_all(web: WebEnv) -> None:
    with web.site.session() as s:
        for i in range(25):
            s.insert("Price List", price_list_name=f"PL {i:02d}")
    url = "/api/resource/Price%20List"
    assert len(web.client.get(url).get_json()["data"]) == 20
    r = web.client.get(url, query_string={"limit_page_length": 0})
    assert len(r.get_json()["data"]) == 26
    r = web.client.get(url, query_string={"limit_page_length": 0, "limit_start": 20, "order_by": "name asc"})
    assert [row["name"] for row in r.get_json()["data"]] == [f"PL {i}" for i in range(20, 25)] + ["Standard Selling"]
    r = web.client.get(url, query_string={"fields": '["*"]', "filters": '{"name": "PL 07"}'})
    [row] = r.get_json()["data"]
    assert row["price_list_name"] == "PL 07" and row["selling"] == 1 and isinstance(row["modified"], str)


def test_create_get_update_delete_with_child_rows(web: WebEnv) -> None:
    r = web.client.post("/api/resource/Customer",
                        json={"doctype": "Customer", "customer_name": "Acme & Sons Ltd",
                              "price_lists": [{"price_list": "Standard Selling"}]})
    assert r.status_code == 200, r.get_json()
    doc = r.get_json()["data"]
    assert doc["doctype"] == "Customer" and doc["name"] == "Acme & Sons Ltd"
    assert [row["price_list"] for row in doc["price_lists"]] == ["Standard Selling"]
    assert doc["price_lists"][0]["doctype"] == "Customer Price List"
    assert isinstance(doc["modified"], str) and len(doc["modified"]) == 26  # YYYY-MM-DD HH:MM:SS.ffffff
    assert doc["credit_limits"] == []

    url = "/api/resource/Customer/" + quote("Acme & Sons Ltd", safe="")
    got = web.client.get(url).get_json()["data"]
    assert got["customer_name"] == "Acme & Sons Ltd" and got["price_lists"][0]["price_list"] == "Standard Selling"

    r = web.client.put(url, json={"tax_id": "12345"})
    assert r.status_code == 200, r.get_json()
    updated = r.get_json()["data"]
    assert updated["tax_id"] == "12345"
    assert updated["customer_name"] == "Acme & Sons Ltd" and len(updated["price_lists"]) == 1  # untouched
    assert updated["modified"] > got["modified"]

    r = web.client.delete(url)
    assert r.status_code == 202 and r.get_json() == {"message": "ok"}
    r = web.client.get(url)
    assert r.status_code == 404
    _assert_error_shape(r.get_json(), "DoesNotExistError")


def test_create_from_form_data_and_suffixed_name(web: WebEnv) -> None:
    for _ in range(2):
        r = web.client.post("/api/resource/Customer",
                            data={"data": json.dumps({"customer_name": "Same Name"})})
        assert r.status_code == 200, r.get_json()
    names = sorted(row["name"] for row in web.client.get("/api/resource/Customer")
                   .get_json()["data"])
    assert names[0] == "Same Name" and names[1].startswith("Same Name") and len(names) == 2
    assert r.get_json()["data"]["name"] == names[1]  # the answer carries the final, suffixed name


def test_get_is_case_insensitive_and_numbers_are_json_numbers(web: WebEnv) -> None:
    web.client.post("/api/resource/Customer", json={
        "customer_name": "Numbers Inc", "credit_limits": []})
    r = web.client.get("/api/resource/Customer/numbers%20inc")
    assert r.status_code == 200 and r.get_json()["data"]["name"] == "Numbers Inc"
    r = web.client.get("/api/resource/Currency/EUR")
    assert r.status_code == 200
    assert isinstance(r.get_json()["data"]["fraction_units"], int)


def test_put_with_stale_modified_is_409(web: WebEnv) -> None:
    doc = web.client.post("/api/resource/Price%20List",
                          json={"price_list_name": "Lock Test"}).get_json()["data"]
    url = "/api/resource/Price%20List/Lock%20Test"
    r = web.client.put(url, json={"buying": 1, "modified": doc["modified"]})
    assert r.status_code == 200, r.get_json()
    r = web.client.put(url, json={"buying": 0, "modified": doc["modified"]})
    assert r.status_code == 409
    _assert_error_shape(r.get_json(), "TimestampMismatchError")
    assert web.client.get(url).get_json()["data"]["buying"] == 1


# ---------------------------------------------------------------------- errors

def test_unknown_doctype_and_missing_document_are_404(web: WebEnv) -> None:
    for url in ("/api/resource/No%20Such%20Type", "/api/resource/No%20Such%20Type/x",
                "/api/resource/Customer/nobody"):
        r = web.client.get(url)
        assert r.status_code == 404, url
        _assert_error_shape(r.get_json(), "DoesNotExistError")
    assert web.client.delete("/api/resource/Customer/nobody").status_code == 404
    r = web.client.get("/api/method/no.such.method")
    assert r.status_code == 404 and r.get_json()["exc_type"] == "DoesNotExistError"


def test_validation_errors_are_417_naming_the_field(web: WebEnv) -> None:
    r = web.client.post("/api/resource/Customer", json={"customer_type": "Company"})
    assert r.status_code == 417
    body = r.get_json()
    _assert_error_shape(body, "MandatoryError")
    assert any(e["field"] == "customer_name" for e in body["errors"])
    assert any("Customer Name" in m["message"] for m in _server_messages(body))

    r = web.client.post("/api/resource/Currency",
                        json={"name": "XXX", "fraction_units": "many"})
    assert r.status_code == 417
    assert r.get_json()["errors"][0]["field"] == "fraction_units"


def test_duplicate_is_409(web: WebEnv) -> None:
    r = web.client.post("/api/resource/Price%20List", json={"price_list_name": "Standard Selling"})
    assert r.status_code == 409
    assert r.get_json()["exc_type"] in ("DuplicateEntryError", "UniqueValidationError")


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"null", b"12"])
def test_malformed_or_non_object_bodies_are_417(web: WebEnv, body: bytes) -> None:
    for method in (web.client.post, web.client.put):
        url = "/api/resource/Price%20List" + ("/Standard%20Selling" if method == web.client.put else "")
        r = method(url, data=body, content_type="application/json")
        assert r.status_code == 417, (method, body, r.get_json())
        _assert_error_shape(r.get_json(), "ValidationError")
    r = web.client.post("/api/resource/Price%20List", data={"data": "{broken"})
    assert r.status_code == 417
    r = web.client.post("/api/method/login", data=b"{broken", content_type="application/json")
    assert r.status_code == 417


@pytest.mark.parametrize("query", [
    {"fields": '["name; DROP TABLE tabCustomer"]'},
    {"fields": '["(select password from tabUser)"]'},
    {"fields": "[broken"},
    {"fields": '{"a": 1}'},
    {"filters": '[["name", "= 1 OR 1=1 --", "x"]]'},
    {"filters": '[["name\\" OR 1=1 --", "=", "x"]]'},
    {"filters": '{"nosuchfield": 1}'},
    {"filters": "not json"},
    {"filters": '"text"'},
    {"or_filters": "[[1, 2, 3, 4, 5]]"},
    {"order_by": "name; DROP TABLE tabCustomer"},
    {"order_by": "(select 1) desc"},
    {"order_by": "name sideways"},
    {"limit_page_length": "ten"},
    {"limit_start": "-1"},
    {"limit_start": "1e400"},
])
def test_garbage_in_list_arguments_is_417(web: WebEnv, query: dict) -> None:
    r = web.client.get("/api/resource/Customer", query_string=query)
    assert r.status_code == 417, (query, r.get_json())
    body = r.get_json()
    assert body["exc_type"].endswith("Error") and "Traceback" not in body["exc"]


def test_huge_payload_is_413_with_a_frappe_body(web: WebEnv) -> None:
    blob = json.dumps({"customer_name": "x" * (11 * 1024 * 1024)})
    r = web.client.post("/api/resource/Customer", data=blob, content_type="application/json")
    assert r.status_code == 413
    assert r.get_json()["exc_type"] == "ValidationError"


def test_wrong_http_method_is_405_with_a_frappe_body(web: WebEnv) -> None:
    r = web.client.patch("/api/resource/Customer", json={})
    assert r.status_code == 405 and "exc_type" in r.get_json()
    r = web.client.get("/api/method/login", query_string={"usr": "Administrator", "pwd": ADMIN_PASSWORD})
    assert r.status_code == 403  # no passwords in URLs: login is POST only


def test_user_without_role_gets_403(web: WebEnv) -> None:
    with web.site.session() as s:
        s.insert("User", name="bob@example.com", email="bob@example.com")
        key, secret = generate_api_key(s, "bob@example.com")
    client = web.anon()
    r = client.get("/api/resource/Customer", headers=_token(key, secret))
    assert r.status_code == 403
    _assert_error_shape(r.get_json(), "PermissionError")
    assert "Customer" in r.get_json()["exception"]
    r = client.post("/api/resource/Price%20List", headers=_token(key, secret), json={"price_list_name": "B"})
    assert r.status_code == 403
    assert web.client.get("/api/resource/Price%20List/B").status_code == 404


def test_passwords_are_masked_and_child_doctypes_not_addressable(web: WebEnv) -> None:
    data = web.client.get("/api/resource/User/Administrator").get_json()["data"]
    assert data["password"] == data["api_secret"] == "********"
    r = web.client.get("/api/resource/User", query_string={"fields": '["name", "api_secret"]'})
    assert r.status_code == 417
    r = web.client.post("/api/resource/Customer%20Price%20List", json={"price_list": "Standard Selling"})
    assert r.status_code == 417


def test_unexpected_server_error_is_500_without_traceback(web: WebEnv, broken_price_list: None) -> None:
    r = web.client.post("/api/resource/Price%20List", json={"price_list_name": "Boom"})
    assert r.status_code == 500
    body = r.get_json()
    assert body["exc_type"] == "Exception" and "secret internals" not in json.dumps(body)
    assert "Traceback" not in json.dumps(body)


def test_wsgi_factory_reads_the_environment(web: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCFRAME_DATABASE_URL", web.site.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DOCFRAME_APP", str(REPO_ROOT))
    monkeypatch.setenv("DOCFRAME_SECRET_KEY", "from-env")
    app = create_app()
    try:
        assert app.config["SECRET_KEY"] == "from-env"
        r = app.test_client().get("/api/resource/Price%20List", headers=_token(web.api_key, web.api_secret))
        assert r.status_code == 200 and {"name": "Standard Selling"} in r.get_json()["data"]
    finally:
        app.extensions["docframe.site"].dispose()


def test_serve_command_is_listed() -> None:
    from click.testing import CliRunner

    from engine.cli import docframe

    result = CliRunner().invoke(docframe, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
    result = CliRunner().invoke(docframe, ["serve", "--port", "0"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_create_accepts_a_data_envelope_and_form_fields(web: WebEnv) -> None:
    r = web.client.post("/api/resource/Price%20List", json={"data": {"price_list_name": "Enveloped"}})
    assert r.status_code == 200 and r.get_json()["data"]["name"] == "Enveloped"
    r = web.client.post("/api/resource/Price%20List", json={"data": json.dumps({"price_list_name": "As Text"})})
    assert r.status_code == 200 and r.get_json()["data"]["name"] == "As Text"
    r = web.client.put("/api/resource/Price%20List/As%20Text", data={"data": json.dumps({"buying": 1})})
    assert r.status_code == 200 and r.get_json()["data"]["buying"] == 1
    r = web.client.post("/api/resource/Price%20List", data={"price_list_name": "Plain Form"})
    assert r.status_code == 200 and r.get_json()["data"]["name"] == "Plain Form"


def test_json_nested_thousands_deep_is_a_417_not_a_server_error(web: WebEnv) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    cases = [
        web.anon().post("/api/method/login", data=deep, content_type="application/json"),
        web.client.get("/api/resource/Customer", query_string={"fields": deep}),
        web.client.get("/api/resource/Customer", query_string={"filters": deep}),
        web.client.post("/api/method/frappe.client.insert", data={"doc": "{\"a\": " + deep + "}"}),
        web.client.post("/api/resource/Customer", data="{\"a\": " + deep + "}", content_type="application/json"),
    ]
    for r in cases:
        assert r.status_code == 417, r.get_data(as_text=True)[:200]
        assert "nested too deeply" in r.get_json()["exception"]
    v2 = web.client.post("/api/v2/document/Customer", data="{\"a\": " + deep + "}", content_type="application/json")
    assert v2.status_code == 417 and "nested too deeply" in v2.get_json()["errors"][0]["message"]


def test_v1_lists_group_by_as_frappe_get_list_does(web: WebEnv) -> None:
    with web.site.session() as s:
        for name, kind in (("A Co", "Company"), ("B Co", "Company"), ("C Person", "Individual")):
            s.insert("Customer", customer_name=name, customer_type=kind,
                     **({"first_name": "C", "last_name": "Person"} if kind == "Individual" else {}))
    query = {"fields": '["customer_type", "count(name) as n"]', "group_by": "customer_type",
             "order_by": "customer_type asc"}
    for r in (web.client.get("/api/resource/Customer", query_string=query),
              web.client.get("/api/method/frappe.client.get_list", query_string={"doctype": "Customer", **query})):
        assert r.status_code == 200, r.get_json()
        rows = r.get_json().get("data", r.get_json().get("message"))
        assert rows == [{"customer_type": "Company", "n": 2}, {"customer_type": "Individual", "n": 1}]


def test_a_clients_own_state_keys_are_ignored_not_echoed(web: WebEnv) -> None:
    """Frappe's desk and clients send __islocal, __unsaved... with a document: ignored, as Frappe does."""
    r = web.client.post("/api/resource/Customer", json={
        "customer_name": "Local Co", "__islocal": 1, "__unsaved": 1, "__onload": {"x": 1},
        "price_lists": [{"price_list": "Standard Selling", "__islocal": 1}]})
    assert r.status_code == 200, r.get_json()
    data = r.get_json()["data"]
    assert not [k for k in data if k.startswith("__")] and not [k for k in data["price_lists"][0] if k.startswith("__")]

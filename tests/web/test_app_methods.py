"""The app's whitelisted methods over HTTP: /api/method/hooks.customer.*, legacy cmd=, document methods."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import Site
from engine.errors import HookError
from engine.site.auth import generate_api_key
from tests.web.conftest import WebEnv

M = "/api/method/"


def _token(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": f"token {key}:{secret}"}


def _company_and_customers(web: WebEnv) -> None:
    with web.site.session() as s:
        s.insert("Company", company_name="Alpha", abbr="AL", default_currency="EUR", credit_limit=1000)
        s.insert("Customer", customer_name="Acme", customer_type="Company",
                 credit_limits=[{"company": "Alpha", "credit_limit": 5000}])
        s.insert("Customer", customer_name="Plain")
        s.insert("Contact", first_name="Jane", last_name="Doe",
                 links=[{"link_doctype": "Customer", "link_name": "Acme"}])
        s.insert("Contact", first_name="Joe", links=[{"link_doctype": "Customer", "link_name": "Acme"}])


def _user(web: WebEnv, email: str, *roles: str) -> dict[str, str]:
    with web.site.session() as s:
        s.insert("User", name=email, email=email, roles=[{"role": r} for r in roles])
        return _token(*generate_api_key(s, email))


def test_plain_method_get_post_legacy_and_trailing_slash(web: WebEnv) -> None:
    _company_and_customers(web)
    args = {"customer": "Acme", "company": "Alpha"}
    expected = {"customer": "Acme", "company": "Alpha", "credit_limit": 5000, "source": "customer"}
    assert web.client.get(M + "hooks.customer.get_credit_limit", query_string=args).get_json() == {
        "message": expected}
    assert web.client.post(M + "hooks.customer.get_credit_limit/", data=args).get_json()["message"] == expected
    assert web.client.post(M + "hooks.customer.get_credit_limit", json=args).get_json()["message"] == expected
    r = web.client.post("/", data={"cmd": "hooks.customer.get_credit_limit", **args})
    assert r.get_json()["message"] == expected
    plain = web.client.get(M + "hooks.customer.get_credit_limit", query_string={"customer": "Plain",
                                                                                 "company": "Alpha"})
    assert plain.get_json()["message"]["credit_limit"] == 1000 and plain.get_json()["message"]["source"] == "company"


def test_defaults_method_coerces_a_date_and_reports_bad_arguments(web: WebEnv) -> None:
    _company_and_customers(web)
    r = web.client.get(M + "hooks.customer.get_defaults",
                       query_string={"customer": "Acme", "company": "Alpha", "posting_date": "2026-01-31"})
    assert r.status_code == 200, r.get_json()
    message = r.get_json()["message"]
    assert message["contact_person"] == {"value": "Jane Doe", "source": "primary contact of Acme"}
    assert message["currency"] == {"value": "EUR", "source": "company:Alpha"}
    assert message["due_date"] == {"value": "2026-01-31", "source": "system"}

    r = web.client.get(M + "hooks.customer.get_defaults", query_string={"customer": "Acme", "posting_date": "31/01"})
    assert r.status_code == 417
    body = r.get_json()
    assert body["exc_type"] == "ValidationError"
    assert body["errors"][0]["field"] == "posting_date" and "must be date" in body["errors"][0]["message"]

    for bad in (5, [1], {"a": 1}, True):  # JSON values of the wrong kind: a 417 naming the argument, never a 500
        r = web.client.post(M + "hooks.customer.get_defaults", json={"customer": "Acme", "posting_date": bad})
        assert r.status_code == 417, r.get_json()
        assert r.get_json()["errors"][0]["field"] == "posting_date"
        assert "must be date: expected a date (YYYY-MM-DD)" in r.get_json()["errors"][0]["message"]
    r = web.client.post(M + "hooks.customer.get_credit_limit", json={"customer": "Acme", "company": ["Alpha"]})
    assert r.status_code == 417
    assert "argument 'company' must be str: expected text, not list" in r.get_data(as_text=True)
    r = web.client.post(M + "hooks.customer.get_credit_limit", json={"customer": "Acme", "company": 5})
    as_text = web.client.get(M + "hooks.customer.get_credit_limit", query_string={"customer": "Acme", "company": "5"})
    # a JSON number is its text, as in a query: both name company "5", which does not exist
    assert r.status_code == as_text.status_code == 404 and r.get_json() == as_text.get_json()
    assert "Company '5' does not exist" in r.get_json()["exception"]

    r = web.client.get(M + "hooks.customer.get_defaults", query_string={"company": "Alpha", "colour": "red"})
    assert r.status_code == 417
    fields = {e["field"]: e["message"] for e in r.get_json()["errors"]}
    assert set(fields) == {"customer", "colour"}
    assert "needs the argument 'customer'" in fields["customer"] and "no argument 'colour'" in fields["colour"]

    r = web.client.get(M + "hooks.customer.get_defaults", query_string={"customer": "Nobody"})
    assert r.status_code == 404 and "Nobody" in r.get_json()["exception"]


def test_unknown_private_and_guest_calls(web: WebEnv) -> None:
    for name in ("hooks.customer.nope", "hooks.customer.validate", "hooks.customer._full_name",
                 "hooks._defaults.resolve_defaults", "hooks.customer.get_contacts", "os.system"):
        r = web.client.post(M + name, data={"customer": "Acme"})
        assert r.status_code == 404, name
        assert r.get_json()["exc_type"] == "DoesNotExistError"
    r = web.anon().get(M + "hooks.customer.get_credit_limit", query_string={"customer": "Acme", "company": "A"})
    assert r.status_code == 401 and r.get_json()["exc_type"] == "AuthenticationError"


def test_methods_run_with_the_callers_permissions(web: WebEnv) -> None:
    _company_and_customers(web)
    nobody = _user(web, "nobody@example.com")
    sales = _user(web, "sales@example.com", "Sales User")  # sees only customers it manages
    args = {"customer": "Acme", "company": "Alpha"}
    r = web.anon().get(M + "hooks.customer.get_credit_limit", query_string=args, headers=nobody)
    assert r.status_code == 403 and r.get_json()["exc_type"] == "PermissionError"
    r = web.anon().get(M + "hooks.customer.get_credit_limit", query_string=args, headers=sales)
    assert r.status_code == 403  # the record rule hides Acme from this sales user
    with web.site.session() as s:
        s.set_value("Customer", "Acme", {"customer_manager": "sales@example.com"})
    r = web.anon().get(M + "hooks.customer.get_credit_limit", query_string=args, headers=sales)
    assert r.status_code == 200 and r.get_json()["message"]["credit_limit"] == 5000


def test_document_methods_read_over_get_and_write_only_over_post(web: WebEnv) -> None:
    _company_and_customers(web)
    base = "/api/v2/document/Customer/Acme/method/"
    r = web.client.get(base + "get_contacts")
    assert r.status_code == 200, r.get_json()
    data = r.get_json()["data"]
    assert data["contacts"] == ["Jane Doe", "Joe"] and data["primary_contact"] == "Jane Doe"

    # a write method over GET is refused (403) and changes nothing
    r = web.client.get(base + "set_primary_contact", query_string={"contact": "Joe"})
    assert r.status_code == 403
    r = web.client.post(base + "set_primary_contact", json={"contact": "Joe"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["data"] == "Joe"
    assert web.client.get(base + "get_contacts").get_json()["data"]["primary_contact"] == "Joe"

    r = web.client.post(base + "set_primary_contact", json={"contact": "Nobody Here"})
    assert r.status_code == 404
    with web.site.session() as s:
        s.insert("Contact", first_name="Stray")
    r = web.client.post(base + "set_primary_contact", json={"contact": "Stray"})
    assert r.status_code == 417 and "is not linked to Customer 'Acme'" in r.get_json()["errors"][0]["message"]
    assert web.client.get("/api/v2/document/Customer/Acme/method/nope").status_code == 404
    assert web.client.get("/api/v2/document/Customer/Nobody/method/get_contacts").status_code == 404


def test_document_write_method_needs_write_permission(web: WebEnv) -> None:
    _company_and_customers(web)
    reader = _user(web, "reader@example.com", "Accounts User")  # Customer: read, report
    base = "/api/v2/document/Customer/Acme/method/"
    assert web.anon().get(base + "get_contacts", headers=reader).status_code == 200
    r = web.anon().post(base + "set_primary_contact", json={"contact": "Joe"}, headers=reader)
    assert r.status_code == 403
    assert web.client.get(base + "get_contacts").get_json()["data"]["primary_contact"] == "Jane Doe"


@pytest.mark.parametrize("source, message", [
    ("from engine import whitelist\n\n@whitelist()\ndef f(customer):\n    pass\n", "must take (ctx, ...)"),
    ("from engine import whitelist\n\n@whitelist()\ndef f(ctx, *names):\n    pass\n", "positional-only or *args"),
])
def test_badly_shaped_methods_stop_start_up(tmp_path: Path, source: str, message: str) -> None:
    app = tmp_path / "app"
    (app / "doctypes").mkdir(parents=True)
    (app / "hooks").mkdir()
    (app / "doctypes" / "note.yaml").write_text(
        "name: Note\nnaming: {rule: hash}\nfields:\n  - {name: title, type: Data}\n")
    (app / "hooks" / "note.py").write_text(source)
    with pytest.raises(HookError, match=re.escape(message)):
        Site("sqlite://", app)


def test_whitelist_refuses_unknown_http_methods() -> None:
    from engine import whitelist

    with pytest.raises(ValueError, match="takes some of"):
        whitelist(methods=["FETCH"])

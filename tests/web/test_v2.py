"""Frappe's v2 REST API (``/api/v2/...``) through Flask's test client on a real database."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from engine import whitelist
from engine.documents.document import Document
from engine.documents.whitelist import collect
from engine.errors import RateLimitExceededError
from engine.site.auth import generate_api_key
from engine.site.session import Session
from tests.web.conftest import ADMIN_PASSWORD, WebEnv

V2 = "/api/v2"
PRICE_LISTS = f"{V2}/document/Price%20List"


def _errors(r: Any, status: int, exc_type: str | None) -> list[dict[str, Any]]:
    """The v2 error entries of an answer, after checking its status and shape (``exc_type`` None: any)."""
    assert r.status_code == status, r.get_json()
    body = r.get_json()
    assert list(body) == ["errors"], body  # no v1 keys (exc, exc_type, _server_messages)
    assert body["errors"], body
    for e in body["errors"]:
        assert e["type"] == exc_type if exc_type else e["type"].endswith("Error"), body
        assert e["message"] and e["indicator"] == "red", body
    assert "Traceback" not in json.dumps(body)
    return body["errors"]  # type: ignore[no-any-return]


def _make_price_lists(web: WebEnv, count: int) -> None:
    with web.site.session() as s:
        for i in range(count):
            s.insert("Price List", price_list_name=f"PL {i:02d}", buying=i % 2)


def _user(web: WebEnv, email: str, *roles: str) -> dict[str, str]:
    """A user with ``roles``; returns their token Authorization header."""
    with web.site.session() as s:
        s.insert("User", name=email, email=email, roles=[{"role": r} for r in roles])
        key, secret = generate_api_key(s, email)
    return {"Authorization": f"token {key}:{secret}"}


# ------------------------------------------------------------------ list

def test_list_pages_with_has_next_page(web: WebEnv) -> None:
    _make_price_lists(web, 25)  # + Standard Selling = 26 rows
    r = web.client.get(PRICE_LISTS)
    assert r.status_code == 200
    body = r.get_json()
    assert list(body) == ["data", "has_next_page"]
    assert len(body["data"]) == 20 and body["has_next_page"] is True
    assert all(list(row) == ["name"] for row in body["data"])

    def page(**q: Any) -> dict[str, Any]:
        return web.client.get(PRICE_LISTS, query_string={"order_by": "name asc", **q}).get_json()  # type: ignore

    last = page(start=20)
    assert [row["name"] for row in last["data"]] == [f"PL {i}" for i in range(20, 25)] + ["Standard Selling"]
    assert last["has_next_page"] is False
    assert page(limit=26)["has_next_page"] is False and len(page(limit=26)["data"]) == 26
    assert page(limit=25)["has_next_page"] is True
    assert page(start=24, limit=2) == {"data": [{"name": "PL 24"}, {"name": "Standard Selling"}],
                                       "has_next_page": False}
    assert page(start=26) == {"data": [], "has_next_page": False}
    assert page(limit=0) == {"data": [], "has_next_page": True}  # Frappe: limit 0 is an empty page


def test_list_fields_filters_order_group_and_as_dict(web: WebEnv) -> None:
    _make_price_lists(web, 4)
    q = {"fields": json.dumps(["name", "buying"]), "filters": json.dumps([["name", "like", "PL%"]]),
         "order_by": "name desc", "limit": 3}
    body = web.client.get(PRICE_LISTS, query_string=q).get_json()
    assert body == {"data": [{"name": "PL 03", "buying": 1}, {"name": "PL 02", "buying": 0},
                             {"name": "PL 01", "buying": 1}], "has_next_page": True}
    q = {"filters": json.dumps({"buying": 1}), "order_by": "name asc"}
    assert web.client.get(PRICE_LISTS, query_string=q).get_json()["data"] == [{"name": "PL 01"}, {"name": "PL 03"}]
    q = {"or_filters": json.dumps([["name", "=", "PL 00"], ["name", "=", "Standard Selling"]]),
         "order_by": "name asc", "fields": '["name", "selling"]', "as_dict": "0"}
    assert web.client.get(PRICE_LISTS, query_string=q).get_json()["data"] == [["PL 00", 1], ["Standard Selling", 1]]
    q = {"fields": json.dumps(["buying", "count(name) as n"]), "group_by": "buying", "order_by": "buying asc"}
    assert web.client.get(PRICE_LISTS, query_string=q).get_json()["data"] == [{"buying": 0, "n": 3},
                                                                             {"buying": 1, "n": 2}]


@pytest.mark.parametrize("query", [
    {"limit": "ten"}, {"limit": "-1"}, {"start": "-5"}, {"start": "1e400"}, {"start": "99999999999999999999"},
    {"fields": '["name; DROP TABLE tab_price_list"]'}, {"fields": "[broken"},
    {"filters": '{"nosuchfield": 1}'}, {"filters": '[["name", "= 1 OR 1=1 --", "x"]]'},
    {"or_filters": "[[1, 2, 3, 4, 5]]"}, {"order_by": "name; DROP TABLE tab_price_list"},
    {"group_by": "(select 1)"},
])
def test_garbage_list_arguments_are_417(web: WebEnv, query: dict[str, str]) -> None:
    _errors(web.client.get(PRICE_LISTS, query_string=query), 417, None)


# ------------------------------------------------------------------ documents

def test_create_read_update_delete_with_child_rows(web: WebEnv) -> None:
    r = web.client.post(f"{V2}/document/Customer",
                        json={"doctype": "Customer", "customer_name": "Acme & Sons Ltd",
                              "price_lists": [{"price_list": "Standard Selling"}]})
    assert r.status_code == 200, r.get_json()
    created = r.get_json()["data"]
    assert created["doctype"] == "Customer" and created["name"] == "Acme & Sons Ltd"
    assert created["owner"] == "Administrator" and created["credit_limits"] == []
    assert [(row["doctype"], row["price_list"]) for row in created["price_lists"]] == [
        ("Customer Price List", "Standard Selling")]

    url = f"{V2}/document/Customer/" + quote("Acme & Sons Ltd", safe="")
    got = web.client.get(url).get_json()
    assert list(got) == ["data"] and got["data"]["price_lists"][0]["price_list"] == "Standard Selling"

    r = web.client.patch(url, json={"tax_id": "12345", "owner": "someone@else.com", "name": "Renamed",
                                    "creation": "2000-01-01 00:00:00"})
    assert r.status_code == 200, r.get_json()
    patched = r.get_json()["data"]
    assert patched["tax_id"] == "12345" and patched["name"] == "Acme & Sons Ltd"
    assert patched["owner"] == "Administrator" and patched["creation"] == got["data"]["creation"]
    assert len(patched["price_lists"]) == 1 and patched["modified"] > got["data"]["modified"]

    r = web.client.put(url + "/", json={"notes": "via PUT", "price_lists": []})
    assert r.status_code == 200 and r.get_json()["data"]["notes"] == "via PUT"
    assert web.client.get(url).get_json()["data"]["price_lists"] == []

    r = web.client.delete(url)
    assert r.status_code == 202 and r.get_json() == {"data": "ok"}
    _errors(web.client.get(url), 404, "DoesNotExistError")
    _errors(web.client.delete(url), 404, "DoesNotExistError")


def test_trailing_slashes_spaces_and_case_insensitive_ids(web: WebEnv) -> None:
    web.client.post(PRICE_LISTS + "/", json={"price_list_name": "Retail EUR"})
    for url in (PRICE_LISTS + "/", f"{PRICE_LISTS}/Retail%20EUR/", f"{PRICE_LISTS}/retail%20eur",
                f"{V2}/doctype/Price%20List/meta/", f"{V2}/doctype/Price%20List/count/", f"{V2}/method/ping/"):
        assert web.client.get(url).status_code == 200, url
    assert web.client.get(f"{PRICE_LISTS}/retail%20eur").get_json()["data"]["name"] == "Retail EUR"
    assert web.client.patch(f"{PRICE_LISTS}/Retail%20EUR/", json={"buying": 1}).get_json()["data"]["buying"] == 1
    assert web.client.delete(f"{PRICE_LISTS}/Retail%20EUR/").status_code == 202


def test_ids_with_slashes(web: WebEnv) -> None:
    r = web.client.post(PRICE_LISTS, json={"price_list_name": "EU/Retail"})
    assert r.status_code == 200, r.get_json()
    assert web.client.get(f"{PRICE_LISTS}/EU/Retail").get_json()["data"]["name"] == "EU/Retail"
    assert web.client.get(f"{PRICE_LISTS}/EU%2FRetail/").get_json()["data"]["name"] == "EU/Retail"


def test_stale_modified_is_409_and_changes_nothing(web: WebEnv) -> None:
    doc = web.client.post(PRICE_LISTS, json={"price_list_name": "Lock Test"}).get_json()["data"]
    url = f"{PRICE_LISTS}/Lock%20Test"
    assert web.client.patch(url, json={"buying": 1, "modified": doc["modified"]}).status_code == 200
    _errors(web.client.patch(url, json={"buying": 0, "modified": doc["modified"]}), 409, "TimestampMismatchError")
    assert web.client.get(url).get_json()["data"]["buying"] == 1


def test_copy_leaves_out_id_owner_and_timestamps(web: WebEnv) -> None:
    web.client.post(f"{V2}/document/Customer", json={
        "customer_name": "Copy Source", "price_lists": [{"price_list": "Standard Selling"}]})
    r = web.client.get(f"{V2}/document/Customer/Copy%20Source/copy")
    assert r.status_code == 200
    copy = r.get_json()["data"]
    assert copy["doctype"] == "Customer" and copy["customer_name"] == "Copy Source"
    assert not {"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"} & set(copy)
    assert [row["price_list"] for row in copy["price_lists"]] == ["Standard Selling"]
    assert not {"name", "owner", "creation", "modified"} & set(copy["price_lists"][0])
    r = web.client.post(f"{V2}/document/Customer", json=copy)
    assert r.status_code == 200 and r.get_json()["data"]["name"].startswith("Copy Source-")


def test_validation_errors_name_the_field(web: WebEnv) -> None:
    r = web.client.post(f"{V2}/document/Customer", json={"customer_type": "Company"})
    [error] = _errors(r, 417, "MandatoryError")
    assert error["field"] == "customer_name" and error["doctype"] == "Customer"
    assert "Customer Name" in error["message"] and error["title"] == "Message"

    r = web.client.post(f"{V2}/document/Customer", json={"customer_name": "X", "credit_days": "many",
                                                         "customer_type": "Robot"})
    fields = {e["field"] for e in _errors(r, 417, None)}
    assert {"credit_days", "customer_type"} <= fields

    for body in (b"{not json", b"[1, 2]", b'"text"'):
        _errors(web.client.post(PRICE_LISTS, data=body, content_type="application/json"), 417, "ValidationError")
        _errors(web.client.patch(f"{PRICE_LISTS}/Standard%20Selling", data=body, content_type="application/json"),
                417, "ValidationError")


def test_duplicate_is_409(web: WebEnv) -> None:
    r = web.client.post(PRICE_LISTS, json={"price_list_name": "Standard Selling"})
    assert r.status_code == 409
    assert r.get_json()["errors"][0]["type"] in ("DuplicateEntryError", "UniqueValidationError")


def test_child_doctypes_are_not_addressed_directly(web: WebEnv) -> None:
    _errors(web.client.get(f"{V2}/document/Customer%20Price%20List/x"), 417, "InvalidValueError")


# ------------------------------------------------------------------ doctype: meta and count

def test_meta_in_frappe_shape(web: WebEnv) -> None:
    r = web.client.get(f"{V2}/doctype/Customer/meta")
    assert r.status_code == 200 and list(r.get_json()) == ["data"]
    meta = r.get_json()["data"]
    assert meta["name"] == "Customer" and meta["doctype"] == "DocType" and meta["module"] == "Selling"
    assert meta["istable"] == 0 and meta["is_submittable"] == 0 and meta["is_tree"] == 0
    assert meta["track_changes"] == 1 and meta["autoname"] == "field:customer_name"
    assert meta["title_field"] == "customer_name"
    assert meta["search_fields"] == "customer_name,customer_number,alternate_name"
    fields = {f["fieldname"]: f for f in meta["fields"]}
    assert {"fieldname", "fieldtype", "label", "reqd", "unique", "read_only", "hidden", "in_list_view",
            "in_standard_filter", "idx"} <= set(fields["customer_name"])
    assert fields["customer_name"]["reqd"] == 1 and fields["customer_name"]["fieldtype"] == "Data"
    assert fields["customer_type"]["options"] == "Company\nIndividual"
    assert fields["customer_type"]["default"] == "Company"
    assert fields["customer_type"]["set_only_once"] == 1 and fields["customer_type"]["in_standard_filter"] == 1
    assert fields["customer_number"]["unique"] == 1 and fields["customer_number"]["length"] == 40
    assert fields["price_lists"]["fieldtype"] == "Table" and fields["price_lists"]["options"] == "Customer Price List"
    assert fields["disabled"]["fieldtype"] == "Check" and fields["disabled"]["default"] == "0"
    assert fields["column_break_classification"]["fieldtype"] == "Column Break"
    assert [f["idx"] for f in meta["fields"]] == list(range(1, len(meta["fields"]) + 1))
    assert not {"name", "owner", "modified"} & set(fields)  # standard columns are not meta fields, as in Frappe
    perms = {p["role"]: p for p in meta["permissions"]}
    assert perms["Sales User"]["read"] == 1 and perms["Sales User"]["delete"] == 0
    assert "children" not in r.get_json()


def test_meta_of_child_tree_and_children(web: WebEnv) -> None:
    r = web.client.get(f"{V2}/doctype/Customer/meta", query_string={"include": "children"})
    children = r.get_json()["children"]
    assert [c["name"] for c in children] == ["Customer Bank Account", "Customer Company Account",
                                             "Customer Credit Limit", "Customer Price List", "Sales Team"]
    assert all(c["istable"] == 1 and "autoname" not in c for c in children)
    child = web.client.get(f"{V2}/doctype/Customer%20Price%20List/meta").get_json()["data"]
    assert child["istable"] == 1 and [f["fieldname"] for f in child["fields"]] == ["price_list"]
    tree = web.client.get(f"{V2}/doctype/Territory/meta").get_json()["data"]
    assert tree["is_tree"] == 1 and tree["nsm_parent_field"] in {f["fieldname"] for f in tree["fields"]}
    [error] = _errors(web.client.get(f"{V2}/doctype/Customer/meta", query_string={"include": "children,votes"}),
                      417, "ValidationError")
    assert "votes" in error["message"] and error["field"] == "include"
    _errors(web.client.get(f"{V2}/doctype/No%20Such%20Type/meta"), 404, "DoesNotExistError")


def test_count(web: WebEnv) -> None:
    _make_price_lists(web, 5)
    url = f"{V2}/doctype/Price%20List/count"
    assert web.client.get(url).get_json() == {"data": 6}
    assert web.client.get(url, query_string={"filters": '{"buying": 1}'}).get_json() == {"data": 2}
    q = {"filters": '[["name", "like", "PL%"]]', "or_filters": '[["buying", "=", 1], ["name", "=", "PL 00"]]'}
    assert web.client.get(url, query_string=q).get_json() == {"data": 3}
    _errors(web.client.get(url, query_string={"filters": '{"nosuchfield": 1}'}), 417, None)
    _errors(web.client.get(f"{V2}/doctype/No%20Such%20Type/count"), 404, "DoesNotExistError")


# ------------------------------------------------------------------ methods

@pytest.fixture
def methods(web: WebEnv) -> Iterator[None]:
    """Whitelisted methods of the Price List hook module, for this test only."""
    module = types.ModuleType("v2_test_methods")

    @whitelist()
    def describe(doc: Document, ctx: Session, prefix: str = "") -> dict[str, Any]:
        return {"text": f"{prefix}{doc.name}", "user": ctx.user}

    @whitelist(methods=["POST"])
    def enable_buying(doc: Document, ctx: Session, note: str) -> str:
        doc.buying = 1
        doc.save()
        return f"{doc.name}: {note}"

    @whitelist()
    def double(ctx: Session, value: int) -> int:
        return value * 2

    @whitelist()
    def nothing(ctx: Session) -> None:
        return None

    @whitelist()
    def throttled(ctx: Session) -> None:
        raise RateLimitExceededError("Too many calls: try again in 5 s", 5)

    @whitelist()
    def broken(ctx: Session) -> None:
        raise RuntimeError("secret internals")

    for fn in (describe, enable_buying, double, nothing, throttled, broken):
        setattr(module, fn.__name__, fn)
    found = collect(module, f"{web.site.app.hooks_dir.name}.price_list", "Price List", "test")
    hooks = web.site.hooks
    saved = dict(hooks.methods), dict(hooks.doc_methods)
    hooks.add_methods(found)
    try:
        yield
    finally:
        hooks.methods.clear()
        hooks.methods.update(saved[0])
        hooks.doc_methods.clear()
        hooks.doc_methods.update(saved[1])


def test_document_methods(web: WebEnv, methods: None) -> None:
    url = f"{PRICE_LISTS}/Standard%20Selling/method"
    r = web.client.get(f"{url}/describe", query_string={"prefix": "PL: "})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["data"] == {"text": "PL: Standard Selling", "user": "Administrator"}
    assert [d["name"] for d in body["docs"]] == ["Standard Selling"]  # as Frappe: the document after the call
    assert web.client.post(f"{url}/describe/", json={}).get_json()["data"]["text"] == "Standard Selling"

    r = web.client.post(f"{url}/enable_buying", json={"note": "done"})
    assert r.status_code == 200 and r.get_json()["data"] == "Standard Selling: done"
    assert r.get_json()["docs"][0]["buying"] == 1
    assert web.client.get(f"{PRICE_LISTS}/Standard%20Selling").get_json()["data"]["buying"] == 1

    _errors(web.client.get(f"{url}/enable_buying", query_string={"note": "x"}), 403, "PermissionError")
    [error] = _errors(web.client.post(f"{url}/enable_buying", json={}), 417, "ValidationError")
    assert error["field"] == "note"
    _errors(web.client.get(f"{url}/no_such_method"), 404, "DoesNotExistError")
    _errors(web.client.get(f"{PRICE_LISTS}/Nope/method/describe"), 404, "DoesNotExistError")


def test_methods_answer_data(web: WebEnv, methods: None) -> None:
    anon = web.anon()
    assert anon.get(f"{V2}/method/ping").get_json() == {"data": "pong"}
    assert anon.post(f"{V2}/method/frappe.handler.ping").get_json() == {"data": "pong"}
    assert web.client.get(f"{V2}/method/frappe.auth.get_logged_user").get_json() == {"data": "Administrator"}
    assert anon.get(f"{V2}/method/frappe.auth.get_logged_user", headers=web.token).get_json() == {
        "data": "Administrator"}
    r = web.client.get(f"{V2}/method/frappe.client.get_list",
                       query_string={"doctype": "Price List", "fields": '["name", "selling"]'})
    assert r.get_json() == {"data": [{"name": "Standard Selling", "selling": 1}]}
    assert web.client.get(f"{V2}/method/frappe.client.get_count", query_string={"doctype": "Price List"}
                          ).get_json() == {"data": 1}
    r = web.client.post(f"{V2}/method/frappe.client.insert", json={"doc": {"doctype": "Price List",
                                                                            "price_list_name": "Via Client"}})
    assert r.status_code == 200 and r.get_json()["data"]["name"] == "Via Client"

    hooks = web.site.app.hooks_dir.name
    assert web.client.get(f"{V2}/method/{hooks}.price_list.double", query_string={"value": "21"}
                          ).get_json() == {"data": 42}
    assert web.client.post(f"{V2}/method/Price%20List/double", json={"value": 4}).get_json() == {"data": 8}
    assert web.client.get(f"{V2}/method/{hooks}.price_list.nothing").get_json() == {}
    _errors(web.client.get(f"{V2}/method/frappe.client.insert"), 403, "PermissionError")
    _errors(web.client.get(f"{V2}/method/no.such.method"), 404, "DoesNotExistError")
    _errors(web.client.get(f"{V2}/method/No%20Such%20Type/double"), 404, "DoesNotExistError")
    _errors(web.client.get(f"{V2}/method/{hooks}.price_list.double", query_string={"value": "x"}),
            417, "ValidationError")
    _errors(anon.get(f"{V2}/method/{hooks}.price_list.double", query_string={"value": "1"}),
            401, "AuthenticationError")
    r = web.client.get(f"{V2}/method/{hooks}.price_list.throttled")
    assert _errors(r, 429, "RateLimitExceededError")[0]["message"].startswith("Too many calls")


def test_unexpected_error_is_500_without_internals(web: WebEnv, methods: None, broken_price_list: None) -> None:
    r = web.client.get(f"{V2}/method/{web.site.app.hooks_dir.name}.price_list.broken")
    assert r.status_code == 500
    assert r.get_json() == {"errors": [{"type": "Exception", "message": "Internal server error",
                                        "title": "Message", "indicator": "red"}]}

    r = web.client.post(PRICE_LISTS, json={"price_list_name": "Boom"})
    assert r.status_code == 500 and "secret internals" not in r.get_data(as_text=True)


def test_login_and_logout_answer_as_frappe(web: WebEnv) -> None:
    client = web.anon()
    r = client.post(f"{V2}/method/login", json={"usr": "Administrator", "pwd": ADMIN_PASSWORD})
    assert r.status_code == 200
    assert r.get_json() == {"message": "Logged In", "home_page": "/app", "full_name": "Administrator"}
    assert "HttpOnly" in r.headers["Set-Cookie"]
    assert client.get(f"{V2}/method/frappe.auth.get_logged_user").get_json() == {"data": "Administrator"}
    assert client.get(PRICE_LISTS).status_code == 200
    r = client.post(f"{V2}/method/logout")
    assert r.status_code == 200 and r.get_json() == {}
    _errors(client.get(PRICE_LISTS), 401, "AuthenticationError")
    _errors(client.post(f"{V2}/method/login", json={"usr": "Administrator", "pwd": "wrong"}),
            401, "AuthenticationError")
    _errors(client.post(f"{V2}/method/login", data={"usr": "Administrator"}), 401, "AuthenticationError")


# ------------------------------------------------------------------ errors and permissions

def test_guest_gets_401_everywhere_but_ping(web: WebEnv) -> None:
    anon = web.anon()
    for method, url in (("get", PRICE_LISTS), ("post", PRICE_LISTS), ("get", f"{PRICE_LISTS}/Standard%20Selling"),
                        ("patch", f"{PRICE_LISTS}/Standard%20Selling"), ("delete", f"{PRICE_LISTS}/Standard%20Selling"),
                        ("get", f"{PRICE_LISTS}/Standard%20Selling/copy"),
                        ("get", f"{V2}/doctype/Price%20List/meta"), ("get", f"{V2}/doctype/Price%20List/count"),
                        ("get", f"{V2}/method/frappe.client.get_list?doctype=Price%20List")):
        _errors(getattr(anon, method)(url, json={"price_list_name": "G"} if method in ("post", "patch") else None),
                401, "AuthenticationError")
    assert web.client.get(f"{PRICE_LISTS}/Standard%20Selling").get_json()["data"]["buying"] == 0
    _errors(anon.get(PRICE_LISTS, headers={"Authorization": "token abc:wrong"}), 401, "AuthenticationError")


def test_unknown_routes_wrong_verbs_and_huge_bodies(web: WebEnv) -> None:
    for url in (f"{V2}/nothing", f"{V2}", f"{V2}/document", f"{V2}/doctype/Customer/rows",
                f"{V2}/document/No%20Such%20Type", f"{V2}/document/Customer/nobody"):
        _errors(web.client.get(url), 404, "DoesNotExistError")
    r = web.client.patch(f"{V2}/document/Customer", json={})
    _errors(r, 405, "ValidationError")
    assert set(r.headers["Allow"].split(", ")) >= {"GET", "POST"}
    _errors(web.client.post(f"{PRICE_LISTS}/Standard%20Selling", json={}), 405, "ValidationError")
    _errors(web.client.delete(f"{V2}/doctype/Customer/meta"), 405, "ValidationError")
    blob = json.dumps({"customer_name": "x" * (11 * 1024 * 1024)})
    _errors(web.client.post(f"{V2}/document/Customer", data=blob, content_type="application/json"),
            413, "ValidationError")
    # v1 keeps its own body
    r = web.client.get("/api/resource/Customer/nobody")
    assert r.status_code == 404 and r.get_json()["exc_type"] == "DoesNotExistError"
    assert "_server_messages" in r.get_json()


def test_a_user_without_roles_gets_403(web: WebEnv) -> None:
    headers = _user(web, "bob@example.com")
    client = web.anon()
    for method, url in (("get", PRICE_LISTS), ("post", PRICE_LISTS), ("get", f"{PRICE_LISTS}/Standard%20Selling"),
                        ("get", f"{V2}/doctype/Price%20List/meta"), ("get", f"{V2}/doctype/Price%20List/count"),
                        ("get", f"{V2}/doctype/Customer%20Price%20List/meta")):
        errors = _errors(getattr(client, method)(url, headers=headers, json={"price_list_name": "B"}
                                                 if method == "post" else None), 403, "PermissionError")
        assert "bob@example.com" in errors[0]["message"]
    assert client.get(f"{V2}/method/frappe.auth.get_logged_user", headers=headers).get_json() == {
        "data": "bob@example.com"}
    _errors(web.client.get(f"{PRICE_LISTS}/B"), 404, "DoesNotExistError")


def test_record_rules_filter_lists_counts_and_reads(web: WebEnv, methods: None) -> None:
    headers = _user(web, "sue@example.com", "Sales User")
    with web.site.session() as s:
        s.insert("Customer", customer_name="Mine Ltd", customer_manager="sue@example.com")
        s.insert("Customer", customer_name="Theirs Ltd")
    client = web.anon()
    body = client.get(f"{V2}/document/Customer", headers=headers).get_json()
    assert body == {"data": [{"name": "Mine Ltd"}], "has_next_page": False}
    assert client.get(f"{V2}/doctype/Customer/count", headers=headers).get_json() == {"data": 1}
    assert client.get(f"{V2}/document/Customer/Mine%20Ltd", headers=headers).status_code == 200
    _errors(client.get(f"{V2}/document/Customer/Theirs%20Ltd", headers=headers), 403, "PermissionError")
    _errors(client.patch(f"{V2}/document/Customer/Theirs%20Ltd", headers=headers, json={"notes": "x"}),
            403, "PermissionError")
    assert client.get(f"{V2}/doctype/Customer/meta", headers=headers).status_code == 200

    # Sales User may read price lists, not change them: a POST document method needs write permission
    url = f"{PRICE_LISTS}/Standard%20Selling"
    assert client.get(f"{url}/method/describe", headers=headers).get_json()["data"]["user"] == "sue@example.com"
    _errors(client.post(f"{url}/method/enable_buying", headers=headers, json={"note": "x"}), 403, "PermissionError")
    _errors(client.patch(url, headers=headers, json={"buying": 1}), 403, "PermissionError")
    _errors(client.delete(url, headers=headers), 403, "PermissionError")
    assert web.client.get(url).get_json()["data"]["buying"] == 0

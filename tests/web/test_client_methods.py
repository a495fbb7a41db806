"""Frappe's ``frappe.client.*`` methods through Flask's test client on a real database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import TestResponse

from engine import Site
from engine.site.auth import ensure_administrator, generate_api_key
from engine.web import create_app
from tests.web.conftest import ADMIN_PASSWORD, APP_CONFIG, WebEnv

M = "/api/method/frappe.client."


def _msg(r: TestResponse) -> Any:
    assert r.status_code == 200, r.get_json()
    return r.get_json()["message"]


def _error(r: TestResponse, status: int, exc_type: str) -> dict[str, Any]:
    assert r.status_code == status, r.get_json()
    body = r.get_json()
    assert body["exc_type"] == exc_type
    assert body["exception"].startswith(f"frappe.exceptions.{exc_type}: ")
    assert "Traceback" not in body["exc"]
    assert json.loads(body["_server_messages"])
    return body


def _price_lists(web: WebEnv, *names: str) -> None:
    with web.site.session() as s:
        for n in names:
            s.insert("Price List", price_list_name=n, selling=1 if n.endswith("S") else 0)


def _limited_user(web: WebEnv) -> dict[str, str]:
    """Token headers of a Sales User: may read Price Lists, not write them."""
    email = "sales@example.com"
    with web.site.session() as s:
        s.insert("User", name=email, email=email, full_name="Sam Sales", roles=[{"role": "Sales User"}])
        key, secret = generate_api_key(s, email)
    return {"Authorization": f"token {key}:{secret}"}


# ---------------------------------------------------------------- reads

def test_get_list_get_and_post_with_json_encoded_arguments(web: WebEnv) -> None:
    _price_lists(web, "A S", "B", "C S")
    query = {"doctype": "Price List", "fields": json.dumps(["name", "selling"]),
             "filters": json.dumps({"name": ["like", "% S"]}), "order_by": "name desc"}
    rows = _msg(web.client.get(M + "get_list", query_string=query))
    assert rows == [{"name": "C S", "selling": 1}, {"name": "A S", "selling": 1}]
    # form fields, as frappe-client sends them; as_dict=0 answers lists
    rows = _msg(web.client.post(M + "get_list", data={**query, "as_dict": "0", "limit_page_length": "1"}))
    assert rows == [["C S", 1]]
    # JSON body, with or_filters and paging
    rows = _msg(web.client.post(M + "get_list", json={
        "doctype": "Price List", "fields": ["name"], "or_filters": [["name", "=", "B"], ["name", "=", "A S"]],
        "order_by": "name asc", "limit_start": 1}))
    assert rows == [{"name": "B"}]
    # default page length is 20; 0 means every row
    _price_lists(web, *(f"PL {i:02d}" for i in range(25)))
    assert len(_msg(web.client.get(M + "get_list", query_string={"doctype": "Price List"}))) == 20
    everything = _msg(web.client.get(M + "get_list", query_string={"doctype": "Price List", "limit_page_length": 0}))
    assert len(everything) == 29  # + Standard Selling


def test_get_list_errors(web: WebEnv) -> None:
    _error(web.client.get(M + "get_list", query_string={"doctype": "No Such Type"}), 404, "DoesNotExistError")
    _error(web.anon().get(M + "get_list", query_string={"doctype": "Price List"}), 401, "AuthenticationError")
    r = web.client.get(M + "get_list", query_string={"doctype": "Price List", "filters": "{not json"})
    assert r.status_code == 417


def test_get_list_and_get_value_of_child_rows_with_parent(web: WebEnv) -> None:
    _msg(web.client.post(M + "insert", json={"doc": {"doctype": "Customer", "customer_name": "Acme",
                                                     "price_lists": [{"price_list": "Standard Selling"}]}}))
    query = {"doctype": "Customer Price List", "parent": "Customer", "fields": '["parent", "price_list"]',
             "filters": '{"price_list": "Standard Selling"}'}
    assert _msg(web.client.get(M + "get_list", query_string=query)) == [
        {"parent": "Acme", "price_list": "Standard Selling"}]
    assert _msg(web.client.get(M + "get_value", query_string={**query, "fieldname": "parent"})) == {"parent": "Acme"}
    _error(web.client.get(M + "get_list", query_string={**query, "parent": "Price List"}), 403, "PermissionError")


def test_get_count(web: WebEnv) -> None:
    _price_lists(web, "A S", "B")
    assert _msg(web.client.get(M + "get_count", query_string={"doctype": "Price List"})) == 3
    n = _msg(web.client.post(M + "get_count", data={"doctype": "Price List", "filters": '{"selling": 0}'}))
    assert n == 1
    _error(web.client.get(M + "get_count"), 417, "ValidationError")


def test_get_by_name_or_filters(web: WebEnv) -> None:
    _price_lists(web, "A S", "B")
    doc = _msg(web.client.get(M + "get", query_string={"doctype": "Price List", "name": "B"}))
    assert doc["doctype"] == "Price List" and doc["name"] == "B" and doc["selling"] == 0
    filters = json.dumps({"selling": 1, "name": ["!=", "Standard Selling"]})
    doc = _msg(web.client.get(M + "get", query_string={"doctype": "Price List", "filters": filters}))
    assert doc["name"] == "A S" and "modified" in doc
    _error(web.client.get(M + "get", query_string={"doctype": "Price List", "name": "Nope"}), 404, "DoesNotExistError")
    _error(web.client.get(M + "get", query_string={"doctype": "Price List", "filters": '{"name": "Nope"}'}),
           404, "DoesNotExistError")


def test_get_value(web: WebEnv) -> None:
    _price_lists(web, "A S")
    get = web.client.get
    assert _msg(get(M + "get_value", query_string={"doctype": "Price List", "fieldname": "selling",
                                                   "filters": "A S"})) == {"selling": 1}
    both = _msg(get(M + "get_value", query_string={"doctype": "Price List", "fieldname": '["name", "buying"]',
                                                   "filters": '{"price_list_name": "A S"}'}))
    assert both == {"name": "A S", "buying": 0}
    assert _msg(get(M + "get_value", query_string={"doctype": "Price List", "fieldname": "selling",
                                                   "filters": "A S", "as_dict": "0"})) == 1
    # nothing found: {} with as_dict (Frappe), no message without
    assert _msg(get(M + "get_value", query_string={"doctype": "Price List", "fieldname": "selling",
                                                   "filters": "Nope"})) == {}
    r = get(M + "get_value", query_string={"doctype": "Price List", "fieldname": "selling", "filters": "Nope",
                                           "as_dict": "false"})
    assert r.status_code == 200 and r.get_json() == {}
    _error(get(M + "get_value", query_string={"doctype": "Price List"}), 417, "ValidationError")


def test_reads_respect_permissions(web: WebEnv) -> None:
    headers = _limited_user(web)
    rows = _msg(web.anon().get(M + "get_list", query_string={"doctype": "Price List"}, headers=headers))
    assert [r["name"] for r in rows] == ["Standard Selling"]
    _error(web.anon().get(M + "get_count", query_string={"doctype": "Supplier"}, headers=headers),
           403, "PermissionError")
    _error(web.anon().post(M + "set_value", data={"doctype": "Price List", "name": "Standard Selling",
                                                   "fieldname": "buying", "value": "1"}, headers=headers),
           403, "PermissionError")


# ---------------------------------------------------------------- writes

def test_set_value_single_field_and_dict(web: WebEnv) -> None:
    _price_lists(web, "B")
    doc = _msg(web.client.post(M + "set_value", data={"doctype": "Price List", "name": "B",
                                                      "fieldname": "buying", "value": "1"}))
    assert doc["name"] == "B" and doc["buying"] == 1
    doc = _msg(web.client.post(M + "set_value", json={"doctype": "Price List", "name": "B",
                                                      "fieldname": {"enabled": 0, "selling": 1}}))
    assert (doc["enabled"], doc["selling"], doc["buying"]) == (0, 1, 1)
    with web.site.session() as s:
        assert s.get_value("Price List", "B", ["enabled", "selling"]) == {"enabled": 0, "selling": 1}
    _error(web.client.post(M + "set_value", data={"doctype": "Price List", "name": "B", "fieldname": "owner",
                                                  "value": "x@example.com"}), 417, "ValidationError")
    _error(web.client.post(M + "set_value", data={"doctype": "Price List", "name": "Nope", "fieldname": "buying",
                                                  "value": "1"}), 404, "DoesNotExistError")
    # a write is refused over GET, as Frappe refuses it: 403 PermissionError, nothing changes
    _error(web.client.get(M + "set_value", query_string={"doctype": "Price List", "name": "B",
                                                         "fieldname": "buying", "value": "0"}), 403, "PermissionError")
    with web.site.session() as s:
        assert s.get_value("Price List", "B", "buying") == 1


def test_insert_document_and_child_row(web: WebEnv) -> None:
    doc = _msg(web.client.post(M + "insert", data={"doc": json.dumps(
        {"doctype": "Customer", "customer_name": "Acme", "owner": "evil@example.com",
         "price_lists": [{"price_list": "Standard Selling"}]})}))
    assert doc["doctype"] == "Customer" and doc["name"] == "Acme" and doc["owner"] == "Administrator"
    assert [r["price_list"] for r in doc["price_lists"]] == ["Standard Selling"]
    _price_lists(web, "B S")
    parent = _msg(web.client.post(M + "insert", json={"doc": {
        "doctype": "Customer Price List", "parent": "Acme", "parenttype": "Customer", "parentfield": "price_lists",
        "price_list": "B S"}}))
    assert parent["name"] == "Acme"
    assert [r["price_list"] for r in parent["price_lists"]] == ["Standard Selling", "B S"]
    body = _error(web.client.post(M + "insert", json={"doc": {"doctype": "Customer"}}), 417, "MandatoryError")
    assert any(e["field"] == "customer_name" for e in body["errors"])
    _error(web.client.post(M + "insert", json={"doc": {"customer_name": "X"}}), 417, "ValidationError")


def test_insert_many_is_one_transaction(web: WebEnv) -> None:
    names = _msg(web.client.post(M + "insert_many", data={"docs": json.dumps(
        [{"doctype": "Price List", "price_list_name": "P1"}, {"doctype": "Price List", "price_list_name": "P2"}])}))
    assert names == ["P1", "P2"]
    r = web.client.post(M + "insert_many", json={"docs": [
        {"doctype": "Price List", "price_list_name": "P3"}, {"doctype": "Price List", "price_list_name": "P1"}]})
    assert r.status_code == 409, r.get_json()
    with web.site.session() as s:
        assert not s.exists("Price List", "P3")  # rolled back with the failing one
    too_many = [{"doctype": "Price List", "price_list_name": f"X{i}"} for i in range(201)]
    _error(web.client.post(M + "insert_many", json={"docs": too_many}), 417, "ValidationError")


def test_save_with_optimistic_locking(web: WebEnv) -> None:
    _price_lists(web, "B")
    doc = _msg(web.client.get(M + "get", query_string={"doctype": "Price List", "name": "B"}))
    doc["buying"] = 1
    saved = _msg(web.client.post(M + "save", data={"doc": json.dumps(doc)}))
    assert saved["buying"] == 1 and saved["modified"] != doc["modified"]
    doc["enabled"] = 0  # still carries the old "modified"
    _error(web.client.post(M + "save", json={"doc": doc}), 409, "TimestampMismatchError")
    with web.site.session() as s:
        assert s.get_value("Price List", "B", "enabled") == 1
    _error(web.client.post(M + "save", json={"doc": {"doctype": "Price List", "buying": 1}}), 417, "ValidationError")


def test_delete(web: WebEnv) -> None:
    _price_lists(web, "B")
    r = web.client.post(M + "delete", data={"doctype": "Price List", "name": "B"})
    assert r.status_code == 200 and r.get_json() == {}
    with web.site.session() as s:
        assert not s.exists("Price List", "B")
    _error(web.client.post(M + "delete", data={"doctype": "Price List", "name": "B"}), 404, "DoesNotExistError")


def test_submit_and_cancel_refused_for_a_non_submittable_doctype(web: WebEnv) -> None:
    _price_lists(web, "B")
    body = _error(web.client.post(M + "submit", json={"doc": {"doctype": "Price List", "name": "B"}}),
                  417, "DocstatusTransitionError")
    assert "not submittable" in body["exception"]
    _error(web.client.post(M + "cancel", data={"doctype": "Price List", "name": "B"}), 417, "DocstatusTransitionError")
    _error(web.client.post(M + "cancel", data={"doctype": "Price List", "name": "Nope"}), 404, "DoesNotExistError")
    with web.site.session() as s:  # submit of a new document: nothing is left behind
        web.client.post(M + "submit", json={"doc": {"doctype": "Price List", "price_list_name": "New"}})
        assert not s.exists("Price List", "New")


def test_rename_doc(web: WebEnv) -> None:
    _price_lists(web, "Old S")
    _msg(web.client.post(M + "insert", json={"doc": {"doctype": "Customer", "customer_name": "Acme",
                                                     "price_lists": [{"price_list": "Old S"}]}}))
    assert _msg(web.client.post(M + "rename_doc", data={"doctype": "Price List", "old_name": "Old S",
                                                        "new_name": "Renamed"})) == "Renamed"
    with web.site.session() as s:
        assert [r.price_list for r in s.get_doc("Customer", "Acme").price_lists] == ["Renamed"]
    _error(web.client.post(M + "rename_doc", data={"doctype": "Price List", "old_name": "Renamed",
                                                   "new_name": "Standard Selling", "merge": "1"}),
           417, "ValidationError")
    _error(web.client.post(M + "rename_doc", data={"doctype": "Price List", "old_name": "Renamed",
                                                   "new_name": "Standard Selling"}), 409, "DuplicateEntryError")


def test_bulk_update_reports_failed_docs(web: WebEnv) -> None:
    _price_lists(web, "A", "B")
    result = _msg(web.client.post(M + "bulk_update", data={"docs": json.dumps([
        {"doctype": "Price List", "docname": "A", "buying": 1},
        {"doctype": "Price List", "docname": "Nope", "buying": 1},
        {"doctype": "Price List", "docname": "B", "currency": "XXX"},
    ])}))
    failed = result["failed_docs"]
    assert [f["doc"]["docname"] for f in failed] == ["Nope", "B"]
    assert failed[0]["exc"].startswith("frappe.exceptions.DoesNotExistError: ")
    assert failed[1]["exc"].startswith("frappe.exceptions.LinkValidationError: ")
    with web.site.session() as s:
        assert s.get_value("Price List", "A", "buying") == 1
        assert s.get_value("Price List", "B", "currency") is None
    _error(web.client.post(M + "bulk_update", data={"docs": '{"doctype": "Price List"}'}), 417, "ValidationError")


@pytest.mark.parametrize("name", ["get_list", "insert", "bulk_update"])
def test_client_methods_need_login(web: WebEnv, name: str) -> None:
    _error(web.anon().post(M + name, data={"doctype": "Price List"}), 401, "AuthenticationError")


def test_submit_and_cancel_a_submittable_document(site: Site) -> None:
    """On the test app (it has a submittable doctype): submit a new and a saved draft, cancel one."""
    ensure_administrator(site, ADMIN_PASSWORD)
    client = create_app(site, APP_CONFIG).test_client()
    assert client.post("/api/method/login", data={"usr": "Administrator", "pwd": ADMIN_PASSWORD}).status_code == 200
    with site.session() as s:
        s.insert("Test Customer", customer_name="Acme")
        draft = s.insert("Test Invoice", customer="Acme", total=10).name
    doc = _msg(client.post(M + "submit", json={"doc": {"doctype": "Test Invoice", "name": draft,
                                                       "remarks": "checked"}}))
    assert doc["name"] == draft and doc["docstatus"] == 1 and doc["remarks"] == "checked"
    new = _msg(client.post(M + "submit", data={"doc": json.dumps({"doctype": "Test Invoice", "customer": "Acme"})}))
    assert new["docstatus"] == 1 and new["name"].startswith("TINV-")
    _error(client.post(M + "submit", json={"doc": {"doctype": "Test Invoice", "name": draft}}),
           417, "DocstatusTransitionError")  # already submitted
    cancelled = _msg(client.post(M + "cancel", data={"doctype": "Test Invoice", "name": draft}))
    assert cancelled["name"] == draft and cancelled["docstatus"] == 2
    with site.session() as s:
        assert s.get_value("Test Invoice", draft, "docstatus") == 2
        assert s.get_count("Test Invoice", {"docstatus": 1}) == 1


def test_a_child_row_is_read_and_set_by_its_own_name_as_in_frappe(web: WebEnv) -> None:
    with web.site.session() as s:
        s.insert("Price List", price_list_name="Wholesale", selling=1)
        customer = s.insert("Customer", customer_name="Rowed", price_lists=[{"price_list": "Standard Selling"}])
    row = customer.price_lists[0].name
    got = web.client.get(M + "get", query_string={"doctype": "Customer Price List", "name": row})
    assert got.status_code == 200, got.get_json()
    message = got.get_json()["message"]
    assert message["parent"] == "Rowed" and message["parenttype"] == "Customer"
    assert message["price_list"] == "Standard Selling" and message["parentfield"] == "price_lists"
    r = web.client.post(M + "set_value", data={"doctype": "Customer Price List", "name": row,
                                                "fieldname": "price_list", "value": "Wholesale"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["message"]["name"] == "Rowed"  # the parent, saved
    assert r.get_json()["message"]["price_lists"][0]["price_list"] == "Wholesale"
    with web.site.session() as s:
        assert s.get_doc("Customer", "Rowed").price_lists[0].price_list == "Wholesale"
    bad = web.client.post(M + "set_value", data={"doctype": "Customer Price List", "name": row,
                                                  "fieldname": "price_list", "value": "No Such List"})
    assert bad.status_code == 417 and "No Such List" in bad.get_json()["exception"]
    missing = web.client.get(M + "get", query_string={"doctype": "Customer Price List", "name": "nope"})
    assert missing.status_code == 404 and "Customer Price List 'nope' not found" in missing.get_json()["exception"]

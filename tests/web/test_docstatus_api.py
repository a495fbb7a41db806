"""Frappe's ways to submit and cancel over the REST API, and v1's document method calls (``run_method``)."""

from __future__ import annotations

import json

from engine.site.auth import generate_api_key
from tests.web.conftest import WebEnv

SI = "/api/resource/Sales%20Invoice"
V2 = "/api/v2/document/Sales%20Invoice"


def _books(web: WebEnv) -> dict:
    with web.site.session() as s:
        s.insert("Company", company_name="Doc Books", abbr="DB", default_currency="USD")
        s.set_value("Price List", "Standard Selling", {"currency": "USD"})
        s.insert("Item", item_code="NUT", item_group="All Item Groups")
        s.insert("Item Price", item_code="NUT", price_list="Standard Selling", price_list_rate=5)
        s.insert("Customer", customer_name="Acme", company="Doc Books")
    return {"customer": "Acme", "company": "Doc Books", "posting_date": "2026-03-01",
            "items": [{"item_code": "NUT", "qty": 2}]}


def _status(web: WebEnv, name: str) -> int:
    return web.client.get(f"{SI}/{name}").get_json()["data"]["docstatus"]


def test_a_docstatus_sent_with_a_save_or_an_insert_submits_or_cancels(web: WebEnv) -> None:
    invoice = _books(web)
    created = web.client.post(SI, json={**invoice, "docstatus": 1})  # insert and submit, as Frappe's insert()
    assert created.status_code == 200, created.get_json()
    name = created.get_json()["data"]["name"]
    assert created.get_json()["data"]["docstatus"] == 1 and _status(web, name) == 1
    cancelled = web.client.put(f"{SI}/{name}", json={"docstatus": 2})
    assert cancelled.status_code == 200 and _status(web, name) == 2
    draft = web.client.post(SI, json=invoice).get_json()["data"]["name"]
    assert web.client.put(f"{SI}/{draft}", json={"docstatus": 1, "due_date": "2026-03-31"}).status_code == 200
    submitted = web.client.get(f"{SI}/{draft}").get_json()["data"]
    assert submitted["docstatus"] == 1 and submitted["due_date"] == "2026-03-31"
    saved = web.client.post("/api/method/frappe.client.save",
                            data={"doc": json.dumps({**submitted, "docstatus": 2})})
    assert saved.status_code == 200 and saved.get_json()["message"]["docstatus"] == 2
    other = web.client.post(V2, json=invoice).get_json()["data"]["name"]
    assert web.client.patch(f"{V2}/{other}", json={"docstatus": 1}).get_json()["data"]["docstatus"] == 1
    # what Frappe refuses too
    back = web.client.put(f"{SI}/{other}", json={"docstatus": 0})
    assert back.status_code == 417 and back.get_json()["exc_type"] == "DocstatusTransitionError"
    skip = web.client.post(SI, json={**invoice, "docstatus": 2})
    assert skip.status_code == 417 and "a new document must be a draft" in skip.get_json()["exception"]


def test_submit_and_cancel_are_document_methods_in_v1_and_v2(web: WebEnv) -> None:
    invoice = _books(web)
    name = web.client.post(SI, json=invoice).get_json()["data"]["name"]
    r = web.client.post(f"{V2}/{name}/method/submit")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["docs"][0]["docstatus"] == 1 and _status(web, name) == 1
    assert web.client.get(f"{V2}/{name}/method/cancel").status_code == 403  # a change needs POST
    r = web.client.post(f"{SI}/{name}", data={"run_method": "cancel"})  # Frappe v1's execute_doc_method
    assert r.status_code == 200 and r.get_json() == {"data": None} and _status(web, name) == 2
    again = web.client.post(f"{V2}/{name}/method/cancel")
    assert again.status_code == 417 and "only a submitted document can be cancelled" in again.text


def test_submit_or_cancel_by_docstatus_needs_that_permission(web: WebEnv) -> None:
    invoice = _books(web)
    name = web.client.post(SI, json=invoice).get_json()["data"]["name"]
    with web.site.session() as s:  # may write and submit Sales Invoices, not create or cancel them
        s.insert("User", name="cc@example.com", email="cc@example.com", roles=[{"role": "Credit Controller"}])
        controller = {"Authorization": "token {}:{}".format(*generate_api_key(s, "cc@example.com"))}
    cc = web.anon()
    assert cc.put(f"{SI}/{name}", json={"docstatus": 1}, headers=controller).status_code == 200
    refused = cc.put(f"{SI}/{name}", json={"docstatus": 2}, headers=controller)
    assert refused.status_code == 403 and "cancel" in refused.get_json()["exception"] and _status(web, name) == 1
    new = cc.post(SI, json={**invoice, "docstatus": 1}, headers=controller)
    assert new.status_code == 403 and web.client.get(SI).get_json()["data"] == [{"name": name}]


def test_v1_run_method_calls_an_app_document_method(web: WebEnv) -> None:
    with web.site.session() as s:
        s.insert("Customer", customer_name="Acme")
        s.insert("Contact", first_name="Jane", links=[{"link_doctype": "Customer", "link_name": "Acme"}])
        s.insert("Contact", first_name="Joe", links=[{"link_doctype": "Customer", "link_name": "Acme"}])
    got = web.client.get("/api/resource/Customer/Acme", query_string={"run_method": "get_contacts"})
    assert got.status_code == 200, got.get_json()
    assert got.get_json()["data"]["primary_contact"] == "Jane" and sorted(got.get_json()["data"]["contacts"]) == [
        "Jane", "Joe"]
    posted = web.client.post("/api/resource/Customer/Acme", data={"run_method": "set_primary_contact",
                                                                   "contact": "Joe"})
    assert posted.status_code == 200, posted.get_json()
    assert web.client.get("/api/resource/Customer/Acme", query_string={"run_method": "get_contacts"}).get_json()[
        "data"]["primary_contact"] == "Joe"
    missing = web.client.post("/api/resource/Customer/Acme", json={})
    assert missing.status_code == 417 and "send run_method" in missing.get_json()["exception"]
    unknown = web.client.post("/api/resource/Customer/Acme", data={"run_method": "explode"})
    assert unknown.status_code == 404 and "has no method 'explode'" in unknown.get_json()["exception"]
    # Frappe's rule ends the ID with a slash, which clients may send
    assert web.client.get("/api/resource/Customer/Acme/").get_json()["data"]["name"] == "Acme"

"""Receivables from outside: an integrator submits invoices and payments over the Frappe API; the clerk's
customer form shows the balance with its history."""

from __future__ import annotations

import json
import re
from html import unescape

from tests.web.conftest import WebEnv
from tests.web.test_client_methods import M, _error, _msg


def _words(html: str) -> str:
    """The page's text, tags left out, spaces squeezed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _books(web: WebEnv) -> None:
    with web.site.session() as s:
        s.insert("Company", company_name="Web Books", abbr="WB", default_currency="USD")
        s.set_value("Price List", "Standard Selling", {"currency": "USD"})
        s.insert("Item", item_code="BOLT", item_group="All Item Groups")
        s.insert("Item Price", item_code="BOLT", price_list="Standard Selling", price_list_rate=20)
        s.insert("Customer", customer_name="Acme", company="Web Books",
                 credit_limits=[{"company": "Web Books", "credit_limit": 500}])


def test_invoice_and_payment_over_the_frappe_api_then_the_balance_on_the_form(web: WebEnv):
    _books(web)
    new = {"doctype": "Sales Invoice", "customer": "Acme", "company": "Web Books", "posting_date": "2026-02-27",
           "items": [{"item_code": "BOLT", "qty": 10}]}
    inv = _msg(web.client.post(M + "submit", data={"doc": json.dumps(new)}))
    assert inv["docstatus"] == 1 and inv["grand_total"] == 200 and inv["outstanding_amount"] == 200
    assert inv["items"][0]["rate"] == 20 and inv["debit_to"] == "Acme - WB"
    over = _error(web.client.post(M + "submit", data={"doc": json.dumps({**new, "items": [
        {"item_code": "BOLT", "qty": 20}]})}), 417, "ValidationError")
    assert "balance 200.00 + this invoice 400.00 = 600.00, over 500.00" in over["exception"]
    payment = {"doctype": "Payment Entry", "customer": "Acme", "company": "Web Books", "posting_date": "2026-03-02",
               "paid_amount": 150, "references": [{"sales_invoice": inv["name"], "allocated_amount": 150}]}
    paid = _msg(web.client.post(M + "submit", data={"doc": json.dumps(payment)}))
    assert paid["docstatus"] == 1 and paid["unallocated_amount"] == 0
    balance = web.client.get("/api/method/hooks.customer.get_balance", query_string={"customer": "Acme"}).get_json()
    assert balance["message"]["total"] == 50 and balance["message"]["by_company"] == {"Web Books": 50}
    assert [day for day, _ in balance["message"]["history"]] == ["2026-02-27", "2026-03-02"]
    form = web.client.get("/app/customer/Acme")
    text = _words(form.text)
    assert "Balance 50.00 owed to us" in text
    assert re.search(r'<svg class="sparkline"[^>]*aria-label="Balance history: 2 posting day\(s\), now 50.00"',
                     unescape(form.text))
    # the reports on the desk, and exported
    page = web.client.get("/app/report/balance-report", query_string={"customer": "Acme"})
    assert page.status_code == 200, page.text[-500:]
    assert re.search(r"Closing Balance.*50\.00", _words(page.text))
    ageing = web.client.get("/app/report/accounts-receivable", query_string={"as_of": "2026-04-30"})
    assert ageing.status_code == 200 and "Acme" in ageing.text
    csv = web.client.get("/app/report/accounts-receivable", query_string={"as_of": "2026-04-30", "format": "csv"})
    assert csv.status_code == 200 and "Acme,50" in csv.text.replace(".00", ""), csv.text
    xlsx = web.client.get("/app/report/sales-analytics", query_string={"tree_type": "Territory", "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    # the cancel of a settled invoice is refused; the payment's cancel, then the invoice's, clear the balance
    refusal = _error(web.client.post(M + "cancel", data={"doctype": "Sales Invoice", "name": inv["name"]}),
                     417, "ValidationError")
    assert f"Payment Entry {paid['name']} is allocated to it" in refusal["exception"]
    _msg(web.client.post(M + "cancel", data={"doctype": "Payment Entry", "name": paid["name"]}))
    _msg(web.client.post(M + "cancel", data={"doctype": "Sales Invoice", "name": inv["name"]}))
    text = _words(web.client.get("/app/customer/Acme").text)
    assert "Balance 0.00 settled" in text


def test_no_balance_for_the_pos_customer_or_when_switched_off(web: WebEnv):
    _books(web)
    with web.site.session() as s:
        s.set_value("Customer", "Acme", {"disable_balance": 1})
    text = _words(web.client.get("/app/customer/Acme").text)
    assert "No balance: the balance is switched off for this customer." in text


def test_the_invoice_form_is_filled_in_while_editing_and_nothing_is_written(web: WebEnv):
    _books(web)
    page = web.client.get("/app/sales-invoice/new")
    assert 'data-refresh-on="customer company posting_date' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = web.client.post("/app/sales-invoice/-/refresh", data={
        "csrf_token": token, "customer": "Acme", "company": "Web Books", "posting_date": "2024-01-31",
        "items-present": "1", "items-1-item_code": "BOLT", "items-1-qty": "3"})
    body = r.get_json()
    assert r.status_code == 200 and body["values"]["price_list"] == "Standard Selling"
    assert body["values"]["currency"] == "USD" and body["values"]["grand_total"] == "60.00"
    assert body["rows"]["items"][0]["rate"].startswith("20") and body["rows"]["items"][0]["amount"] == "60.00"
    with web.site.session() as s:
        assert s.get_count("Sales Invoice") == 0 and s.get_count("GL Entry") == 0


def test_bad_numbers_dates_and_ids_in_invoices_and_payments_are_417s_naming_the_field(web: WebEnv):
    """The app's hooks compute totals and due dates: they must never see a client's raw 'abc'."""
    _books(web)
    invoice = {"customer": "Acme", "company": "Web Books", "posting_date": "2026-02-27",
               "items": [{"item_code": "BOLT", "qty": 10}]}
    cases = [
        ("Sales Invoice", {**invoice, "items": [{"item_code": "BOLT", "qty": "abc"}]}, "qty", 1),
        ("Sales Invoice", {**invoice, "items": [{"item_code": "BOLT", "qty": "1e400"}]}, "qty", 1),
        ("Sales Invoice", {**invoice, "items": [{"item_code": "BOLT", "qty": 1, "rate": {"a": 1}}]}, "rate", 1),
        ("Sales Invoice", {**invoice, "posting_date": "2026-13-45"}, "posting_date", None),
        ("Sales Invoice", {**invoice, "posting_date": 12345}, "posting_date", None),
        ("Payment Entry", {"customer": "Acme", "company": "Web Books", "posting_date": "2026-03-02",
                           "paid_amount": "abc"}, "paid_amount", None),
        ("Payment Entry", {"customer": ["Acme"], "company": "Web Books", "posting_date": "2026-03-02",
                           "paid_amount": 5}, "customer", None),
    ]
    for doctype, body, field, row in cases:
        r = web.client.post(f"/api/resource/{doctype}", json=body)
        assert r.status_code == 417, (body, r.get_data(as_text=True)[:300])
        errors = r.get_json()["errors"]
        assert (field, row) in {(e["field"], e.get("row")) for e in errors}, (body, errors)
    r = web.client.patch("/api/v2/document/Sales Invoice/x", json={"posting_date": "31.12.2026"})
    assert r.status_code in (404, 417)
    with web.site.session() as s:
        assert s.get_count("Sales Invoice") == 0 and s.get_count("Payment Entry") == 0


def test_a_copy_of_an_invoice_leaves_out_what_it_owes_and_the_ledger_cannot_be_renamed(web: WebEnv):
    _books(web)
    new = {"doctype": "Sales Invoice", "customer": "Acme", "company": "Web Books", "posting_date": "2026-02-27",
           "items": [{"item_code": "BOLT", "qty": 2}]}
    inv = _msg(web.client.post(M + "submit", data={"doc": json.dumps(new)}))
    copy = web.client.get(f"/api/v2/document/Sales Invoice/{inv['name']}/copy").get_json()["data"]
    assert "outstanding_amount" not in copy and copy["customer"] == "Acme"
    edit = _error(web.client.post(M + "set_value", data={"doctype": "Sales Invoice", "name": inv["name"],
                                                        "fieldname": "outstanding_amount", "value": 0}),
                  417, "ValidationError")
    assert "Outstanding Amount is set by the payments allocated to the invoice" in edit["exception"]
    with web.site.session() as s:
        line = s.get_list("GL Entry", filters={"voucher_no": inv["name"]}, pluck="name")[0]
    for doctype, name in (("GL Entry", line), ("Sales Invoice", inv["name"])):
        refusal = _error(web.client.post(M + "rename_doc", data={"doctype": doctype, "old_name": name,
                                                                  "new_name": "hacked"}), 417, "InvalidValueError")
        assert f"Cannot rename {doctype} {name!r}" in refusal["exception"]


def test_a_rule_broken_by_an_item_row_is_marked_at_its_cell(web: WebEnv):
    _books(web)
    with web.site.session() as s:
        s.insert("Item", item_code="NUT", item_group="All Item Groups")  # no price anywhere
    page = web.client.get("/app/sales-invoice/new")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = web.client.post("/app/sales-invoice/new", data={
        "csrf_token": token, "customer": "Acme", "company": "Web Books", "posting_date": "2026-02-27",
        "items-present": "1", "items-1-item_code": "BOLT", "items-1-qty": "1",
        "items-2-item_code": "NUT", "items-2-qty": "2"})
    assert r.status_code == 417
    cells = dict(re.findall(r'id="f-([\w-]+)-error">([^<]+)<', r.text))
    assert "items-2-rate" in cells and "has no price" in unescape(cells["items-2-rate"]), cells


def test_the_invoice_list_filters_by_status(web: WebEnv):
    _books(web)
    with web.site.session() as s:
        draft = s.insert("Sales Invoice", customer="Acme", company="Web Books", posting_date="2026-02-01",
                         items=[{"item_code": "BOLT", "qty": 1}])
        done = s.insert("Sales Invoice", customer="Acme", company="Web Books", posting_date="2026-02-02",
                        items=[{"item_code": "BOLT", "qty": 2}])
        done.submit()
    page = web.client.get("/app/sales-invoice", query_string={"docstatus": "Submitted"}).text
    assert done.name in page and draft.name not in page
    assert '<option selected>Submitted</option>' in page
    drafts = web.client.get("/app/sales-invoice", query_string={"docstatus": "Draft"}).text
    assert draft.name in drafts and done.name not in drafts
    assert re.search(r'<td class="num">\s*20\.00\s*</td>', drafts)  # amounts right-aligned, as the form shows them
    assert 'href="/app/sales-invoice?docstatus=Draft&amp;sort=customer&amp;order=asc"' in drafts  # A to Z first
    bad = web.client.get("/app/sales-invoice", query_string={"docstatus": "Lost"}).text
    assert "Status &#39;Lost&#39; is none of Draft, Submitted, Cancelled" in bad

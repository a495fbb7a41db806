"""The receivables reports, their totals cross-checked against the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine import Site
from engine.site.session import Session
from tests.customer.conftest import app_module
from tests.customer.test_invoices import invoice
from tests.customer.test_payments import pay


def run(site: Site, cm: Session, name: str, **filters):
    return site.hooks.reports[name].run(cm, filters)


def _history(cm: Session) -> dict[str, str]:
    """Acme: three invoices over three months (one cancelled), a part payment and a prepayment elsewhere."""
    cm.insert("Customer Group", customer_group_name="Key", parent_customer_group="All Customer Groups",
              is_group=1)
    cm.insert("Customer Group", customer_group_name="Key East", parent_customer_group="Key")
    cm.set_value("Customer", "Acme", {"customer_group": "Key East"})
    cm.insert("Customer", customer_name="Beta", company="Docframe Inc")
    names = {}
    for key, day, lines in (("jan", dt.date(2024, 1, 31), [("WIDGET", 2)]), ("feb", dt.date(2024, 2, 29),
                            [("GADGET", 1)]), ("mar", dt.date(2024, 3, 15), [("WIDGET", 1)]),
                            ("gone", dt.date(2024, 3, 20), [("WIDGET", 3)])):
        doc = invoice(cm, *lines, posting_date=day)
        doc.submit()
        names[key] = doc.name
    cm.get_doc("Sales Invoice", names["gone"]).cancel()
    names["paid"] = pay(cm, 150, (names["jan"], 150)).name
    beta = invoice(cm, ("GADGET", 2), customer="Beta", posting_date=dt.date(2024, 3, 1))
    beta.submit()
    names["beta"] = beta.name
    return names


def test_balance_report_runs_to_the_ledgers_balance(books: Session, cm_site: Site):
    cm = books
    names = _history(cm)
    result = run(cm_site, cm, "Balance Report", customer="Acme", from_date="2024-02-01", to_date="2024-12-31")
    rows = result.rows
    assert rows[0]["voucher_type"] == "Opening Balance" and rows[0]["balance"] == Decimal("200")
    assert [r["voucher_no"] for r in rows[1:-1]] == [names["feb"], names["mar"]]  # the cancelled one is left out
    assert [r["balance"] for r in rows[1:-1]] == [Decimal("450"), Decimal("550")]
    ledger = app_module("_ledger")
    # the payment is dated 2026: after the range, so the closing balance is the ledger's at the range's end
    assert rows[-1]["balance"] == ledger.receivable_balance(cm, "Acme", until=dt.date(2024, 12, 31)) == Decimal("550")
    whole = run(cm_site, cm, "Balance Report", customer="Acme").rows
    assert whole[-1]["balance"] == ledger.receivable_balance(cm, "Acme") == Decimal("400")


def test_ageing_buckets_by_days_past_due_and_totals_the_open_invoices(books: Session, cm_site: Site):
    cm = books
    names = _history(cm)
    # Acme pays in 30 days: jan due 2024-03-01, feb due 2024-03-30, mar due 2024-04-14
    result = run(cm_site, cm, "Accounts Receivable", as_of="2024-05-10")
    by = {r["customer"]: r for r in result.rows}
    assert by["Acme"]["61-90"] == Decimal("50")  # jan: 70 days late, 200 - 150 paid
    assert by["Acme"]["31-60"] == Decimal("250")  # feb: 41 days late
    assert by["Acme"]["0-30"] == Decimal("100") and by["Acme"]["90+"] == 0  # mar: 26 days late
    assert by["Acme"]["outstanding"] == Decimal("400")
    assert by["Beta"]["0-30"] + by["Beta"]["31-60"] + by["Beta"]["61-90"] + by["Beta"]["90+"] == Decimal("500")
    ledger = app_module("_ledger")
    assert sum(r["outstanding"] for r in result.rows) == \
        ledger.receivable_balance(cm, "Acme") + ledger.receivable_balance(cm, "Beta")
    assert by["Acme"]["outstanding"] == cm.get_value("Sales Invoice", names["jan"], "outstanding_amount") + 350
    assert by["Acme"]["advance"] == 0 and by["Acme"]["net"] == Decimal("400")
    # a prepayment is taken off what the customer owes; a customer who only paid ahead is listed in credit
    cm.insert("Customer", customer_name="Gamma", company="Docframe Inc")
    for customer, amount in (("Beta", 80), ("Gamma", 30)):
        cm.insert("Payment Entry", {"customer": customer, "company": "Docframe Inc", "posting_date": "2024-04-01",
                                    "paid_amount": amount}).submit()
    by = {r["customer"]: r for r in run(cm_site, cm, "Accounts Receivable", as_of="2024-05-10").rows}
    assert (by["Beta"]["outstanding"], by["Beta"]["advance"], by["Beta"]["net"]) == (500, -80, 420)
    assert (by["Gamma"]["outstanding"], by["Gamma"]["net"]) == (0, -30)
    assert ledger.receivable_balance(cm, "Beta") == by["Beta"]["net"]


def test_sales_analytics_rolls_up_the_tree_and_matches_the_income_ledger(books: Session, cm_site: Site):
    cm = books
    _history(cm)
    result = run(cm_site, cm, "Sales Analytics", tree_type="Customer Group")
    by = {r["node"]: r for r in result.rows}
    assert [c[0] for c in result.columns] == ["node", "depth", "2024-01", "2024-02", "2024-03", "total"]
    assert by["Key East"]["2024-02"] == Decimal("250") and by["Key"]["total"] == by["Key East"]["total"]
    assert by["Key East"]["total"] == Decimal("550")  # the cancelled invoice is not a sale
    root = by["All Customer Groups"]
    assert root["total"] == Decimal("1050") and root["depth"] == 0 and by["Key East"]["depth"] == 2
    income = cm.get_list("GL Entry", fields=["credit", "debit"], filters={"account": "Sales - DI"}, limit=0)
    assert root["total"] == sum(r["credit"] - r["debit"] for r in income)


def test_target_vs_actual_by_territory_and_by_sales_person(books: Session, cm_site: Site):
    cm = books
    cm.insert("Territory", territory_name="North", parent_territory="All Territories",
              targets=[{"item_group": "Products", "fiscal_year": "2024", "target_amount": 1000}])
    for person, target in (("Ann", 500), ("Bob", None)):
        cm.insert("Sales Person", sales_person_name=person, parent_sales_person="Sales Team",
                  targets=[{"item_group": "Products", "fiscal_year": "2024", "target_amount": target}] if target
                  else [])
    acme = cm.get_doc("Customer", "Acme")
    acme.territory = "North"
    acme.sales_team = [{"sales_person": "Ann", "allocated_percentage": 70},
                       {"sales_person": "Bob", "allocated_percentage": 30}]
    acme.save()
    invoice(cm, ("WIDGET", 2), ("GADGET", 1), posting_date=dt.date(2024, 6, 1)).submit()  # 450
    invoice(cm, ("WIDGET", 5), posting_date=dt.date(2025, 1, 2)).submit()  # another fiscal year
    invoice(cm, ("WIDGET", 9), posting_date=dt.date(2024, 7, 1))  # a draft: not a sale
    by_territory = {(r["node"], r["item_group"]): r for r in
                    run(cm_site, cm, "Target vs Actual", based_on="Territory", fiscal_year=2024).rows}
    north = by_territory[("North", "Products")]
    assert (north["target"], north["actual"], north["variance"], north["achieved"]) == \
        (Decimal("1000"), Decimal("450"), Decimal("-550"), 45.0)
    assert by_territory[("All Territories", "Products")]["actual"] == Decimal("450")  # rolled up the tree
    by_person = {(r["node"], r["item_group"]): r for r in
                 run(cm_site, cm, "Target vs Actual", based_on="Sales Person", fiscal_year="2024").rows}
    assert by_person[("Ann", "Products")]["actual"] == Decimal("315")  # 70% of 450
    assert by_person[("Ann", "Products")]["achieved"] == 63.0
    assert by_person[("Bob", "Products")]["actual"] == Decimal("135") and by_person[("Bob", "Products")]["target"] \
        is None
    assert by_person[("Sales Team", "Products")]["actual"] == Decimal("450")

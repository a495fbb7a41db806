"""Sales invoices: filled from the customer, refused with the rule and figures, posted to the ledger, credit-limited."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from engine import Site
from engine.errors import DocframeError, ValidationError
from engine.site.session import Session
from tests.customer.conftest import app_module

POSTING = dt.date(2026, 1, 30)
LINK = [{"link_doctype": "Customer", "link_name": "Acme"}]
PLACE = {"address_line1": "1 Main St", "city": "Springfield", "country": "United States"}


def invoice(cm: Session, *lines: tuple[str, float], customer: str = "Acme", **values: object):
    return cm.insert("Sales Invoice", {"customer": customer, "company": "Docframe Inc", "posting_date": POSTING,
                                       "items": [{"item_code": c, "qty": q} for c, q in lines], **values})


def gl(cm: Session, voucher: str) -> list[tuple[str, Decimal, Decimal, int]]:
    rows = cm.get_list("GL Entry", fields=["account", "debit", "credit", "is_cancelled"],
                       filters={"voucher_no": voucher})
    return sorted((r["account"], r["debit"], r["credit"], r["is_cancelled"]) for r in rows)


def refused(words: list[str], action) -> DocframeError:
    with pytest.raises(DocframeError) as exc:
        action()
    for w in words:
        assert w in exc.value.message, (w, exc.value.message)
    return exc.value


def test_a_new_invoice_is_filled_from_its_customer_and_says_where_from(books: Session):
    cm = books
    cm.insert("Sales Partner", partner_name="Resell Co", commission_rate=5)
    cm.insert("Sales Person", sales_person_name="Ann", parent_sales_person="Sales Team")
    acme = cm.get_doc("Customer", "Acme")
    acme.default_sales_partner = "Resell Co"
    acme.sales_team = [{"sales_person": "Ann", "allocated_percentage": 100, "commission_rate": 2}]
    acme.save()
    cm.insert("Contact", first_name="Jane", last_name="Doe", links=LINK)
    cm.insert("Address", address_title="HQ", address_type="Billing", links=LINK, **PLACE)
    inv = invoice(cm, ("WIDGET", 3), ("GADGET", 1))
    assert (inv.price_list, inv.currency, inv.contact_person, inv.billing_address) == \
        ("Standard Selling", "USD", "Jane Doe", "HQ-Billing")
    assert inv.due_date == dt.date(2026, 3, 1)  # 30 days after 30 January: across the end of February
    assert [(r.item_name, r.item_group, r.rate, r.amount, r.price_list) for r in inv.items] == [
        ("Widget", "Products", Decimal("100"), Decimal("300"), "Standard Selling"),
        ("Gadget", "Products", Decimal("250"), Decimal("250"), "Standard Selling")]
    assert inv.grand_total == Decimal("550") and inv.total_commission == Decimal("27.5")
    assert inv.sales_partner == "Resell Co" and [r.sales_person for r in inv.sales_team] == ["Ann"]
    assert inv.income_account == "Sales - DI"
    sources = inv.defaults_source
    assert sources["price_list"]["source"] == "system" and sources["due_date"]["source"] == "customer"
    assert sources["contact_person"]["source"] == "primary contact of Acme"
    # a later posting date moves the due date the rule gave; a due date set by hand stays
    inv.posting_date = dt.date(2024, 1, 30)
    inv.save()
    assert inv.due_date == dt.date(2024, 2, 29)  # a leap year
    inv.due_date = dt.date(2024, 4, 15)
    inv.posting_date = dt.date(2024, 2, 1)
    inv.save()
    assert inv.due_date == dt.date(2024, 4, 15) and inv.defaults_source["due_date"]["source"] == "set by hand"
    for _ in range(2):  # and stays so through later saves, read back fresh each time
        inv = cm.get_doc("Sales Invoice", inv.name)
        inv.credit_override_reason = "a later, unrelated change"
        inv.save()
        assert inv.due_date == dt.date(2024, 4, 15) and inv.defaults_source["due_date"]["source"] == "set by hand"
    # a hand-set rate is kept
    hand = invoice(cm, ("WIDGET", 2))
    hand.items[0].rate = 90
    hand.save()
    assert hand.items[0].amount == Decimal("180") and hand.grand_total == Decimal("180")


def test_submit_posts_to_the_customers_receivable_account_and_cancel_reverses(books: Session):
    ledger = app_module("_ledger")
    cm = books
    inv = invoice(cm, ("WIDGET", 4))
    assert gl(cm, inv.name) == []  # a draft posts nothing
    inv.submit()
    assert inv.debit_to == "Acme - DI" and inv.outstanding_amount == Decimal("400")
    assert gl(cm, inv.name) == [("Acme - DI", Decimal("400"), Decimal("0"), 0),
                                ("Sales - DI", Decimal("0"), Decimal("400"), 0)]
    assert ledger.receivable_balance(cm, "Acme", "Docframe Inc") == Decimal("400")
    inv.cancel()
    assert cm.get_value("Sales Invoice", inv.name, "outstanding_amount") == 0  # it asks for nothing now
    assert gl(cm, inv.name) == [("Acme - DI", Decimal("0"), Decimal("400"), 1),
                                ("Acme - DI", Decimal("400"), Decimal("0"), 1),
                                ("Sales - DI", Decimal("0"), Decimal("400"), 1),
                                ("Sales - DI", Decimal("400"), Decimal("0"), 1)]
    assert ledger.receivable_balance(cm, "Acme") == Decimal("0")


def test_the_ledger_is_immutable(books: Session):
    cm = books
    inv = invoice(cm, ("WIDGET", 1))
    inv.submit()
    name = cm.get_list("GL Entry", filters={"voucher_no": inv.name, "account": "Acme - DI"}, pluck="name")[0]
    line = cm.get_doc("GL Entry", name)
    line.debit = 1
    refused(["GL Entry", "cannot be changed: the ledger is immutable", inv.name], line.save)
    refused(["cannot be deleted"], lambda: cm.delete_doc("GL Entry", name))
    assert cm.get_doc("GL Entry", name).debit == Decimal("100")
    refused(["ledger lines are posted by submitting a voucher"], lambda: cm.insert("GL Entry", {
        "posting_date": POSTING, "company": "Docframe Inc", "account": "Sales - DI", "debit": 5,
        "voucher_type": "Sales Invoice", "voucher_no": inv.name}))
    refused(["Cannot rename GL Entry", "the doctype does not allow it"], lambda: cm.rename_doc("GL Entry", name, "x"))
    refused([f"Cannot rename Sales Invoice {inv.name!r}", "documents cannot be renamed"],
            lambda: cm.rename_doc("Sales Invoice", inv.name, "INV-RENAMED"))
    assert cm.exists("GL Entry", name) and cm.exists("Sales Invoice", inv.name)
    refused([f"Customer 'Acme' cannot be deleted: it has ledger entries (from Sales Invoice {inv.name})",
             "Disable the customer instead"], lambda: cm.delete_doc("Customer", "Acme"))
    assert cm.exists("Customer", "Acme") and cm.exists("Account", "Acme - DI")


def test_only_payments_change_a_submitted_invoices_outstanding_amount(books: Session):
    cm = books
    inv = invoice(cm, ("WIDGET", 2))
    inv.submit()
    for value in (0, -5, 99999999):
        refused([f"Sales Invoice {inv.name!r}: Outstanding Amount is set by the payments allocated to the invoice",
                 "it is 200.00"], lambda v=value: cm.set_value("Sales Invoice", inv.name, {"outstanding_amount": v}))
    cm.set_value("Sales Invoice", inv.name, {"remarks": "ok"} if "remarks" in cm.site.get_meta(
        "Sales Invoice").fields_by_name else {"outstanding_amount": 200})  # an unchanged amount saves
    pay = cm.insert("Payment Entry", {"customer": "Acme", "company": "Docframe Inc", "posting_date": POSTING,
                                      "paid_amount": 50, "paid_to": "Cash - DI",
                                      "references": [{"sales_invoice": inv.name, "allocated_amount": 50}]})
    pay.submit()
    assert cm.get_value("Sales Invoice", inv.name, "outstanding_amount") == Decimal("150")
    pay.cancel()
    assert cm.get_value("Sales Invoice", inv.name, "outstanding_amount") == Decimal("200")


def test_the_credit_limit_holds_with_the_figures_and_a_controller_may_override(books: Session, cm_site: Site):
    cm = books
    invoice(cm, ("WIDGET", 6)).submit()
    over = invoice(cm, ("WIDGET", 5))
    refused(["credit limit exceeded for Customer 'Acme' in company 'Docframe Inc'", "balance 600.00",
             "this invoice 500.00", "= 1,100.00", "over 1,000.00 (the customer's own limit)"], over.submit)
    assert cm.get_doc("Sales Invoice", over.name).docstatus == 0 and gl(cm, over.name) == []
    cm.insert("User", name="cc@example.com", email="cc@example.com",
              roles=[{"role": "Credit Controller"}, {"role": "Accounts User"}])
    with cm_site.session("cc@example.com") as controller:
        doc = controller.get_doc("Sales Invoice", over.name)
        refused(["enter a Credit Limit Override Reason"], doc.submit)
        doc = controller.get_doc("Sales Invoice", over.name)
        doc.credit_override_reason = "Paid by wire today, not yet booked"
        doc.save()
        doc.submit()
    assert cm.get_doc("Sales Invoice", over.name).docstatus == 1 and len(gl(cm, over.name)) == 2
    # the group's limit when the customer has none, then the company's global limit
    cm.insert("Customer Group", customer_group_name="Small", parent_customer_group="All Customer Groups",
              credit_limits=[{"company": "Docframe Inc", "credit_limit": 200}])
    cm.insert("Customer", customer_name="Tiny", customer_group="Small", company="Docframe Inc")
    refused(["over 200.00 (the limit of customer group 'Small')"], invoice(cm, ("GADGET", 1), customer="Tiny").submit)
    cm.set_value("Company", "Docframe Inc", {"credit_limit": 50})
    cm.insert("Customer", customer_name="Walk-in Co", company="Docframe Inc")
    refused(["over 50.00 (the company's global limit)"], invoice(cm, ("WIDGET", 1), customer="Walk-in Co").submit)


def test_bad_invoices_are_refused_naming_the_rule(books: Session):
    cm = books
    jane = cm.insert("Customer", customer_type="Individual", first_name="Jane", last_name="Roe", works_at="Acme")
    refused(["Customer 'Jane Roe' cannot be invoiced", "works at 'Acme'"],
            lambda: invoice(cm, ("WIDGET", 1), customer=jane.name))
    refused(["row 1 of Items: Quantity must be greater than 0 (got -2"], lambda: invoice(cm, ("WIDGET", -2)))
    cm.insert("Address", address_title="Dock", address_type="Office", site_number="D1", site_purpose="Ship-To",
              links=LINK, **PLACE)
    refused(["Billing Address 'Dock-Office' is a Ship-To site and cannot be the billing address"],
            lambda: invoice(cm, ("WIDGET", 1), billing_address="Dock-Office"))
    cm.insert("Price List", price_list_name="Euro List", currency="EUR")
    refused(["Currency USD does not match Price List 'Euro List', which is in EUR"],
            lambda: invoice(cm, ("WIDGET", 1), price_list="Euro List", currency="USD"))
    refused(["Currency EUR is not the currency of company 'Docframe Inc' (USD)", "choose a Price List in USD"],
            lambda: invoice(cm, ("WIDGET", 1), price_list="Euro List", currency="EUR"))
    cm.insert("Price List", price_list_name="Supplier Catalogue", currency="USD", selling=0, buying=1)
    refused(["Price List 'Supplier Catalogue' is not a selling price list"],
            lambda: invoice(cm, ("WIDGET", 1), price_list="Supplier Catalogue"))
    cm.insert("Item", item_code="UNPRICED", item_group="Products")
    refused(["Item 'UNPRICED' has no price in the customer's price lists"], lambda: invoice(cm, ("UNPRICED", 1)))
    refused(["row 1 of Items: Rate cannot be negative (got -29.00)"], lambda: cm.insert("Sales Invoice", {
        "customer": "Acme", "company": "Docframe Inc", "posting_date": POSTING,
        "items": [{"item_code": "WIDGET", "qty": 1, "rate": -29}]}))
    cm.insert("Company", company_name="Other GmbH", abbr="OG", default_currency="USD")
    for account, problem in (("Sales - OG", "belongs to company 'Other GmbH', not 'Docframe Inc'"),
                             ("Accounts Receivable - DI", "is a group account"),
                             ("Cash - DI", "is an Asset account, not an Income account")):
        refused([f"Income Account {account!r} {problem}"], lambda a=account: invoice(cm, ("WIDGET", 1),
                                                                                   income_account=a))
    cm.insert("Sales Person", sales_person_name="Ann", parent_sales_person="Sales Team")
    refused(["Sales Team", "must total exactly 100"], lambda: invoice(
        cm, ("WIDGET", 1), sales_team=[{"sales_person": "Ann", "allocated_percentage": 50}]))
    for account in ("Cash - OG", "Sales - DI", "Accounts Receivable - DI"):
        refused([f"Paid To {account!r} must be a Cash or Bank ledger account (not a group) of company "
                 "'Docframe Inc'"], lambda a=account: cm.insert("Payment Entry", {
                     "customer": "Acme", "company": "Docframe Inc", "posting_date": POSTING, "paid_amount": 100,
                     "paid_to": a}))
    assert cm.get_count("Payment Entry") == 0
    assert cm.get_count("Sales Invoice") == 0 and cm.get_count("GL Entry") == 0
    cm.set_value("Company", "Docframe Inc", {"require_customer_association": 1})
    cm.insert("Customer", customer_name="Loner")
    refused(["Customer 'Loner' has no account association with company 'Docframe Inc'"],
            lambda: invoice(cm, ("WIDGET", 1), customer="Loner"))


@pytest.mark.slow
def test_concurrent_submits_cannot_both_slip_under_the_limit(books: Session, cm_site: Site):
    cm = books
    first, second = invoice(cm, ("WIDGET", 6)).name, invoice(cm, ("WIDGET", 6)).name  # 600 each; the limit is 1,000
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def submit(name: str) -> None:
        with cm_site.session() as s:
            doc = s.get_doc("Sales Invoice", name)
            barrier.wait(10)
            try:
                doc.submit()
                outcomes[name] = "submitted"
            except ValidationError as exc:
                outcomes[name] = exc.message

    threads = [threading.Thread(target=submit, args=(n,)) for n in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o == "submitted" for o in outcomes.values()) == [False, True], outcomes
    refusal = next(o for o in outcomes.values() if o != "submitted")
    assert "balance 600.00 + this invoice 600.00 = 1,200.00, over 1,000.00" in refusal
    assert cm.get_count("GL Entry") == 2


def test_a_limit_cannot_be_lowered_below_what_is_owed(books: Session):
    cm = books
    invoice(cm, ("WIDGET", 6)).submit()  # Acme owes 600
    acme = cm.get_doc("Customer", "Acme")
    acme.credit_limits[0].credit_limit = 500
    refused(["Customer 'Acme': the credit limit 500.00 for company 'Docframe Inc' is below what its customers owe "
             "now ('Acme' owes 600.00)"], acme.save)
    acme = cm.get_doc("Customer", "Acme")
    acme.credit_limits[0].credit_limit = 700
    acme.save()  # lowered, but still above the balance
    acme.notes = "unchanged limit"
    acme.save()
    # a group's limit governs its customers without their own; the company's those without either
    cm.insert("Customer Group", customer_group_name="Small", parent_customer_group="All Customer Groups",
              credit_limits=[{"company": "Docframe Inc", "credit_limit": 1000}])
    cm.insert("Customer", customer_name="Tiny", customer_group="Small", company="Docframe Inc")
    invoice(cm, ("GADGET", 2), customer="Tiny").submit()  # 500
    small = cm.get_doc("Customer Group", "Small")
    small.credit_limits[0].credit_limit = 400
    refused(["Customer Group 'Small'", "'Tiny' owes 500.00"], small.save)
    cm.insert("Customer", customer_name="Plain", company="Docframe Inc")
    cm.set_value("Company", "Docframe Inc", {"credit_limit": 5000})
    invoice(cm, ("GADGET", 1), customer="Plain").submit()  # 250, governed by the company's limit
    refused(["Company 'Docframe Inc'", "'Plain' owes 250.00"],
            lambda: cm.set_value("Company", "Docframe Inc", {"credit_limit": 100}))
    cm.set_value("Company", "Docframe Inc", {"credit_limit": 300})  # Acme (own limit) and Tiny (group's) do not count

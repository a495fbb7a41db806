"""Payments: allocations reduce invoices' outstanding amounts, the rest is a prepayment, cancel puts it back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.site.session import Session
from tests.customer.conftest import app_module
from tests.customer.test_invoices import POSTING, gl, invoice, refused


def pay(cm: Session, amount: float, *allocations: tuple[str, float], customer: str = "Acme", submit: bool = True):
    doc = cm.insert("Payment Entry", {"customer": customer, "company": "Docframe Inc", "posting_date": POSTING,
                                      "paid_amount": amount, "references": [
                                          {"sales_invoice": n, "allocated_amount": a} for n, a in allocations]})
    if submit:
        doc.submit()
    return doc


@pytest.fixture
def ledger(cm_site):
    return app_module("_ledger")


def test_a_payment_settles_invoices_and_the_rest_is_a_prepayment(books: Session, ledger):
    cm = books
    inv = invoice(cm, ("WIDGET", 4))
    inv.submit()
    payment = pay(cm, 500, (inv.name, 300))
    assert (payment.paid_to, payment.paid_from) == ("Cash - DI", "Acme - DI")
    assert (payment.total_allocated_amount, payment.unallocated_amount) == (Decimal("300"), Decimal("200"))
    assert cm.get_doc("Sales Invoice", inv.name).outstanding_amount == Decimal("100")
    assert gl(cm, payment.name) == [("Acme - DI", Decimal("0"), Decimal("200"), 0),
                                    ("Acme - DI", Decimal("0"), Decimal("300"), 0),
                                    ("Cash - DI", Decimal("500"), Decimal("0"), 0)]
    assert ledger.receivable_balance(cm, "Acme", "Docframe Inc") == Decimal("-100")  # prepaid
    # the invoice cannot be cancelled while the payment settles it; the payment can, and it owes again
    refused([f"Sales Invoice {inv.name!r} cannot be cancelled: Payment Entry {payment.name} is allocated to it"],
            cm.get_doc("Sales Invoice", inv.name).cancel)
    cm.get_doc("Payment Entry", payment.name).cancel()
    assert cm.get_doc("Sales Invoice", inv.name).outstanding_amount == Decimal("400")
    assert ledger.receivable_balance(cm, "Acme") == Decimal("400")
    cm.get_doc("Sales Invoice", inv.name).cancel()
    assert ledger.receivable_balance(cm, "Acme") == Decimal("0")


def test_bad_allocations_are_refused_with_the_figures(books: Session):
    cm = books
    inv = invoice(cm, ("WIDGET", 1))
    inv.submit()
    draft = invoice(cm, ("WIDGET", 1))
    refused(["row 1 of Allocations: 150.00 allocated to Sales Invoice", "more than its outstanding 100.00"],
            lambda: pay(cm, 200, (inv.name, 150)))
    refused(["the allocations total 100.00, more than the Paid Amount 50.00"], lambda: pay(cm, 50, (inv.name, 100)))
    refused([f"Sales Invoice {draft.name!r} is a draft; only a submitted invoice can be paid"],
            lambda: pay(cm, 100, (draft.name, 100)))
    refused(["Paid Amount must be greater than 0"], lambda: pay(cm, -5))
    cm.insert("Customer", customer_name="Other Co", company="Docframe Inc")
    refused(["is of Customer 'Acme'", "not of this payment's"], lambda: pay(cm, 100, (inv.name, 100),
                                                                           customer="Other Co"))
    assert cm.get_count("Payment Entry") == 0 and len(gl(cm, inv.name)) == 2
    # two payments that each fit the outstanding alone: the second is refused when submitted
    first = pay(cm, 80, (inv.name, 80), submit=False)
    second = pay(cm, 80, (inv.name, 80), submit=False)
    first.submit()
    refused(["80.00 allocated", "more than its outstanding 20.00"], second.submit)
    assert cm.get_doc("Sales Invoice", inv.name).outstanding_amount == Decimal("20")


def test_a_payment_settles_an_invoice_whose_customer_changed_since(books: Session):
    cm = books
    inv = invoice(cm, ("WIDGET", 2))
    inv.submit()
    cm.set_value("Item", "WIDGET", {"disabled": 1})  # a rule the invoice met at submit no longer holds
    pay(cm, 200, (inv.name, 200))
    assert cm.get_doc("Sales Invoice", inv.name).outstanding_amount == Decimal("0")

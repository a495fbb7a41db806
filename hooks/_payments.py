"""Payments from customers (SPEC 4): allocations to invoices, prepayments, the ledger lines.

A Payment Entry's allocations each settle part of one submitted invoice of the same
customer and company, at most its outstanding amount; what is not allocated is a
prepayment (credited to the receivable account against the payment itself, so the
customer's balance goes negative). Submitting posts the lines and lowers each
invoice's outstanding amount; cancelling puts them back and posts the reverse lines.
The customer's row is locked first, so two payments cannot settle the same amount.
"""

from __future__ import annotations

from decimal import Decimal

from engine import Document, Session
from engine.errors import FieldError

from . import _accounts, _ledger, _selling

DOCTYPE = "Payment Entry"
INVOICE = "Sales Invoice"


def fill(doc: Document, ctx: Session) -> None:
    """Before validate (drafts): the account paid to, each invoice's outstanding, the totals."""
    if (doc.docstatus or 0) != 0:
        return
    if not doc.paid_to and doc.company:
        doc.paid_to = ctx.get_value("Company", {"name": doc.company}, "default_cash_account")
    for row in doc.references or []:
        if row.sales_invoice and ctx.exists(INVOICE, row.sales_invoice):
            row.outstanding_amount = ctx.get_value(INVOICE, row.sales_invoice, "outstanding_amount")
    _totals(doc)


def _totals(doc: Document) -> None:
    doc.total_allocated_amount = sum((_ledger.money(r.allocated_amount) for r in doc.references or []), Decimal(0))
    doc.unallocated_amount = _ledger.money(doc.paid_amount) - doc.total_allocated_amount


def validate(doc: Document, ctx: Session) -> None:
    errors: list[FieldError] = []
    if doc.paid_amount is not None and _ledger.money(doc.paid_amount) <= 0:
        _selling.fail(errors, doc, "paid_amount", f"{DOCTYPE}: Paid Amount must be greater than 0 "
                      f"(got {doc.paid_amount})", doc.paid_amount)
    if not doc.paid_to:
        _selling.fail(errors, doc, "paid_to", f"{DOCTYPE}: set Paid To (company {doc.company!r} has no Default "
                      "Cash Account)", None)
    elif doc.company and not _accounts.is_account_of(ctx, doc.paid_to, doc.company, _accounts.CASH_TYPES):
        _selling.fail(errors, doc, "paid_to", f"{DOCTYPE}: Paid To {doc.paid_to!r} must be a Cash or Bank ledger "
                      f"account (not a group) of company {doc.company!r}", doc.paid_to)
    seen: set[str] = set()
    for row in doc.references or []:
        _check_allocation(doc, row, ctx, seen, errors)
    if doc.paid_amount is not None and doc.total_allocated_amount > _ledger.money(doc.paid_amount):
        _selling.fail(errors, doc, "references", f"{DOCTYPE}: the allocations total "
                      f"{_ledger.fmt(doc.total_allocated_amount)}, more than the Paid Amount "
                      f"{_ledger.fmt(_ledger.money(doc.paid_amount))}", doc.total_allocated_amount)
    _selling.raise_errors(errors)
    if doc.customer and doc.company:
        _accounts.require_association(ctx, doc.customer, doc.company)


def _check_allocation(doc: Document, row: Document, ctx: Session, seen: set[str], errors: list[FieldError]) -> None:
    where = f"{DOCTYPE}: row {row.idx} of Allocations"
    name = row.sales_invoice
    if not name or not ctx.exists(INVOICE, name):
        return  # the link check reports it
    if name in seen:
        _selling.fail(errors, row, "sales_invoice", f"{where}: Sales Invoice {name!r} is listed twice", name)
    seen.add(name)
    inv = ctx.get_value(INVOICE, name, ["docstatus", "customer", "company", "outstanding_amount"])
    allocated = _ledger.money(row.allocated_amount)
    if inv["docstatus"] != 1:
        state = "a draft" if inv["docstatus"] == 0 else "cancelled"
        _selling.fail(errors, row, "sales_invoice", f"{where}: Sales Invoice {name!r} is {state}; only a "
                      "submitted invoice can be paid", name)
    elif inv["customer"] != doc.customer or inv["company"] != doc.company:
        _selling.fail(errors, row, "sales_invoice", f"{where}: Sales Invoice {name!r} is of Customer "
                      f"{inv['customer']!r} in company {inv['company']!r}, not of this payment's", name)
    elif allocated <= 0:
        _selling.fail(errors, row, "allocated_amount", f"{where}: Allocated must be greater than 0", allocated)
    elif allocated > _ledger.money(inv["outstanding_amount"]):
        _selling.fail(errors, row, "allocated_amount", f"{where}: {_ledger.fmt(allocated)} allocated to Sales "
                      f"Invoice {name!r}, more than its outstanding "
                      f"{_ledger.fmt(_ledger.money(inv['outstanding_amount']))}", allocated)


def lock_and_recheck(doc: Document, ctx: Session) -> None:
    """Before submit: with the customer's row locked, the outstanding amounts are read again."""
    _ledger.lock_customer(ctx, doc.customer)
    errors: list[FieldError] = []
    for row in doc.references or []:
        row.outstanding_amount = ctx.get_value(INVOICE, row.sales_invoice, "outstanding_amount")
        _check_allocation(doc, row, ctx, set(), errors)
    _selling.raise_errors(errors)
    doc.paid_from = _ledger.receivable_account(ctx, doc.customer, doc.company)


def post(doc: Document, ctx: Session) -> None:
    """On submit: debit the account paid to, credit the receivable account per invoice and for the rest."""
    receivable = {"account": doc.paid_from, "party_type": "Customer", "party": doc.customer}
    lines = [{"account": doc.paid_to, "debit": doc.paid_amount}]
    for row in doc.references or []:
        lines.append({**receivable, "credit": row.allocated_amount, "against_voucher_type": INVOICE,
                      "against_voucher": row.sales_invoice})
    if _ledger.money(doc.unallocated_amount) > 0:
        lines.append({**receivable, "credit": doc.unallocated_amount, "against_voucher_type": DOCTYPE,
                      "against_voucher": doc.name})
    _ledger.post_lines(ctx, doc, lines)
    _settle(doc, ctx, -1)


def unpost(doc: Document, ctx: Session) -> None:
    """Before cancel: the invoices owe again what this payment settled; the reverse lines."""
    _settle(doc, ctx, +1)
    _ledger.reverse(ctx, doc)


def _settle(doc: Document, ctx: Session, sign: int) -> None:
    for row in doc.references or []:
        inv = ctx.get_doc(INVOICE, row.sales_invoice, for_update=True)
        inv.outstanding_amount = _ledger.money(inv.outstanding_amount) + sign * _ledger.money(row.allocated_amount)
        inv.flags.settled_by = doc.name  # the one way the outstanding amount of a submitted invoice changes
        inv.save()

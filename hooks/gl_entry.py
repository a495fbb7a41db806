"""GL Entry: the ledger is immutable (SPEC 4); vouchers post lines, and a cancel posts their reverse."""

from __future__ import annotations

from typing import Any

from engine import Document, ReportResult, Session, hookimpl, report
from engine.errors import ValidationError

from . import _receivables_reports


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    if doc.is_new() and not doc.flags.posted_by_voucher:
        raise ValidationError("GL Entry: ledger lines are posted by submitting a voucher (a Sales Invoice, a "
                              "Payment Entry), not entered by hand")
    if not doc.is_new():
        raise ValidationError(f"GL Entry {doc.name!r} cannot be changed: the ledger is immutable; cancel the "
                              f"voucher ({doc.voucher_type} {doc.voucher_no}) to post its reverse")


@hookimpl
def on_trash(doc: Document, ctx: Session) -> None:
    raise ValidationError(f"GL Entry {doc.name!r} cannot be deleted: the ledger is immutable; cancel the "
                          f"voucher ({doc.voucher_type} {doc.voucher_no}) to post its reverse")


@report("Balance Report", ref_doctype="GL Entry", filters=[
    {"name": "customer", "type": "Link", "options": "Customer", "required": True},
    {"name": "company", "type": "Link", "options": "Company"},
    {"name": "from_date", "type": "Date", "label": "From Date",
     "description": "An opening balance row sums everything before it."},
    {"name": "to_date", "type": "Date", "label": "To Date"},
])
def balance_report(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """A customer's invoices and payments in date order, with the running balance (positive: it owes)."""
    return _receivables_reports.balance_report(ctx, filters)


@report("Accounts Receivable", ref_doctype="GL Entry", filters=[
    {"name": "company", "type": "Link", "options": "Company"},
    {"name": "customer", "type": "Link", "options": "Customer"},
    {"name": "as_of", "type": "Date", "label": "As Of", "description": "Default: today."},
])
def accounts_receivable(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """What each customer owes on open invoices, aged 0-30, 31-60, 61-90 and 90+ days past due."""
    return _receivables_reports.ageing(ctx, filters)

"""Sales Invoice: filled from its customer, checked, credit-limited at submit, posted to the ledger (SPEC 4)."""

from __future__ import annotations

from typing import Any

from engine import Document, ReportResult, Session, hookimpl, report

from . import _invoicing, _receivables_reports


@hookimpl
def before_validate(doc: Document, ctx: Session) -> None:
    _invoicing.fill(doc, ctx)


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    _invoicing.validate(doc, ctx)


@hookimpl
def form_context(doc: Document, ctx: Session) -> dict[str, Any]:
    """The invoice form's header: where each value filled in from the customer came from; and the fields
    whose change fills the draft in again while it is edited (the desk asks the server, nothing is saved)."""
    return {"sources": {k: v for k, v in (doc.get("defaults_source") or {}).items() if isinstance(v, dict)},
            "refresh_on": ["customer", "company", "posting_date", "price_list", "sales_partner", "items.item_code",
                           "items.qty", "items.rate"]}


@hookimpl
def before_submit(doc: Document, ctx: Session) -> None:
    _invoicing.check_credit(doc, ctx)


@hookimpl
def on_submit(doc: Document, ctx: Session) -> None:
    _invoicing.post(doc, ctx)


@hookimpl
def before_update_after_submit(doc: Document, ctx: Session) -> None:
    _invoicing.check_outstanding(doc)


@hookimpl
def before_cancel(doc: Document, ctx: Session) -> None:
    _invoicing.before_cancel(doc, ctx)


@report("Sales Analytics", ref_doctype="Sales Invoice", filters=[
    {"name": "tree_type", "type": "Select", "label": "By", "options": ["Customer Group", "Territory"],
     "default": "Customer Group"},
    {"name": "company", "type": "Link", "options": "Company"},
    {"name": "from_date", "type": "Date", "label": "From Date"},
    {"name": "to_date", "type": "Date", "label": "To Date"},
])
def sales_analytics(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """Invoiced per month by customer group or territory, rolled up the tree."""
    return _receivables_reports.sales_analytics(ctx, filters)


@report("Target vs Actual", ref_doctype="Sales Invoice", filters=[
    {"name": "based_on", "type": "Select", "label": "By", "options": ["Territory", "Sales Person"],
     "default": "Territory"},
    {"name": "fiscal_year", "type": "Int", "label": "Fiscal Year", "required": True},
    {"name": "company", "type": "Link", "options": "Company"},
])
def target_vs_actual(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """Targets per item group and fiscal year against what was invoiced, by territory or sales person."""
    return _receivables_reports.target_vs_actual(ctx, filters)

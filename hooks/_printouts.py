"""The customer's printouts (SPEC 4, Erply): Balance Statement and Payment Reminder.

Both are drawn from the ledger and the open invoices (the same functions as the
reports), with the company's letterhead and the customer's billing address.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from engine import Document, Session
from engine.errors import FieldError, ValidationError

from . import _ledger, _parties, _receivables_reports

STATEMENT = "Balance Statement"
REMINDER = "Payment Reminder"


def _date(value: Any, default: dt.date | None, printout: str = "", param: str = "") -> dt.date | None:
    """A date parameter of a printout (``from_date=2026-01-31``); a bad one is a 417 naming it."""
    if value in (None, ""):
        return default
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        label = param.replace("_", " ").title().replace("As Of", "As of")
        raise ValidationError.from_errors([FieldError(printout, param, label, f"{printout}: {label} {value!r} is "
                                                      "not a date (YYYY-MM-DD)", value)]) from None


def _company(doc: Document, ctx: Session, given: str | None, printout: str = "") -> dict[str, Any] | None:
    if given and not ctx.exists("Company", given):
        raise ValidationError.from_errors([FieldError(printout, "company", "Company", f"{printout}: Company "
                                                      f"{given!r} does not exist", given)])
    name = given or doc.get("company") or next(iter(_ledger.balances_by_company(ctx, doc.name)), None)
    if not name or not ctx.exists("Company", name):
        return None
    return ctx.get_value("Company", name, ["name", "company_name", "country", "default_currency"])


def _address(doc: Document, ctx: Session) -> list[str]:
    name = _parties.default_address(ctx, "Customer", doc.name, "billing")
    if name is None:
        return []
    a = ctx.get_doc("Address", name)
    city = " ".join(x for x in (a.pincode, a.city) if x)
    return [x for x in (a.address_line1, a.address_line2, city, a.state, a.country) if x]


def balance_statement(doc: Document, ctx: Session, params: dict[str, Any]) -> dict[str, Any]:
    today = ctx.now().date()
    start = _date(params["from_date"], today.replace(day=1), STATEMENT, "from_date")
    end = _date(params["to_date"], today, STATEMENT, "to_date")
    if start is not None and end is not None and start > end:
        raise ValidationError.from_errors([FieldError(STATEMENT, "to_date", "To Date", f"{STATEMENT}: To Date {end} "
                                                      f"is before the From Date {start}", end)])
    company = _company(doc, ctx, params["company"], STATEMENT)
    rows = _receivables_reports.balance_report(ctx, {"customer": doc.name, "company": company and company["name"],
                                                     "from_date": start, "to_date": end}).rows
    return {"company": company, "address": _address(doc, ctx), "from_date": start, "to_date": end,
            "opening": rows[0]["balance"], "lines": rows[1:-1], "closing": rows[-1]["balance"]}


def payment_reminder(doc: Document, ctx: Session, params: dict[str, Any]) -> dict[str, Any]:
    as_of = _date(params["as_of"], ctx.now().date(), REMINDER, "as_of")
    assert as_of is not None
    company = _company(doc, ctx, params["company"], REMINDER)
    invoices = []
    for inv in _receivables_reports.open_invoices(ctx, company and company["name"], doc.name, as_of):
        due = _date(inv["due_date"], None) or _date(inv["posting_date"], as_of)
        assert due is not None
        invoices.append({**inv, "days_overdue": max(0, (as_of - due).days)})
    overdue = sum((_ledger.money(i["outstanding_amount"]) for i in invoices if i["days_overdue"]), Decimal(0))
    total = sum((_ledger.money(i["outstanding_amount"]) for i in invoices), Decimal(0))
    advance = _receivables_reports.advances(ctx, company and company["name"], doc.name, as_of).get(
        doc.name, Decimal(0))  # paid ahead, not yet allocated: it reduces what the customer is asked to pay
    return {"company": company, "address": _address(doc, ctx), "as_of": as_of, "invoices": invoices,
            "total": total, "overdue": overdue, "advance": advance,
            "to_pay": max(Decimal(0), overdue - advance), "net": total - advance}

"""The general ledger (SPEC 4): GL Entry lines posted by vouchers, their reversal, customer balances.

A voucher posts balanced lines (:func:`post_lines`); cancelling it posts the reverse of
each (:func:`reverse`), so the ledger is only ever added to. A customer's balance is the
sum of its receivable lines: debits (invoices) minus credits (payments), positive when
it owes, negative when it has prepaid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine import Document, Session
from engine.errors import FieldError, ValidationError

from . import _accounts

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def fmt(value: Decimal) -> str:
    return f"{value:,.2f}"


def post_lines(ctx: Session, voucher: Document, lines: list[dict[str, Any]]) -> None:
    """GL lines of ``voucher`` (each: account, debit, credit, and for receivable lines party and against)."""
    debit = sum((money(line.get("debit")) for line in lines), Decimal(0))
    credit = sum((money(line.get("credit")) for line in lines), Decimal(0))
    if debit != credit:  # a bug in a voucher's rules, never the user's input
        raise ValidationError(f"{voucher.doctype} {voucher.name!r}: the GL lines do not balance "
                              f"(debit {fmt(debit)}, credit {fmt(credit)})")
    common = {"posting_date": voucher.posting_date, "company": voucher.company, "voucher_type": voucher.doctype,
              "voucher_no": voucher.name, "currency": voucher.get("currency")}
    for line in lines:
        _insert(ctx, {**common, "debit": 0, "credit": 0, **line})


def _insert(ctx: Session, values: dict[str, Any]) -> None:
    line = ctx.new_doc("GL Entry", values)
    line.flags.posted_by_voucher = True  # hooks/gl_entry.py refuses lines entered by hand
    line.insert()


def reverse(ctx: Session, voucher: Document) -> None:
    """Before cancel (the lines still link to a submitted voucher): the reverse of every line the
    voucher posted, both sides marked cancelled; the cancel's transaction holds them."""
    gl = ctx.site.table("GL Entry")
    lines = ctx.get_list("GL Entry", fields=["*"], filters={"voucher_type": voucher.doctype,
                                                              "voucher_no": voucher.name, "is_cancelled": 0})
    keep = ("posting_date", "company", "account", "party_type", "party", "currency", "voucher_type", "voucher_no",
            "against_voucher_type", "against_voucher")
    for line in lines:
        _insert(ctx, {**{k: line[k] for k in keep}, "debit": line["credit"], "credit": line["debit"],
                      "is_cancelled": 1, "remarks": f"Cancelled {voucher.doctype} {voucher.name}"})
    # the one change the ledger allows: the original lines are marked cancelled (as ERPNext does)
    ctx.conn.execute(gl.update().where(gl.c.name.in_([line["name"] for line in lines])).values(is_cancelled=1))
    ctx.forget("GL Entry")


def receivable_balance(ctx: Session, customer: str, company: str | None = None,
                       until: dt.date | None = None) -> Decimal:
    """What the customer owes (positive) or has prepaid (negative), from its receivable GL lines."""
    gl = ctx.site.table("GL Entry")
    cond = sa.and_(gl.c.party_type == "Customer", gl.c.party == customer)
    if company is not None:
        cond = sa.and_(cond, gl.c.company == company)
    if until is not None:
        cond = sa.and_(cond, gl.c.posting_date <= until)
    query = sa.select(sa.func.coalesce(sa.func.sum(gl.c.debit - gl.c.credit), 0)).where(cond)
    with ctx.reading() as conn:
        return money(conn.execute(query).scalar())


def balances_by_company(ctx: Session, customer: str) -> dict[str, Decimal]:
    gl = ctx.site.table("GL Entry")
    query = (sa.select(gl.c.company, sa.func.sum(gl.c.debit - gl.c.credit))
             .where(gl.c.party_type == "Customer", gl.c.party == customer)
             .group_by(gl.c.company).order_by(gl.c.company))
    with ctx.reading() as conn:
        return {company: money(total) for company, total in conn.execute(query)}


def history(ctx: Session, customer: str) -> list[tuple[dt.date, Decimal]]:
    """The balance after each posting day (all companies), oldest first."""
    gl = ctx.site.table("GL Entry")
    query = (sa.select(gl.c.posting_date, sa.func.sum(gl.c.debit - gl.c.credit))
             .where(gl.c.party_type == "Customer", gl.c.party == customer)
             .group_by(gl.c.posting_date).order_by(gl.c.posting_date))
    running, out = Decimal(0), []
    with ctx.reading() as conn:
        for day, change in conn.execute(query):
            running += money(change)
            out.append((day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)[:10]), running))
    return out


def lock_customer(ctx: Session, customer: str) -> None:
    """Hold the customer's row until the transaction ends: its credit checks and allocations queue."""
    if ctx.conn.dialect.name != "sqlite":  # SQLite: one writer at a time already
        t = ctx.site.table("Customer")
        ctx.conn.execute(sa.select(t.c.name).where(t.c.name == customer).with_for_update())


def receivable_account(ctx: Session, customer: str, company: str) -> str:
    """The customer's receivable account in ``company``; one is made, as a save would, if it has none."""
    account = _accounts._party_account(ctx, "Customer", customer, company)
    if account is None:
        doc = ctx.get_doc("Customer", customer)
        if not any(r.company == company for r in doc.get(_accounts.PARTY_ROWS) or []):
            doc.append(_accounts.PARTY_ROWS, {"company": company})
        doc.save()
        account = _accounts._party_account(ctx, "Customer", customer, company)
    if account is None:
        raise ValidationError.from_errors([FieldError("Customer", "company", "Company",
                                                      f"Customer {customer!r} has no receivable account in "
                                                      f"company {company!r}", company)])
    return account


def sparkline(values: list[Decimal], width: int = 160, height: int = 32) -> str:
    """SVG polyline points of a balance history (a flat line for one value, empty for none)."""
    if not values:
        return ""
    if len(values) == 1:
        values = values * 2
    low, high = min([*values, Decimal(0)]), max([*values, Decimal(0)])
    span = (high - low) or Decimal(1)
    step = width / (len(values) - 1)
    return " ".join(f"{i * step:.1f},{float((high - v) / span) * (height - 2) + 1:.1f}" for i, v in enumerate(values))

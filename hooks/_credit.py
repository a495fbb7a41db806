"""A credit limit may not be lowered below what the customers it governs owe now (SPEC 3.4, issue 11).

The limit that governs a customer in a company is its own row, else the nearest group's
row up the tree, else the company's global limit (``_selling.credit_limit``). Saving a
customer, a customer group or a company with a limit under the current balance of a
customer it governs is refused, naming the customer and the figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine import Document, Session
from engine.errors import FieldError

from . import _ledger, _selling

SHOWN = 3  # customers named in one refusal


def check_lowered_limits(doc: Document, ctx: Session, errors: list[FieldError]) -> None:
    """Only limits this save lowers (or sets) are checked: a customer already over its limit (a
    Credit Controller's override) can still be saved."""
    before = doc.get_doc_before_save()
    if before is None:
        return
    if doc.meta.name == "Company":
        if doc.credit_limit is not None and _lowered(doc.credit_limit, before.get("credit_limit")):
            owing = [(c, b) for c, b in _owing(ctx, doc.name, _ledger.money(doc.credit_limit))
                     if _selling.credit_limit(ctx, c, doc.name)[1] in ("company", "none")]
            _refuse(errors, doc, doc, "credit_limit", owing, doc.name, doc.credit_limit)
        return
    old = {(r.get("company") or "").lower(): r.get("credit_limit") for r in _selling.rows(before, "credit_limits")}
    for row in _selling.rows(doc, "credit_limits"):
        if row.get("credit_limit") is None or not row.get("company") or \
                not _lowered(row.credit_limit, old.get(row.company.lower())):
            continue
        limit = _ledger.money(row.credit_limit)
        if doc.meta.name == "Customer":
            balance = _ledger.receivable_balance(ctx, doc.name, row.company)
            _refuse(errors, doc, row, "credit_limit", [(doc.name, balance)] if balance > limit else [],
                    row.company, limit)
        else:
            owing = [(c, b) for c, b in _owing(ctx, row.company, limit) if _governed_by(ctx, c, row.company, doc)]
            _refuse(errors, doc, row, "credit_limit", owing, row.company, limit)


def _lowered(new: Any, old: Any) -> bool:
    return old is None or _ledger.money(new) < _ledger.money(old)


def _owing(ctx: Session, company: str, limit: Decimal) -> list[tuple[str, Decimal]]:
    """Customers whose balance in ``company`` is over ``limit``, largest first (one query)."""
    gl = ctx.site.table("GL Entry")
    total = sa.func.sum(gl.c.debit - gl.c.credit)
    query = (sa.select(gl.c.party, total).where(gl.c.party_type == "Customer", gl.c.company == company)
             .group_by(gl.c.party).having(total > limit).order_by(total.desc()))
    with ctx.reading() as conn:
        return [(party, _ledger.money(t)) for party, t in conn.execute(query)]


def _governed_by(ctx: Session, customer: str, company: str, group: Document) -> bool:
    """Whether ``group`` (as being saved) is the nearest group with a limit for the customer in ``company``."""
    cust = ctx.get_doc("Customer", customer)
    if any(_for(r, company) for r in _selling.rows(cust, "credit_limits")):
        return False  # its own limit governs
    for g in _selling.tree_upwards(ctx, "Customer Group", "parent_customer_group", cust.get("customer_group")):
        if g.name == group.name:
            return True
        if any(_for(r, company) for r in _selling.rows(g, "credit_limits")):
            return False
    return False


def _for(row: Any, company: str) -> bool:
    return (row.get("company") or "").lower() == company.lower() and row.get("credit_limit") is not None


def _refuse(errors: list[FieldError], doc: Document, where: Any, field: str, owing: list[tuple[str, Decimal]],
            company: str, limit: Any) -> None:
    if not owing:
        return
    named = ", ".join(f"{c!r} owes {_ledger.fmt(b)}" for c, b in owing[:SHOWN])
    more = f" and {len(owing) - SHOWN} more" if len(owing) > SHOWN else ""
    _selling.fail(errors, where, field, f"{doc.meta.name} {doc.name!r}: the credit limit "
                  f"{_ledger.fmt(_ledger.money(limit))} for company {company!r} is below what its customers owe now "
                  f"({named}{more}); a limit cannot be lowered below the outstanding balance", limit)

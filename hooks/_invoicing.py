"""Sales invoices (SPEC 4): filled from the customer, checked, credit-limited, posted to the ledger.

- :func:`fill` (before_validate of a draft): the fields the defaults resolver gives
  (price list, currency, due date, contact, addresses, sales partner, sales team) are
  filled where empty, and filled again while they still hold the value filled last time
  (a new customer, a new posting date move them); a value the user set is kept.
  ``defaults_source`` records where each came from. Each line without a rate takes the
  rate of the first list of the customer's chain that has a price for the item.
- :func:`validate`: the rules and figures a bad invoice is refused with.
- :func:`check_credit` (before_submit): the customer's limit in the company under a
  lock of the customer's row, so concurrent submits queue and cannot all slip under.
- :func:`post` / :func:`before_cancel`: the GL entries (:mod:`._ledger`); an invoice with a
  payment allocated to it cannot be cancelled.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from engine import Document, Session
from engine.errors import FieldError, ValidationError

from . import _accounts, _defaults, _ledger, _parties, _selling

DOCTYPE = "Sales Invoice"
FILLED = ("price_list", "currency", "due_date", "contact_person", "billing_address", "shipping_address",
          "sales_partner")
CREDIT_CONTROLLER = "Credit Controller"
HAND = "set by hand"


# ------------------------------------------------------------------ filling
def fill(doc: Document, ctx: Session) -> None:
    """Before validate (drafts): defaults from the customer, rates from the price lists, totals."""
    if (doc.docstatus or 0) != 0:
        return
    if doc.customer and ctx.exists("Customer", doc.customer) and doc.company and ctx.exists("Company", doc.company) \
            and _selling.is_invoiceable(ctx, doc.customer):  # validate() says why one is not
        _fill_defaults(doc, ctx)
    unpriced = [r for r in doc.items or [] if r.rate in (None, "") and r.item_code]
    prices = _prices(ctx, doc, {r.item_code for r in unpriced}) if unpriced and doc.customer else {}
    for row in unpriced:
        if row.item_code in prices:
            row.price_list, row.rate = prices[row.item_code]
    for row in doc.items or []:
        priced = row.rate not in (None, "")
        row.amount = _ledger.money(Decimal(str(row.qty or 0)) * _ledger.money(row.rate)) if priced else None
    doc.grand_total = sum((_ledger.money(r.amount) for r in doc.items or []), Decimal(0))
    rate = ctx.get_value("Sales Partner", doc.sales_partner, "commission_rate") if doc.sales_partner else None
    doc.commission_rate = rate
    doc.total_commission = _ledger.money(doc.grand_total * Decimal(str(rate)) / 100) if rate is not None else None


def _fill_defaults(doc: Document, ctx: Session) -> None:
    resolved = _defaults.resolve_defaults(ctx, doc.customer, doc.company, doc.posting_date)
    sources: dict[str, Any] = dict(doc.defaults_source or {})
    for field in FILLED:
        current, last = doc.get(field), sources.get(field)
        # the value the resolver filled in last time, unchanged since (one set by hand stays set by hand)
        filled_last = (isinstance(last, dict) and last.get("source") != HAND
                       and last.get("value") == _plain(current))
        value = resolved[field]["value"]
        if current in (None, "") or filled_last or _plain(current) == _plain(value):
            doc.set(field, value)  # the resolver's (a value equal to it is the resolver's too: the form showed it)
            sources[field] = {"value": _plain(value), "source": resolved[field]["source"]}
        else:
            sources[field] = {"value": _plain(current), "source": HAND}
    if not doc.sales_team and resolved["sales_team"]["value"]:
        doc.sales_team = [dict(r) for r in resolved["sales_team"]["value"]]
        sources["sales_team"] = {"value": None, "source": resolved["sales_team"]["source"]}
    doc.defaults_source = sources
    if not doc.income_account:
        doc.income_account = _income_account(ctx, doc.company)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _prices(ctx: Session, doc: Document, items: set[str]) -> dict[str, tuple[str, Decimal]]:
    """item -> (price list, rate): the invoice's own list first, then the customer's chain, leaving out
    lists in another currency than the invoice's. One query for the lists, one for the prices."""
    lists = [doc.price_list] if doc.price_list else []
    if ctx.exists("Customer", doc.customer):
        lists += [pl for pl, _ in _selling.price_list_chain(ctx, doc.customer) if pl not in lists]
    if doc.currency and lists:
        currencies = {r["name"]: r["currency"] for r in ctx.get_list(
            "Price List", fields=["name", "currency"], filters={"name": ["in", lists]})}
        lists = [pl for pl in lists if currencies.get(pl) in (None, "", doc.currency)]
    if not lists:
        return {}
    rows = ctx.get_list("Item Price", fields=["item_code", "price_list", "price_list_rate"],
                        filters={"item_code": ["in", sorted(items)], "price_list": ["in", lists]}, limit=0)
    rates = {(r["item_code"], r["price_list"]): r["price_list_rate"] for r in rows}
    out = {}
    for item in items:
        found = next((pl for pl in lists if (item, pl) in rates), None)
        if found is not None:
            out[item] = (found, Decimal(str(rates[(item, found)])))
    return out


def _income_account(ctx: Session, company: str) -> str | None:
    found = ctx.get_list("Account", filters={"company": company, "account_type": "Income Account", "is_group": 0},
                         pluck="name", order_by="creation asc", limit=1)
    return found[0] if found else None


# ------------------------------------------------------------------ rules
def validate(doc: Document, ctx: Session) -> None:
    before = doc.get_doc_before_save()
    if doc.docstatus == 1 and before is not None and before.docstatus == 1:
        return  # a submitted invoice changing its outstanding amount: its rules held at submit
    errors: list[FieldError] = []
    if doc.customer and ctx.exists("Customer", doc.customer) and not _selling.is_invoiceable(ctx, doc.customer):
        works_at = ctx.get_value("Customer", doc.customer, "works_at")
        reason = (f"it is a contact person who works at {works_at!r}: invoice {works_at!r} and choose the person "
                  "as its contact" if works_at else "it is disabled")
        _selling.fail(errors, doc, "customer", f"{DOCTYPE}: Customer {doc.customer!r} cannot be invoiced: {reason}",
                      doc.customer)
    if not doc.items:
        _selling.fail(errors, doc, "items", f"{DOCTYPE}: add at least one item")
    codes = sorted({r.item_code for r in doc.items or [] if r.item_code})
    disabled = set(ctx.get_list("Item", filters={"name": ["in", codes], "disabled": 1}, pluck="name")) \
        if codes else set()
    for row in doc.items or []:
        if row.qty is not None and Decimal(str(row.qty)) <= 0:
            _selling.fail(errors, row, "qty", f"{DOCTYPE}: row {row.idx} of Items: Quantity must be greater than 0 "
                          f"(got {row.qty})", row.qty)
        if row.rate is not None and _ledger.money(row.rate) < 0:
            _selling.fail(errors, row, "rate", f"{DOCTYPE}: row {row.idx} of Items: Rate cannot be negative "
                          f"(got {_ledger.fmt(_ledger.money(row.rate))}); a credit note is a return, not a sale",
                          row.rate)
        if row.rate in (None, "") and row.item_code:
            _selling.fail(errors, row, "rate", f"{DOCTYPE}: row {row.idx} of Items: Item {row.item_code!r} has no "
                          "price in the customer's price lists; enter a rate", None)
        if row.item_code in disabled:
            _selling.fail(errors, row, "item_code", f"{DOCTYPE}: row {row.idx} of Items: Item {row.item_code!r} is "
                          "disabled", row.item_code)
    _check_currency(doc, ctx, errors)
    _check_price_list(doc, ctx, errors)
    _check_income_account(doc, ctx, errors)
    if doc.sales_team:
        _selling.check_sales_team(doc, ctx, errors)
    _check_addresses(doc, ctx, errors)
    _check_contact(doc, ctx, errors)
    if doc.due_date and doc.posting_date and str(doc.due_date) < str(doc.posting_date):
        _selling.fail(errors, doc, "due_date", f"{DOCTYPE}: Due Date {doc.due_date} is before the Posting Date "
                      f"{doc.posting_date}", doc.due_date)
    _selling.raise_errors(errors)
    if doc.customer and doc.company:
        _accounts.require_association(ctx, doc.customer, doc.company)


def _check_currency(doc: Document, ctx: Session, errors: list[FieldError]) -> None:
    company_currency = ctx.get_value("Company", {"name": doc.company}, "default_currency") if doc.company else None
    if company_currency and doc.currency and doc.currency != company_currency:
        _selling.fail(errors, doc, "currency", f"{DOCTYPE}: Currency {doc.currency} is not the currency of company "
                      f"{doc.company!r} ({company_currency}); invoices are in the company's currency (there are no "
                      f"exchange rates yet): choose a Price List in {company_currency}", doc.currency)
        return
    lists = {doc.price_list} | {r.price_list for r in doc.items or [] if r.price_list}
    for pl in sorted(x for x in lists if x):
        currency = ctx.get_value("Price List", {"name": pl}, "currency")
        if currency and doc.currency and currency != doc.currency:
            _selling.fail(errors, doc, "currency", f"{DOCTYPE}: Currency {doc.currency} does not match Price List "
                          f"{pl!r}, which is in {currency}", doc.currency)


def _check_price_list(doc: Document, ctx: Session, errors: list[FieldError]) -> None:
    if doc.price_list and ctx.get_value("Price List", {"name": doc.price_list}, "selling") == 0:
        _selling.fail(errors, doc, "price_list", f"{DOCTYPE}: Price List {doc.price_list!r} is not a selling price "
                      "list", doc.price_list)


def _check_income_account(doc: Document, ctx: Session, errors: list[FieldError]) -> None:
    """The income account is a ledger (not a group) of Income, in the invoice's own company."""
    if not doc.income_account or not doc.company:
        return
    acc = ctx.get_value("Account", {"name": doc.income_account}, ["company", "is_group", "root_type"])
    if not acc:
        return  # the link check names it
    if acc["company"] != doc.company:
        problem = f"belongs to company {acc['company']!r}, not {doc.company!r}"
    elif acc["is_group"]:
        problem = "is a group account; choose one of its ledger accounts"
    elif acc["root_type"] != "Income":
        problem = f"is an {acc['root_type'] or 'unclassified'} account, not an Income account"
    else:
        return
    _selling.fail(errors, doc, "income_account", f"{DOCTYPE}: Income Account {doc.income_account!r} {problem}",
                  doc.income_account)


def _check_addresses(doc: Document, ctx: Session, errors: list[FieldError]) -> None:
    for field, purpose, label in (("billing_address", "billing", "Billing Address"),
                                  ("shipping_address", "shipping", "Shipping Address")):
        name = doc.get(field)
        if not name or not ctx.exists("Address", name) or not doc.customer:
            continue
        address = ctx.get_doc("Address", name)
        if not any(r.link_doctype == "Customer" and r.link_name == doc.customer for r in address.links or []):
            _selling.fail(errors, doc, field, f"{DOCTYPE}: {label} {name!r} is not an address of Customer "
                          f"{doc.customer!r}", name)
        elif not _parties.allowed(address, purpose):
            _selling.fail(errors, doc, field, f"{DOCTYPE}: {label} {name!r} is a {address.site_purpose} site and "
                          f"cannot be the {purpose} address", name)


def _check_contact(doc: Document, ctx: Session, errors: list[FieldError]) -> None:
    if not doc.contact_person or not doc.customer or not ctx.exists("Contact", doc.contact_person):
        return
    parties = [doc.customer, *_parties.contact_persons(ctx, doc.customer)]
    if not any(doc.contact_person in _parties.contacts_of(ctx, "Customer", p) for p in parties):
        _selling.fail(errors, doc, "contact_person", f"{DOCTYPE}: Contact {doc.contact_person!r} is not a contact "
                      f"of Customer {doc.customer!r} or of a person who works there", doc.contact_person)


# ------------------------------------------------------------------ credit limit
def check_credit(doc: Document, ctx: Session) -> None:
    """Before submit: the customer's balance plus this invoice within its limit (or a recorded override)."""
    _ledger.lock_customer(ctx, doc.customer)
    limit, source = _selling.credit_limit(ctx, doc.customer, doc.company)
    doc.debit_to = _ledger.receivable_account(ctx, doc.customer, doc.company)
    doc.outstanding_amount = doc.grand_total
    if limit is None or not doc.grand_total or ctx.get_value("Customer", doc.customer, "is_anonymous_pos"):
        return  # the anonymous POS customer pays at the till: no credit, no balance
    balance = _ledger.receivable_balance(ctx, doc.customer, doc.company)
    amount = _ledger.money(doc.grand_total)
    total = balance + amount
    if total <= limit:
        return
    where = {"customer": "the customer's own limit", "company": "the company's global limit"}.get(
        source, f"the limit of customer group {source.partition(':')[2]!r}")
    fmt = _ledger.fmt
    message = (f"{DOCTYPE}: credit limit exceeded for Customer {doc.customer!r} in company {doc.company!r}: "
               f"balance {fmt(balance)} + this invoice {fmt(amount)} = {fmt(total)}, over {fmt(limit)} ({where})")
    if CREDIT_CONTROLLER in ctx.roles() and (doc.credit_override_reason or "").strip():
        return  # submitted over the limit by a Credit Controller; the reason stays on the invoice
    hint = ("; as a Credit Controller, enter a Credit Limit Override Reason to submit it anyway"
            if CREDIT_CONTROLLER in ctx.roles() else "; a Credit Controller can submit it with a reason")
    raise ValidationError.from_errors([FieldError(DOCTYPE, "grand_total", "Grand Total", message + hint,
                                                  doc.grand_total)])


# ------------------------------------------------------------------ the ledger
def post(doc: Document, ctx: Session) -> None:
    """On submit: debit the customer's receivable account, credit income."""
    if not doc.grand_total:
        return
    if not doc.income_account:
        raise ValidationError.from_errors([FieldError(DOCTYPE, "income_account", "Income Account",
                                                      f"{DOCTYPE}: company {doc.company!r} has no income account; "
                                                      "set the Income Account", None)])
    _ledger.post_lines(ctx, doc, [
        {"account": doc.debit_to, "party_type": "Customer", "party": doc.customer, "debit": doc.grand_total,
         "against_voucher_type": DOCTYPE, "against_voucher": doc.name},
        {"account": doc.income_account, "credit": doc.grand_total},
    ])


def check_outstanding(doc: Document) -> None:
    """After submit only payments change what is owed (their allocations), never a client's edit."""
    before = doc.get_doc_before_save()
    if before is None or doc.flags.get("settled_by"):
        return
    old, new = _ledger.money(before.outstanding_amount), _ledger.money(doc.outstanding_amount)
    if old != new:
        raise ValidationError.from_errors([FieldError(
            DOCTYPE, "outstanding_amount", "Outstanding Amount",
            f"{DOCTYPE} {doc.name!r}: Outstanding Amount is set by the payments allocated to the invoice and "
            f"cannot be changed directly (it is {_ledger.fmt(old)}; allocate a Payment Entry to reduce it)",
            doc.outstanding_amount)])


def before_cancel(doc: Document, ctx: Session) -> None:
    """No cancel while payments are allocated to the invoice; then the reverse lines."""
    refs = ctx.get_list("Payment Entry Reference", fields=["parent"], filters={"sales_invoice": doc.name})
    paid = sorted({r["parent"] for r in refs if ctx.get_value("Payment Entry", r["parent"], "docstatus") == 1})
    if paid:
        raise ValidationError.from_errors([FieldError(
            DOCTYPE, "outstanding_amount", "Outstanding Amount",
            f"{DOCTYPE} {doc.name!r} cannot be cancelled: Payment Entry {', '.join(paid)} is allocated to it; "
            "cancel the payment first", doc.outstanding_amount)])
    _ledger.reverse(ctx, doc)
    doc.outstanding_amount = 0  # a cancelled invoice asks nothing of anyone (its lines are reversed)

"""Selling rules shared by the customer-master hooks, and the lookups transactions use.

The lookups answer "which value applies to this customer, and where did it come from":
price lists (customer -> customer group, nearest first, up the tree -> system default),
the due date of an invoice, the credit limit per company. Sources are ``customer``,
``customer_group:<group>``, ``payment_terms:<template>``, ``company`` and ``system``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as stdnum_vat

from engine.errors import FieldError, ValidationError

SYSTEM_PRICE_LIST = "Standard Selling"
MAX_CUSTOMER_PRICE_LISTS = 3
MAX_GROUP_PRICE_LISTS = 5

# EU member states by ISO code (Greece's VAT prefix is EL) and by English name.
EU_COUNTRIES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czech Republic",
    "DE": "Germany", "DK": "Denmark", "EE": "Estonia", "EL": "Greece", "GR": "Greece", "ES": "Spain",
    "FI": "Finland", "FR": "France", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IT": "Italy",
    "LT": "Lithuania", "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta", "NL": "Netherlands",
    "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia",
}
_EU_NAMES = {name.lower(): code for code, name in EU_COUNTRIES.items() if code != "GR"}
_EU_NAMES.update({"czechia": "CZ", "greece": "EL"})


# ------------------------------------------------------------------ helpers
def fail(errors: list[FieldError], doc: Any, field: str, message: str, value: Any = None,
         row: int | None = None) -> None:
    """Add one FieldError for ``doc`` (a document or a child row: the label comes from its meta; a row's
    error carries its position, so the form marks the grid's cell)."""
    f = doc.meta.fields_by_name.get(field)
    if row is None and doc.meta.is_child:
        row = doc.get("idx")
    errors.append(FieldError(doc.meta.name, field, (f.label if f else None) or field, message, value, row))


def raise_errors(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError.from_errors(errors)


def rows(doc: Any, table: str) -> list[Any]:
    return list(doc.get(table) or [])


def tree_upwards(ctx: Any, doctype: str, parent_field: str, start: str | None) -> Iterator[Any]:
    """The documents from ``start`` up to the root, nearest first (stops on a cycle)."""
    seen: set[str] = set()
    name = start
    while name and name not in seen and ctx.exists(doctype, name):
        seen.add(name)
        node = ctx.get_doc(doctype, name)
        yield node
        name = node.get(parent_field)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _end_of_next_month(d: date) -> date:
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return _last_day(year, month)


# ------------------------------------------------------------------ row checks (customer and group)
def check_price_lists(doc: Any, ctx: Any, limit: int, errors: list[FieldError]) -> None:
    """At most ``limit`` price lists, no duplicates, each a selling and enabled list."""
    lists = rows(doc, "price_lists")
    owner = f"{doc.meta.name} {doc.name or doc.get(doc.meta.naming.field) or ''}".strip()
    if len(lists) > limit:
        fail(errors, doc, "price_lists",
             f"{owner}: Price Lists has {len(lists)} rows; at most {limit} price lists are allowed", len(lists))
    seen: set[str] = set()
    for row in lists:
        pl = row.get("price_list")
        if not pl:
            continue
        if pl.lower() in seen:
            fail(errors, row, "price_list", f"{owner}: Price List '{pl}' is listed twice; each list once", pl, row.idx)
            continue
        seen.add(pl.lower())
        info = ctx.get_value("Price List", {"name": pl}, ["selling", "enabled"])
        if not info:
            continue  # the built-in link check reports it
        if not info["selling"]:
            fail(errors, row, "price_list", f"{owner}: Price List '{pl}' is not a selling price list", pl, row.idx)
        if not info["enabled"]:
            fail(errors, row, "price_list", f"{owner}: Price List '{pl}' is disabled", pl, row.idx)


def check_credit_limits(doc: Any, errors: list[FieldError]) -> None:
    """One credit limit row per company."""
    seen: set[str] = set()
    for row in rows(doc, "credit_limits"):
        company = row.get("company")
        if company and company.lower() in seen:
            fail(errors, row, "company",
                 f"{doc.meta.name}: Credit Limits has two rows for Company '{company}'; one row per company",
                 company, row.idx)
        elif company:
            seen.add(company.lower())


def check_targets(doc: Any, errors: list[FieldError]) -> None:
    """Targets: fiscal year a 4-digit year; one row per (item group, fiscal year)."""
    seen: set[tuple[str, str]] = set()
    for row in rows(doc, "targets"):
        year = str(row.get("fiscal_year") or "").strip()
        if year and not re.fullmatch(r"\d{4}", year):
            fail(errors, row, "fiscal_year",
                 f"{doc.meta.name}: Fiscal Year '{year}' of a target must be a 4-digit year like 2026", year, row.idx)
        key = (str(row.get("item_group") or "").lower(), year)
        if row.get("item_group") and year and key in seen:
            fail(errors, row, "item_group",
                 f"{doc.meta.name}: Targets has two rows for Item Group '{row.get('item_group')}' "
                 f"and Fiscal Year '{year}'; one target per item group and year", row.get("item_group"), row.idx)
        seen.add(key)


def country_code(country: str | None, tax_id: str) -> str | None:
    """The EU country whose VAT rule applies: the tax ID's prefix, else the customer's country."""
    prefix = tax_id.replace(" ", "")[:2].upper()
    if prefix in EU_COUNTRIES and tax_id.strip()[:2].isalpha():
        return prefix
    if not country:
        return None
    c = country.strip()
    if c.upper() in EU_COUNTRIES:
        return c.upper()
    return _EU_NAMES.get(c.lower())


def check_tax_id(doc: Any, errors: list[FieldError]) -> None:
    """EU VAT numbers are checked by format and checksum; other countries are not checked."""
    tax_id = (doc.get("tax_id") or "").strip()
    if not tax_id:
        return
    code = country_code(doc.get("country"), tax_id)
    if code is None:
        return
    number = tax_id if tax_id[:2].isalpha() else ("EL" if code == "GR" else code) + tax_id
    if not stdnum_vat.is_valid(number):
        fail(errors, doc, "tax_id",
             f"{doc.meta.name}: Tax ID '{tax_id}' is not a valid {EU_COUNTRIES[code]} VAT number "
             "(format or check digit)", tax_id)


def check_bank_accounts(doc: Any, errors: list[FieldError]) -> None:
    """IBAN checksum, BIC format, at most one default account."""
    defaults = 0
    for row in rows(doc, "bank_accounts"):
        iban = (row.get("iban") or "").strip()
        if iban and not stdnum_iban.is_valid(iban):
            fail(errors, row, "iban",
                 f"{doc.meta.name}: IBAN '{iban}' of bank account row {row.idx} is not valid (format or checksum)",
                 iban, row.idx)
        elif iban:
            row.iban = stdnum_iban.format(iban)
        code = (row.get("bic") or "").strip()
        if code and not stdnum_bic.is_valid(code):
            fail(errors, row, "bic",
                 f"{doc.meta.name}: BIC '{code}' of bank account row {row.idx} is not valid "
                 "(8 or 11 characters: bank, country, location, branch)", code, row.idx)
        elif code:
            row.bic = stdnum_bic.compact(code)
        defaults += 1 if row.get("is_default") else 0
    if defaults > 1:
        fail(errors, doc, "bank_accounts",
             f"{doc.meta.name}: Bank Accounts has {defaults} default accounts; at most one may be the default",
             defaults)


def check_sales_team(doc: Any, ctx: Any, errors: list[FieldError]) -> None:
    """Allocations total exactly 100; each sales person once, enabled and not a group."""
    team = rows(doc, "sales_team")
    if not team:
        return
    seen: set[str] = set()
    total = Decimal(0)
    for row in team:
        person = row.get("sales_person")
        total += Decimal(str(row.get("allocated_percentage") or 0))
        if not person:
            continue
        if person.lower() in seen:
            fail(errors, row, "sales_person",
                 f"{doc.meta.name}: Sales Person '{person}' is in the Sales Team twice; each person once",
                 person, row.idx)
            continue
        seen.add(person.lower())
        info = ctx.get_value("Sales Person", {"name": person}, ["enabled", "is_group"])
        if not info:
            continue
        if not info["enabled"]:
            fail(errors, row, "sales_person", f"{doc.meta.name}: Sales Person '{person}' is disabled", person, row.idx)
        if info["is_group"]:
            fail(errors, row, "sales_person",
                 f"{doc.meta.name}: Sales Person '{person}' is a group node; choose a sales person, not a group",
                 person, row.idx)
    if total != 100:
        fail(errors, doc, "sales_team",
             f"{doc.meta.name}: Sales Team allocations (Contribution %) total {total.normalize():f}; "
             "they must total exactly 100", float(total))


# ------------------------------------------------------------------ lookups
def price_list_chain(ctx: Any, customer: str) -> list[tuple[str, str]]:
    """[(price list, source)]: the customer's lists, its group's lists nearest group first, then the system list."""
    cust = ctx.get_doc("Customer", customer)
    chain: list[tuple[str, str]] = [(r.price_list, "customer") for r in rows(cust, "price_lists") if r.price_list]
    for group in tree_upwards(ctx, "Customer Group", "parent_customer_group", cust.get("customer_group")):
        chain += [(r.price_list, f"customer_group:{group.name}") for r in rows(group, "price_lists") if r.price_list]
    chain.append((SYSTEM_PRICE_LIST, "system"))
    names = list({pl for pl, _ in chain})
    usable = set(ctx.get_list("Price List", filters={"name": ["in", names], "enabled": 1, "selling": 1},
                              pluck="name"))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for pl, source in chain:
        if pl in usable and pl not in seen:
            seen.add(pl)
            out.append((pl, source))
    return out


def price_list_for_item(ctx: Any, customer: str, item_code: str) -> tuple[str, str] | None:
    """The first list of the customer's chain that has a price for the item, with its source."""
    chain = price_list_chain(ctx, customer)
    if not chain:
        return None
    priced = set(ctx.get_list("Item Price", filters={"item_code": item_code,
                                                      "price_list": ["in", [pl for pl, _ in chain]]},
                              pluck="price_list"))
    return next(((pl, src) for pl, src in chain if pl in priced), None)


def _apply_template(ctx: Any, template: str, posting: date) -> date:
    t = ctx.get_doc("Payment Terms Template", template)
    days = int(t.get("credit_days") or 0)
    based_on = t.get("credit_days_based_on") or "Day(s) after invoice date"
    if based_on == "Day(s) after the end of the invoice month":
        return _last_day(posting.year, posting.month) + timedelta(days=days)
    if based_on == "Last day of the next month":
        return _end_of_next_month(posting)
    return posting + timedelta(days=days)


def due_date(ctx: Any, customer: str, posting_date: Any, company: str | None = None) -> tuple[date, str]:
    """The invoice due date for the customer, and where the rule came from.

    The customer's payment terms template, else its payment deadline ("Fixed days" =
    posting date + credit days; "Last day of next month"), else the nearest customer
    group's template, else the posting date itself (source ``system``).
    """
    posting = _as_date(posting_date)
    cust = ctx.get_doc("Customer", customer)
    if cust.get("payment_terms"):
        return _apply_template(ctx, cust.payment_terms, posting), f"payment_terms:{cust.payment_terms}"
    if cust.get("payment_deadline") == "Fixed days":
        return posting + timedelta(days=int(cust.get("credit_days") or 0)), "customer"
    if cust.get("payment_deadline") == "Last day of next month":
        return _end_of_next_month(posting), "customer"
    for group in tree_upwards(ctx, "Customer Group", "parent_customer_group", cust.get("customer_group")):
        if group.get("payment_terms"):
            return _apply_template(ctx, group.payment_terms, posting), f"customer_group:{group.name}"
    return posting, "system"


def credit_limit(ctx: Any, customer: str, company: str) -> tuple[Decimal | None, str]:
    """The customer's credit limit in ``company``: its own row, the nearest group's row, the company's limit."""
    def row_for(doc: Any) -> Any:
        return next((r for r in rows(doc, "credit_limits") if (r.company or "").lower() == company.lower()), None)

    cust = ctx.get_doc("Customer", customer)
    row = row_for(cust)
    if row is not None and row.get("credit_limit") is not None:
        return Decimal(str(row.credit_limit)), "customer"
    for group in tree_upwards(ctx, "Customer Group", "parent_customer_group", cust.get("customer_group")):
        row = row_for(group)
        if row is not None and row.get("credit_limit") is not None:
            return Decimal(str(row.credit_limit)), f"customer_group:{group.name}"
    value = ctx.get_value("Company", {"name": company}, "credit_limit") if ctx.exists("Company", company) else None
    if value is not None:
        return Decimal(str(value)), "company"
    return None, "none"


def has_invoices(ctx: Any, customer: str) -> bool:
    """Any submitted document of a submittable doctype links to the customer (e.g. a Sales Invoice)."""
    for meta in ctx.site.doctypes.values():
        if not getattr(meta, "is_submittable", False) or getattr(meta, "is_child", False):
            continue
        for f in meta.fields:
            if f.type == "Link" and f.options == "Customer" and ctx.get_count(
                    meta.name, filters={f.name: customer, "docstatus": 1}):
                return True
    return False


def is_invoiceable(ctx: Any, customer: str) -> bool:
    """False for disabled customers and for persons who work at a company (they are its contacts)."""
    info = ctx.get_value("Customer", {"name": customer}, ["disabled", "works_at"])
    return bool(info) and not info["disabled"] and not info["works_at"]


def customer_picker_filters() -> dict[str, Any]:
    """get_list filters for customer lists and pickers: no disabled customers, no works-at persons."""
    return {"disabled": 0, "works_at": ["is", "not set"]}

"""The ONE defaults resolver (SPEC 3.6): what a new sales document for a customer starts with.

``resolve_defaults(ctx, customer, company, posting_date)`` returns, for each field a
transaction fills from the customer, ``{"value": ..., "source": ...}`` so the form can
say where a value came from ("customer", "customer_group:Retail", "system", "site", ...).
Every caller (invoice form, API, importer) asks this one function.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.errors import FieldError, ValidationError

from . import _parties, _selling


def _value(value: Any, source: str | None) -> dict[str, Any]:
    return {"value": value, "source": source if value not in (None, "", []) else None}


def _refuse(customer: str, message: str) -> None:
    raise ValidationError.from_errors([FieldError("Customer", "customer", "Customer", message, customer)])


def resolve_defaults(ctx: Any, customer: str, company: str | None = None,
                     posting_date: dt.date | str | None = None) -> dict[str, dict[str, Any]]:
    """Defaults of a new sales document for ``customer`` (and ``company``) on ``posting_date``."""
    if not ctx.exists("Customer", customer):
        _refuse(customer, f"Customer: Customer {customer!r} does not exist")
    cust = ctx.get_doc("Customer", customer)
    if not _selling.is_invoiceable(ctx, cust.name):
        if cust.disabled:
            reason = "it is disabled"
        elif cust.get("works_at"):
            reason = (f"it is a contact person who works at {cust.works_at!r}; invoice {cust.works_at!r} and "
                      f"choose {cust.name!r} as its contact person")
        else:
            reason = "it cannot be invoiced"
        _refuse(cust.name, f"Customer: cannot resolve defaults for Customer {cust.name!r}: {reason}")
    if posting_date is None:
        posting_date = ctx.now().date()
    elif isinstance(posting_date, str):
        posting_date = dt.date.fromisoformat(posting_date)

    out: dict[str, dict[str, Any]] = {}

    # price list: the first of the customer's chain (customer -> group -> system)
    chain = _selling.price_list_chain(ctx, cust.name)
    price_list, pl_source = chain[0] if chain else (None, None)
    out["price_list"] = _value(price_list, pl_source)

    # currency: customer -> price list -> company
    currency, source = cust.get("default_currency"), "customer"
    if not currency and price_list:
        currency, source = ctx.get_value("Price List", price_list, "currency"), f"price_list:{price_list}"
    if not currency and company:
        currency, source = ctx.get_value("Company", company, "default_currency"), f"company:{company}"
    out["currency"] = _value(currency, source)

    # payment terms: customer -> customer group
    terms, source = cust.get("payment_terms"), "customer"
    if not terms:
        for group in _selling.tree_upwards(ctx, "Customer Group", "parent_customer_group", cust.get("customer_group")):
            if group.get("payment_terms"):
                terms, source = group.payment_terms, f"customer_group:{group.name}"
                break
    out["payment_terms"] = _value(terms, source)

    due, due_source = _selling.due_date(ctx, cust.name, posting_date, company)
    out["due_date"] = {"value": due, "source": due_source}

    # contact person: the primary contact; works-at persons offered as options
    contact = _parties.primary_contact(ctx, "Customer", cust.name)
    out["contact_person"] = _value(contact, f"primary contact of {cust.name}")
    out["contact_person_options"] = {
        "value": {"contacts": _parties.contacts_of(ctx, "Customer", cust.name),
                  "customers": _parties.contact_persons(ctx, cust.name)},
        "source": f"contacts and works-at persons of {cust.name}",
    }

    # addresses: defaults per purpose; the billing site's tax registration overrides the customer's
    billing = _parties.default_address(ctx, "Customer", cust.name, "billing")
    shipping = _parties.default_address(ctx, "Customer", cust.name, "shipping")
    out["billing_address"] = _value(billing, f"default billing address of {cust.name}")
    out["shipping_address"] = _value(shipping, f"default shipping address of {cust.name}")
    site_tax = ctx.get_value("Address", billing, "tax_registration") if billing else None
    if site_tax:
        out["tax_id"] = {"value": site_tax, "source": "site"}
    else:
        out["tax_id"] = _value(cust.get("tax_id"), "customer")

    out["sales_partner"] = _value(cust.get("default_sales_partner"), "customer")
    team = [{"sales_person": r.sales_person, "allocated_percentage": r.allocated_percentage,
             "commission_rate": r.commission_rate} for r in cust.get("sales_team") or []]
    out["sales_team"] = _value(team, "customer")
    return out

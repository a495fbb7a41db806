"""Customer rules: identity (type, names), classification defaults, commercial terms, works-at, POS customer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine import Chart, Document, ReportResult, Session, hookimpl, print_format, report, whitelist
from engine.errors import DoesNotExistError, FieldError, LinkExistsError, ValidationError

from . import _accounts, _credit, _defaults, _ledger, _parties, _printouts, _selling
from ._selling import fail

DEFAULT_GROUP = "Default Customer Group"
DEFAULT_TERRITORY = "All Territories"
SALES_USER = "Sales User"  # restricted by the record rule to the customers they manage


def _full_name(doc: Document) -> str | None:
    parts = [str(doc.get(f) or "").strip() for f in ("first_name", "last_name")]
    return " ".join(p for p in parts if p) or None


@hookimpl
def before_naming(doc: Document, ctx: Session) -> None:
    """An Individual's customer name (and so its ID) is "First Last"."""
    if doc.get("customer_type") == "Individual" and _full_name(doc):
        doc.customer_name = _full_name(doc)


@hookimpl
def before_validate(doc: Document, ctx: Session) -> None:
    """Keep an Individual's name in sync (the ID stays); default group and territory; a Sales User's new
    customer is theirs to manage (their record rule shows them only those)."""
    if doc.is_new() and not doc.get("customer_manager") and ctx.user != "Administrator" \
            and SALES_USER in ctx.roles() and ctx.exists("User", ctx.user):
        doc.customer_manager = ctx.user
    if doc.get("customer_type") == "Individual" and _full_name(doc):
        doc.customer_name = _full_name(doc)
    if not doc.get("customer_group") and ctx.exists("Customer Group", DEFAULT_GROUP):
        doc.customer_group = DEFAULT_GROUP
    if not doc.get("territory") and ctx.exists("Territory", DEFAULT_TERRITORY):
        doc.territory = DEFAULT_TERRITORY
    for f in ("customer_number", "alternate_name", "tax_id"):
        if isinstance(doc.get(f), str):
            setattr(doc, f, doc.get(f).strip() or None)


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    errors: list[FieldError] = []
    _check_type_fields(doc, errors)
    group = doc.get("customer_group")
    if group and ctx.get_value("Customer Group", {"name": group}, "is_group"):
        fail(errors, doc, "customer_group",
             f"Customer: Customer Group '{group}' is a group node; choose a customer group that is not a group", group)
    _selling.check_price_lists(doc, ctx, _selling.MAX_CUSTOMER_PRICE_LISTS, errors)
    _selling.check_credit_limits(doc, errors)
    _credit.check_lowered_limits(doc, ctx, errors)
    _selling.check_tax_id(doc, errors)
    _selling.check_bank_accounts(doc, errors)
    _selling.check_sales_team(doc, ctx, errors)
    _check_works_at(doc, ctx, errors)
    _check_anonymous_pos(doc, ctx, errors)
    _selling.raise_errors(errors)


def _check_type_fields(doc: Document, errors: list[FieldError]) -> None:
    if doc.get("customer_type") == "Company":
        for f in ("first_name", "last_name"):
            if doc.get(f):
                fail(errors, doc, f, f"Customer: {doc.meta.fields_by_name[f].label} '{doc.get(f)}' is only for an "
                     "Individual customer; a Company has a customer name", doc.get(f))
    elif doc.get("legal_form"):
        fail(errors, doc, "legal_form", f"Customer: Legal Form '{doc.legal_form}' is only for a Company customer, "
             "not an Individual", doc.legal_form)


def _check_works_at(doc: Document, ctx: Session, errors: list[FieldError]) -> None:
    target = doc.get("works_at")
    if not target:
        return
    if doc.get("customer_type") != "Individual":
        fail(errors, doc, "works_at", f"Customer: Works At '{target}' is only for an Individual customer; "
             "a Company cannot work at another customer", target)
        return
    if doc.name and target.lower() == str(doc.name).lower():
        fail(errors, doc, "works_at", f"Customer: Works At '{target}' is the customer itself; a person works at "
             "a Company customer", target)
        return
    kind = ctx.get_value("Customer", {"name": target}, "customer_type")
    if kind and kind != "Company":
        fail(errors, doc, "works_at", f"Customer: Works At '{target}' is an {kind} customer; a person can only "
             "work at a Company customer", target)
    before = doc.get_doc_before_save()
    changed = before is None or (before.get("works_at") or "") != target
    if changed and doc.name and _selling.has_invoices(ctx, doc.name):
        fail(errors, doc, "works_at", f"Customer: Works At '{target}' cannot be set for '{doc.name}': the customer "
             "already has invoices", target)


def _check_anonymous_pos(doc: Document, ctx: Session, errors: list[FieldError]) -> None:
    if not doc.get("is_anonymous_pos"):
        return
    company = doc.get("company")
    if not company:
        fail(errors, doc, "company", "Customer: Company is required for an Anonymous POS Customer "
             "(one anonymous customer per company)", None)
        return
    filters = {"is_anonymous_pos": 1, "company": company}
    if doc.name:
        filters["name"] = ["!=", doc.name]
    other = ctx.get_value("Customer", filters, "name")
    if other:
        fail(errors, doc, "is_anonymous_pos", f"Customer: Anonymous POS Customer is already '{other}' for Company "
             f"'{company}'; at most one per company", 1)


@hookimpl
def before_save(doc: Document, ctx: Session) -> None:
    _accounts.ensure_receivable_account(doc, ctx)


@hookimpl
def after_rename(doc: Document, ctx: Session, old: str, new: str) -> None:
    _accounts.rename_party_accounts(ctx, "Customer", old, new)


@hookimpl
def after_insert(doc: Document, ctx: Session) -> None:
    _accounts.create_pending_accounts(doc, ctx)


@hookimpl
def after_insert_many(docs: list[Document], ctx: Session) -> None:
    _accounts.create_pending_accounts_many(docs, ctx)


@hookimpl
def on_update(doc: Document, ctx: Session) -> None:
    _parties.party_updated(doc, ctx)


@hookimpl
def on_trash(doc: Document, ctx: Session) -> None:
    vouchers = sorted({(r["voucher_type"], r["voucher_no"]) for r in ctx.get_list(
        "GL Entry", fields=["voucher_type", "voucher_no"], filters={"party_type": "Customer", "party": doc.name},
        limit=5)})
    if vouchers:  # said in the clerk's words before the engine's "linked from GL Entry ..." would
        shown = ", ".join(f"{t} {n}" for t, n in vouchers)
        raise LinkExistsError(f"Customer {doc.name!r} cannot be deleted: it has ledger entries (from {shown}); "
                              "its history stays. Disable the customer instead.",
                              [FieldError("Customer", "name", "ID", f"Customer {doc.name!r} has ledger entries "
                                          f"(from {shown})", doc.name)])
    _accounts.delete_party_accounts(doc, ctx)
    _parties.unlink_party(ctx, "Customer", doc.name)


# ------------------------------------------------------------ API methods
# Called over HTTP: /api/method/hooks.customer.<name> and
# /api/v2/document/Customer/<name>/method/<name>; the caller's permissions apply.

@whitelist()
def get_defaults(ctx: Session, customer: str, company: str | None = None,
                 posting_date: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """Defaults of a new sales document for a customer, each with its source (SPEC 3.6)."""
    doc = ctx.get_doc("Customer", customer)  # the caller must be able to read the customer
    with ctx.checked("Customer", "read", doc):  # ... and then its group, price lists, contacts serve it
        return _defaults.resolve_defaults(ctx, doc.name, company, posting_date)


@whitelist()
def get_credit_limit(ctx: Session, customer: str, company: str) -> dict[str, Any]:
    """The customer's credit limit in a company and where it comes from (customer, group or company)."""
    doc = ctx.get_doc("Customer", customer)  # 404 / 403 before anything else
    with ctx.checked("Customer", "read", doc):  # what the customer's limit reads serves it
        if not ctx.exists("Company", company):
            raise DoesNotExistError(f"Company {company!r} does not exist")
        limit, source = _selling.credit_limit(ctx, doc.name, company)
    return {"customer": doc.name, "company": company, "credit_limit": limit, "source": source}


@whitelist()
def get_balance(ctx: Session, customer: str) -> dict[str, Any]:
    """What the customer owes (positive) or has prepaid (negative), per company and in total (SPEC 4)."""
    doc = ctx.get_doc("Customer", customer)
    with ctx.checked("Customer", "read", doc):
        return _balance(doc, ctx)


def _balance(doc: Document, ctx: Session) -> dict[str, Any]:
    if doc.get("is_anonymous_pos"):
        return {"customer": doc.name, "tracked": False, "reason": "the anonymous POS customer has no balance"}
    if doc.get("disable_balance"):
        return {"customer": doc.name, "tracked": False, "reason": "the balance is switched off for this customer"}
    by_company = _ledger.balances_by_company(ctx, doc.name)
    return {"customer": doc.name, "tracked": True, "total": sum(by_company.values(), _ledger.money(0)),
            "by_company": by_company, "history": [(str(day), value) for day, value in _ledger.history(ctx, doc.name)]}


@whitelist()
def get_contacts(doc: Document, ctx: Session) -> dict[str, Any]:
    """The customer's contacts (primary first), default addresses and, for a company, its contact persons."""
    return {
        "contacts": _parties.contacts_of(ctx, "Customer", doc.name),
        "primary_contact": _parties.primary_contact(ctx, "Customer", doc.name),
        "billing_address": _parties.default_address(ctx, "Customer", doc.name, "billing"),
        "shipping_address": _parties.default_address(ctx, "Customer", doc.name, "shipping"),
        "contact_persons": _parties.contact_persons(ctx, doc.name) if doc.customer_type == "Company" else [],
    }


@whitelist(methods=["POST"])
def set_primary_contact(doc: Document, ctx: Session, contact: str) -> str:
    """Make ``contact`` (already linked to this customer) its primary contact; the old one is cleared."""
    person = ctx.get_doc("Contact", contact)
    row = next((r for r in person.links or []
                if r.link_doctype == "Customer" and r.link_name.lower() == doc.name.lower()), None)
    if row is None:
        raise ValidationError.from_errors([FieldError(
            "Customer", "contact", "Contact", f"Contact {person.name!r} is not linked to Customer {doc.name!r}",
            contact)])
    if not row.is_primary_contact:
        row.is_primary_contact = 1
        person.save()
    return person.name


# ------------------------------------------------------------------ the desk

@hookimpl
def default_filters(ctx: Session) -> list[list[Any]]:
    """Contact persons ("works at" a company) leave the customer list and pickers (Erply); a filter shows them."""
    return [["works_at", "is", "not set"]]


@hookimpl
def form_context(doc: Document, ctx: Session) -> dict[str, Any]:
    """The customer form's header: its balance with a small chart of its history, and what a new sales
    document for this customer starts with, and from where."""
    if doc.is_new():
        return {}
    balance = _balance(doc, ctx)
    if balance["tracked"]:
        balance["sparkline"] = _ledger.sparkline([value for _, value in balance["history"]])
    if not _selling.is_invoiceable(ctx, doc.name):
        return {"defaults": None, "invoiceable": False, "balance": balance}
    try:
        defaults = _defaults.resolve_defaults(ctx, doc.name, doc.get("company"), dt.date.today())
    except ValidationError:
        defaults = None
    return {"defaults": defaults, "invoiceable": True, "balance": balance}


@report("Customers by Group", ref_doctype="Customer", filters=[
    {"name": "territory", "type": "Link", "options": "Territory", "label": "Territory",
     "description": "This territory and every territory below it."},
    {"name": "customer_type", "type": "Select", "options": ["", "Company", "Individual"]},
])
def customers_by_group(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """How many customers each customer group has (contact persons left out)."""
    where: list[list[Any]] = [["works_at", "is", "not set"]]
    if filters["territory"]:
        where.append(["territory", "descendants of (inclusive)", filters["territory"]])
    if filters["customer_type"]:
        where.append(["customer_type", "=", filters["customer_type"]])
    rows = ctx.get_list("Customer", fields=["customer_group", "count(name) as customers"], filters=where,
                        group_by="customer_group", order_by="customer_group asc")
    return ReportResult(columns=[("customer_group", "Customer Group", "Link"), ("customers", "Customers", "Int")],
                        rows=rows, chart=Chart("bar", x="customer_group", y=("customers",)))


@print_format("Balance Statement", doctype="Customer", params=("company", "from_date", "to_date"))
def balance_statement(doc: Document, ctx: Session, params: dict[str, Any]) -> dict[str, Any]:
    """Opening balance, the period's invoices and payments, closing balance (default: this month)."""
    return _printouts.balance_statement(doc, ctx, params)


@print_format("Payment Reminder", doctype="Customer", params=("company", "as_of"))
def payment_reminder(doc: Document, ctx: Session, params: dict[str, Any]) -> dict[str, Any]:
    """The customer's unpaid invoices with their due dates, days overdue and open amounts."""
    return _printouts.payment_reminder(doc, ctx, params)

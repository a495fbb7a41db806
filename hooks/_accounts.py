"""Accounts per company (SPEC 3.3): charts of accounts, customer receivable accounts, associations.

Shared by the Company, Account and Customer hooks. Every function runs inside the
caller's write transaction (``ctx`` is the Session doing the write), so raising
rolls back everything, including accounts created here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import DuplicateEntryError, FieldError, ValidationError

if TYPE_CHECKING:
    from engine import Document, Session

PARTY_ROWS = "accounts"  # the Customer's Table field of "Customer Company Account" rows
ROW_DOCTYPE = "Customer Company Account"

# The minimal chart of accounts of a new company:
# (account name, parent account name, is_group, root_type, account_type)
CHART: tuple[tuple[str, str | None, int, str, str], ...] = (
    ("Application of Funds (Assets)", None, 1, "Asset", ""),
    ("Current Assets", "Application of Funds (Assets)", 1, "Asset", ""),
    ("Accounts Receivable", "Current Assets", 1, "Asset", "Receivable"),
    ("Cash", "Current Assets", 0, "Asset", "Cash"),
    ("Bank Accounts", "Current Assets", 1, "Asset", "Bank"),
    ("Source of Funds (Liabilities)", None, 1, "Liability", ""),
    ("Current Liabilities", "Source of Funds (Liabilities)", 1, "Liability", ""),
    ("Accounts Payable", "Current Liabilities", 0, "Liability", "Payable"),
    ("Income", None, 1, "Income", ""),
    ("Sales", "Income", 0, "Income", "Income Account"),
    ("Expenses", None, 1, "Expense", ""),
    ("Cost of Goods Sold", "Expenses", 0, "Expense", "Expense Account"),
    ("Equity", None, 1, "Equity", ""),
)
RECEIVABLES_GROUP = "Accounts Receivable"
CASH_ACCOUNT = "Cash"


def account_name(name: str, abbr: str) -> str:
    """The ID of account ``name`` in the company abbreviated ``abbr``."""
    return f"{name} - {abbr}"


def _error(doctype: str, field: str, label: str, message: str, value: Any, row: int | None = None) -> ValidationError:
    return ValidationError.from_errors([FieldError(doctype, field, label, message, value, row)])


# --------------------------------------------------------------- company
def create_chart_of_accounts(company: Document, ctx: Session) -> None:
    """Company after_insert: create the minimal chart and point the company's defaults at it."""
    abbr = company.abbr
    for name, parent, is_group, root_type, account_type in CHART:
        ctx.insert("Account", {
            "account_name": name,
            "company": company.name,
            "parent_account": account_name(parent, abbr) if parent else None,
            "is_group": is_group,
            "root_type": root_type,
            "account_type": account_type,
            "account_currency": company.default_currency,
        })
    defaults: dict[str, str] = {}
    if not company.receivables_group:
        defaults["receivables_group"] = account_name(RECEIVABLES_GROUP, abbr)
    if not company.default_cash_account:
        defaults["default_cash_account"] = account_name(CASH_ACCOUNT, abbr)
    if defaults:
        # The company row is written and ``after_insert`` changes are not saved: update it
        # directly, in the same transaction (the accounts did not exist at the link check).
        table = ctx.site.table("Company")
        ctx.conn.execute(table.update().where(table.c.name == company.name).values(defaults))
        company.update(defaults)


def delete_chart_of_accounts(company: Document, ctx: Session) -> None:
    """Company on_trash: its accounts go with it (as in ERPNext), deepest first.

    Each account's own link check still runs, so the delete is refused, with nothing
    deleted, while anything else uses one of them (a customer's receivable account,
    later a ledger entry).
    """
    table = ctx.site.table("Company")
    ctx.conn.execute(table.update().where(table.c.name == company.name)
                     .values(receivables_group=None, default_cash_account=None))
    rows = ctx.get_list("Account", filters={"company": company.name}, fields=["name", "parent_account"],
                        limit=None)
    parent = {r["name"]: r["parent_account"] for r in rows}

    def depth(name: str) -> int:
        level = 0
        while parent.get(name):
            name, level = parent[name], level + 1
        return level

    for name in sorted(parent, key=depth, reverse=True):
        ctx.delete_doc("Account", name)


def validate_company(company: Document, ctx: Session) -> None:
    """Company validate: the receivables group and the default cash account belong to the company."""
    errors: list[FieldError] = []
    if company.receivables_group and not is_account_of(ctx, company.receivables_group, company.name, group=True):
        message = (f"Company {company.name!r}: Receivables Group {company.receivables_group!r} must be a group "
                   f"account of company {company.name!r}")
        errors.append(FieldError("Company", "receivables_group", "Receivables Group", message,
                                 company.receivables_group))
    cash = company.default_cash_account
    if cash and not is_account_of(ctx, cash, company.name, CASH_TYPES):
        message = (f"Company {company.name!r}: Default Cash Account {cash!r} must be a "
                   f"Cash or Bank ledger (not group) account of company {company.name!r}")
        errors.append(FieldError("Company", "default_cash_account", "Default Cash Account", message, cash))
    if errors:
        raise ValidationError.from_errors(errors)


CASH_TYPES = ("Cash", "Bank")


def is_account_of(ctx: Session, account: str, company: str, types: tuple[str, ...] | None = None,
                   group: bool = False) -> bool:
    """Whether ``account`` is a group (``group``) or a ledger of one of ``types`` in ``company``.

    A missing account counts as fine here: the link check reports it.
    """
    acc = ctx.get_value("Account", account, ["company", "account_type", "is_group"])
    if not acc:
        return True
    if acc["company"] != company or bool(acc["is_group"]) != group:
        return False
    return types is None or acc["account_type"] in types


# --------------------------------------------------------------- account
def set_company_abbr(account: Document, ctx: Session) -> None:
    """Account before_naming: copy the company's abbreviation (the ID is "<account_name> - <abbr>")."""
    if not account.company:
        message = "Account: Company is required (the account's ID ends with the company's abbreviation)"
        raise _error("Account", "company", "Company", message, None)
    abbr = ctx.get_value("Company", account.company, "abbr")
    if abbr is None:
        message = f"Account: Company {account.company!r} does not exist"
        raise _error("Account", "company", "Company", message, account.company)
    account.company_abbr = abbr


def inherit_from_parent(account: Document, ctx: Session) -> None:
    """Account before_validate: root type and currency default to the parent's / company's."""
    if account.parent_account and not account.root_type:
        account.root_type = ctx.get_value("Account", account.parent_account, "root_type")
    if not account.account_currency and account.company:
        account.account_currency = ctx.get_value("Company", account.company, "default_currency")


def validate_account(account: Document, ctx: Session) -> None:
    """Account validate: the parent account belongs to the same company."""
    if account.parent_account:
        parent_company = ctx.get_value("Account", account.parent_account, "company")
        if parent_company != account.company:
            message = (f"Account {account.name!r}: Parent Account {account.parent_account!r} belongs to company "
                       f"{parent_company!r}, not {account.company!r}")
            raise _error("Account", "parent_account", "Parent Account", message, account.parent_account)


# --------------------------------------------------------------- customer
def _company_info(ctx: Session, company: str) -> dict[str, Any]:
    info = ctx.get_value("Company", company, ["name", "abbr", "receivables_group", "default_currency"])
    if not info:
        message = f"Company {company!r} does not exist"
        raise _error("Company", "name", "Company", message, company)
    return info


def _party_account(ctx: Session, doctype: str, party: str, company: str) -> str | None:
    """The receivable account of ``party`` in ``company``, if it has one."""
    names = ctx.get_list("Account", filters={"company": company, "party_type": doctype, "party": party,
                                             "account_type": "Receivable"}, pluck="name", order_by="creation asc",
                         limit=1)
    return names[0] if names else None


def validate_company_rows(doc: Document, ctx: Session) -> None:
    """Each per-company row: one row per company; its accounts belong to that company."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    label = "Customer Company Accounts"
    for row in doc.get(PARTY_ROWS) or []:
        idx = row.idx
        if row.company in seen:
            message = f"{doc.doctype} {doc.name!r}: row {idx} of {label}: Company {row.company!r} is given twice"
            errors.append(FieldError(doc.doctype, "company", "Company", message, row.company, idx))
        seen.add(row.company)
        if row.account and not is_account_of(ctx, row.account, row.company, ("Receivable",)):
            message = (f"{doc.doctype} {doc.name!r}: row {idx} of {label}: Receivable Account {row.account!r} "
                       f"must be a Receivable ledger account of company {row.company!r}")
            errors.append(FieldError(doc.doctype, "account", "Receivable Account", message, row.account, idx))
        if row.cash_account and not is_account_of(ctx, row.cash_account, row.company, CASH_TYPES):
            message = (f"{doc.doctype} {doc.name!r}: row {idx} of {label}: Cash Account {row.cash_account!r} "
                       f"must be a Cash or Bank ledger account of company {row.company!r}")
            errors.append(FieldError(doc.doctype, "cash_account", "Cash Account", message, row.cash_account,
                                     idx))
    if errors:
        raise ValidationError.from_errors(errors)


def _row_for(doc: Document, company: str) -> Document:
    for row in doc.get(PARTY_ROWS) or []:
        if row.company == company:
            return row
    return doc.append(PARTY_ROWS, {"company": company})


def _companies_needing_accounts(doc: Document) -> list[str]:
    companies = [doc.company] if doc.get("company") else []
    for row in doc.get(PARTY_ROWS) or []:
        if row.company and not row.account and row.company not in companies:
            companies.append(row.company)
    return companies


def ensure_receivable_account(doc: Document, ctx: Session) -> None:
    """Customer before_save: a receivable account "<ID> - <abbr>" per company, recorded in the rows.

    For ``doc.company`` (and any row without an account) the customer gets an account
    under the company's receivables group, and its row points at it. Saving again
    unchanged creates nothing; a new company adds an account, the old row stays. A
    company without a receivables group refuses the save. A new customer's ID is only
    final once its row is written, so its accounts are created by
    :func:`create_pending_accounts` (Customer after_insert).
    """
    validate_company_rows(doc, ctx)
    companies = _companies_needing_accounts(doc)
    infos: dict[str, dict[str, Any]] = {}
    for company in companies:
        info = infos[company] = _company_info(ctx, company)
        if not info["receivables_group"]:
            message = (f"Company {info['name']!r} has no Receivables Group: cannot create the receivable account "
                       f"of {doc.doctype} {doc.name!r}; set the company's Receivables Group first")
            raise _error("Company", "receivables_group", "Receivables Group", message, None)
        _row_for(doc, info["name"])
    if doc.is_new() or not ctx.exists(doc.doctype, doc.name):
        doc.flags.pending_receivable_companies = infos
        return
    for company in companies:
        row = _row_for(doc, company)
        if not row.account:
            row.account = _get_or_create_account(doc, ctx, company, infos[company])


def create_pending_accounts(doc: Document, ctx: Session) -> None:
    """Customer after_insert: create the receivable accounts :func:`ensure_receivable_account` planned."""
    infos = doc.flags.pending_receivable_companies or {}
    doc.flags.pending_receivable_companies = None
    if not infos:
        return
    rows = ctx.site.table(ROW_DOCTYPE)
    for company, info in infos.items():
        row = _row_for(doc, company)
        if row.account:
            continue
        # A customer inserted just now cannot own an account yet: no need to look one up.
        row.account = _get_or_create_account(doc, ctx, company, info, new_party=True)
        ctx.conn.execute(rows.update().where(rows.c.name == row.name).values(account=row.account))


def create_pending_accounts_many(docs: list[Document], ctx: Session) -> None:
    """Customer after_insert_many (the data import): the same accounts, as one batch of Account inserts.

    A clash with an existing account fails the batch; the import then inserts its
    customers one by one, where :func:`create_pending_accounts` names the clash.
    """
    planned: list[tuple[Document, Document]] = []  # (the customer's row, its new account)
    for doc in docs:
        infos = doc.flags.pending_receivable_companies or {}
        doc.flags.pending_receivable_companies = None
        for company, info in infos.items():
            row = _row_for(doc, company)
            if not row.account:
                planned.append((row, ctx.new_doc("Account", _account_values(doc, company, info))))
    if not planned:
        return
    ctx.insert_many([account for _, account in planned])
    rows = ctx.site.table(ROW_DOCTYPE)
    for row, account in planned:
        row.account = account.name
    ctx.conn.execute(rows.update().where(rows.c.name == sa.bindparam("row")).values(account=sa.bindparam("acc")),
                     [{"row": row.name, "acc": account.name} for row, account in planned])


def _account_values(doc: Document, company: str, info: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_name": doc.name,
        "company": company,
        "parent_account": info["receivables_group"],
        "is_group": 0,
        "root_type": "Asset",
        "account_type": "Receivable",
        "party_type": doc.doctype,
        "party": doc.name,
        "account_currency": info["default_currency"],
    }


def _get_or_create_account(doc: Document, ctx: Session, company: str, info: dict[str, Any],
                           new_party: bool = False) -> str:
    existing = None if new_party else _party_account(ctx, doc.doctype, doc.name, company)
    if existing:
        return existing
    wanted = account_name(doc.name, info["abbr"])
    clash = (f"{doc.doctype} {doc.name!r}: the receivable account {wanted!r} of company {company!r} already "
             f"exists and belongs to another party")
    if not new_party and ctx.exists("Account", wanted):
        raise _error(doc.doctype, "company", "Company", clash, company)
    try:
        account = ctx.insert("Account", _account_values(doc, company, info))
    except DuplicateEntryError:
        # The ID clash is found by the insert itself (one query fewer per new customer).
        raise _error(doc.doctype, "company", "Company", clash, company) from None
    return account.name


def rename_party_accounts(ctx: Session, doctype: str, old: str, new: str) -> None:
    """Customer after_rename: "<old> - ABBR" accounts become "<new> - ABBR" (links follow)."""
    accounts = ctx.get_list("Account", fields=["name", "account_name", "company_abbr"],
                            filters={"party_type": doctype, "party": new})
    for acc in accounts:
        if acc["account_name"] != old:
            continue  # renamed by hand: keep the user's name
        renamed = ctx.rename_doc("Account", acc["name"], account_name(new, acc["company_abbr"]))
        renamed.account_name = new
        renamed.save()


def delete_party_accounts(doc: Document, ctx: Session) -> None:
    """Customer on_trash: delete its receivable accounts, refusing if anything else links to them.

    The customer's own rows are detached first; the engine then refuses the account
    deletes (and so the customer's) while other records, such as ledger entries, link
    to an account.
    """
    accounts = ctx.get_list("Account", filters={"party_type": doc.doctype, "party": doc.name}, pluck="name")
    if not accounts:
        return
    rows = ctx.site.table(ROW_DOCTYPE)
    ctx.conn.execute(
        rows.update()
        .where(rows.c.parent == doc.name, rows.c.parenttype == doc.doctype, rows.c.account.in_(accounts))
        .values(account=None)
    )
    for name in accounts:
        ctx.delete_doc("Account", name)


# --------------------------------------------------------------- associations
def association_for(ctx: Session, customer: str, company: str) -> dict[str, Any] | None:
    """The customer's Customer Company Account row for ``company`` (as a dict), or None."""
    rows = ctx.site.table(ROW_DOCTYPE)
    name = ctx.get_value("Customer", customer, "name")
    if name is None:
        return None
    company_name = ctx.get_value("Company", company, "name") or company
    query = sa.select(rows).where(rows.c.parent == name, rows.c.parenttype == "Customer",
                                  rows.c.parentfield == PARTY_ROWS, rows.c.company == company_name)
    with ctx.reading() as conn:
        found = conn.execute(query.limit(1)).mappings().first()
    if found is None:
        return None
    keys = ("name", "company", "account", "cash_account", "remit_to_address", "receipt_bank")
    return {key: found[key] for key in keys}


def require_association(ctx: Session, customer: str, company: str) -> dict[str, Any] | None:
    """Before invoicing: a company with Require Customer Association needs the customer's row for it."""
    row = association_for(ctx, customer, company)
    required = ctx.get_value("Company", company, "require_customer_association")
    if required and (row is None or not row["account"]):
        message = (f"Customer {customer!r} has no account association with company {company!r}, which requires "
                   f"one (Require Customer Association): add a Customer Company Account row for {company!r}")
        raise _error("Customer", PARTY_ROWS, "Customer Company Accounts", message, company)
    return row

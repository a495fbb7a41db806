"""The receivables reports (SPEC 4): Balance Report, Accounts Receivable ageing, Sales Analytics.

Each reads through the caller's Session (its permissions apply) and answers from the
ledger or the submitted invoices, so its totals agree with the customer's balance.
Lines of cancelled vouchers (the originals and their reverses) are left out: together
they add up to nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from engine import Chart, ReportResult, Session
from engine.errors import FieldError, ValidationError

from . import _ledger

BUCKETS = (("0-30", 30), ("31-60", 60), ("61-90", 90), ("90+", None))
TREES = {"Customer Group": ("customer_group", "parent_customer_group"),
         "Territory": ("territory", "parent_territory")}
TARGET_TREES = {"Territory": "parent_territory", "Sales Person": "parent_sales_person"}


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def balance_report(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """Invoices and payments of a customer in date order, with the running balance."""
    where: list[list[Any]] = [["party_type", "=", "Customer"], ["party", "=", filters["customer"]],
                              ["is_cancelled", "=", 0]]
    if filters["company"]:
        where.append(["company", "=", filters["company"]])
    lines = ctx.get_list("GL Entry", fields=["posting_date", "voucher_type", "voucher_no", "against_voucher",
                                             "debit", "credit"],
                         filters=where, order_by="posting_date asc, creation asc", limit=0)
    start, end = filters["from_date"], filters["to_date"]
    opening = sum((_ledger.money(r["debit"]) - _ledger.money(r["credit"]) for r in lines
                   if start and _day(r["posting_date"]) < start), Decimal(0))
    rows: list[dict[str, Any]] = [{"posting_date": start, "voucher_type": "Opening Balance", "voucher_no": None,
                                   "debit": None, "credit": None, "balance": opening}] if start else []
    running = opening
    for r in lines:
        day = _day(r["posting_date"])
        if (start and day < start) or (end and day > end):
            continue
        running += _ledger.money(r["debit"]) - _ledger.money(r["credit"])
        rows.append({"posting_date": day, "voucher_type": r["voucher_type"], "voucher_no": r["voucher_no"],
                     "debit": r["debit"], "credit": r["credit"], "balance": running})
    rows.append({"posting_date": end or ctx.now().date(), "voucher_type": "Closing Balance", "voucher_no": None,
                 "debit": None, "credit": None, "balance": running})
    return ReportResult(columns=[("posting_date", "Date", "Date"), ("voucher_type", "Voucher Type", "Data"),
                                 ("voucher_no", "Voucher", "Data"), ("debit", "Invoiced", "Currency"),
                                 ("credit", "Paid", "Currency"), ("balance", "Balance", "Currency")],
                        rows=rows, chart=Chart("line", x="posting_date", y=("balance",)))


def open_invoices(ctx: Session, company: str | None, customer: str | None, as_of: dt.date) -> list[dict[str, Any]]:
    where: list[list[Any]] = [["docstatus", "=", 1], ["outstanding_amount", ">", 0], ["posting_date", "<=", as_of]]
    if company:
        where.append(["company", "=", company])
    if customer:
        where.append(["customer", "=", customer])
    return ctx.get_list("Sales Invoice", fields=["name", "customer", "customer_name", "company", "posting_date",
                                                 "due_date", "grand_total", "outstanding_amount", "currency"],
                        filters=where, order_by="due_date asc, name asc", limit=0)


def advances(ctx: Session, company: str | None, customer: str | None, as_of: dt.date) -> dict[str, Decimal]:
    """customer -> what its submitted payments up to ``as_of`` left unallocated (prepayments)."""
    where: list[list[Any]] = [["docstatus", "=", 1], ["unallocated_amount", ">", 0], ["posting_date", "<=", as_of]]
    if company:
        where.append(["company", "=", company])
    if customer:
        where.append(["customer", "=", customer])
    out: dict[str, Decimal] = {}
    for p in ctx.get_list("Payment Entry", fields=["customer", "unallocated_amount"], filters=where, limit=0):
        out[p["customer"]] = out.get(p["customer"], Decimal(0)) + _ledger.money(p["unallocated_amount"])
    return out


def ageing(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """What each customer owes on open invoices, by days past the due date, less its unallocated payments."""
    as_of = filters["as_of"] or ctx.now().date()
    totals: dict[str, dict[str, Any]] = {}

    def row_of(customer: str) -> dict[str, Any]:
        return totals.setdefault(customer, {"customer": customer, "outstanding": Decimal(0), "advance": Decimal(0),
                                            "net": Decimal(0), **{label: Decimal(0) for label, _ in BUCKETS}})

    for inv in open_invoices(ctx, filters["company"], filters["customer"], as_of):
        row = row_of(inv["customer"])
        late = (as_of - _day(inv["due_date"] or inv["posting_date"])).days
        label = next(lb for lb, limit in BUCKETS if limit is None or late <= limit)
        amount = _ledger.money(inv["outstanding_amount"])
        row[label] += amount
        row["outstanding"] += amount
    for customer, amount in advances(ctx, filters["company"], filters["customer"], as_of).items():
        row_of(customer)["advance"] = -amount
    for row in totals.values():
        row["net"] = row["outstanding"] + row["advance"]
    rows = sorted(totals.values(), key=lambda r: (-r["net"], r["customer"]))
    return ReportResult(columns=[("customer", "Customer", "Link"), ("outstanding", "Outstanding", "Currency"),
                                 *[(label, f"{label} days", "Currency") for label, _ in BUCKETS],
                                 ("advance", "Unallocated Payments", "Currency"), ("net", "Net Owed", "Currency")],
                        rows=rows, chart=Chart("bar", x="customer", y=tuple(label for label, _ in BUCKETS)),
                        message=f"Open invoices as of {as_of.isoformat()}, aged by days past their due date; "
                                "unallocated payments (prepayments) are taken off in Net Owed.")


def sales_analytics(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """Invoiced totals per month by customer group or territory, each node with everything below it."""
    tree = filters["tree_type"] or "Customer Group"
    field, parent_field = TREES[tree]
    where: list[list[Any]] = [["docstatus", "=", 1]]
    for key, op in (("company", "="), ("from_date", ">="), ("to_date", "<=")):
        if filters[key]:
            where.append(["company" if key == "company" else "posting_date", op, filters[key]])
    invoices = ctx.get_list("Sales Invoice", fields=["customer", "posting_date", "grand_total"], filters=where,
                            limit=0)
    node_of = {r["name"]: r[field] for r in ctx.get_list(
        "Customer", fields=["name", field], filters={"name": ["in", sorted({i["customer"] for i in invoices})]},
        limit=0)} if invoices else {}
    parents = {r["name"]: r[parent_field] for r in ctx.get_list(tree, fields=["name", parent_field], limit=0)}
    months = sorted({_day(i["posting_date"]).strftime("%Y-%m") for i in invoices})
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for inv in invoices:
        month, amount = _day(inv["posting_date"]).strftime("%Y-%m"), _ledger.money(inv["grand_total"])
        node, seen = node_of.get(inv["customer"]), set()
        while node and node not in seen:  # the node and every node above it (a cycle stops it)
            seen.add(node)
            sums[node][month] += amount
            node = parents.get(node)
    rows = [{"node": node, "depth": _depth(node, parents), **{m: sums[node].get(m, Decimal(0)) for m in months},
             "total": sum(sums[node].values(), Decimal(0))} for node in _tree_order(parents) if node in sums]
    columns = [("node", tree, "Link"), ("depth", "Level", "Int"), *[(m, m, "Currency") for m in months],
               ("total", "Total", "Currency")]
    return ReportResult(columns=columns,
                        rows=rows, chart=Chart("bar", x="node", y=tuple(months)) if months else None)


def target_vs_actual(ctx: Session, filters: dict[str, Any]) -> ReportResult:
    """Per territory or sales person and item group: the fiscal year's target, and what was invoiced.

    Actuals roll up both trees: a node has what its customers (or persons) below it sold,
    and a target on an item group counts the items of every group below it. A sales
    person's actual is their allocation of each invoice's sales team. A row for each
    target, and for each item group sold without one.
    """
    tree = filters["based_on"] or "Territory"
    parent_field = TARGET_TREES[tree]
    if not 1900 <= filters["fiscal_year"] <= 9999:
        raise ValidationError.from_errors([FieldError(
            "Target vs Actual", "fiscal_year", "Fiscal Year", "Target vs Actual: Fiscal Year must be a year "
            f"between 1900 and 9999 (got {filters['fiscal_year']})", filters["fiscal_year"])])
    year = str(filters["fiscal_year"])
    where: list[list[Any]] = [["docstatus", "=", 1], ["posting_date", ">=", f"{year}-01-01"],
                              ["posting_date", "<=", f"{year}-12-31"]]
    if filters["company"]:
        where.append(["company", "=", filters["company"]])
    lines = ctx.get_list("Sales Invoice", fields=["name", "customer", "items.item_group as item_group",
                                                  "items.amount as amount"], filters=where, limit=0)
    shares: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)  # invoice -> [(node, share)]
    if tree == "Territory":
        customers = sorted({r["customer"] for r in lines})
        territory = {r["name"]: r["territory"] for r in ctx.get_list(
            "Customer", fields=["name", "territory"], filters={"name": ["in", customers]}, limit=0)} if lines else {}
        for r in lines:
            shares.setdefault(r["name"], [(territory.get(r["customer"]), Decimal(1))])
    else:
        for r in ctx.get_list("Sales Invoice", fields=["name", "sales_team.sales_person as person",
                                                       "sales_team.allocated_percentage as pct"],
                              filters=where, limit=0):
            if r["person"]:
                shares[r["name"]].append((r["person"], Decimal(str(r["pct"] or 0)) / 100))
    nodes = ctx.get_list(tree, fields=["name", parent_field], limit=0)
    parents = {r["name"]: r[parent_field] for r in nodes}
    group_parent = {r["name"]: r["parent_item_group"] for r in ctx.get_list(
        "Item Group", fields=["name", "parent_item_group"], limit=0)}
    actual: dict[tuple[str, str], Decimal] = defaultdict(Decimal)  # rolled up both trees
    sold: set[tuple[str, str]] = set()  # (node, the item's own group): the rows without a target
    for r in lines:
        for node, share in shares.get(r["name"], ()):
            amount = _ledger.money(Decimal(str(r["amount"] or 0)) * share)
            for n in _upwards(node, parents):
                sold.add((n, r["item_group"]))
                for g in _upwards(r["item_group"], group_parent):
                    actual[(n, g)] += amount
    target = {(r["name"], r["item_group"]): _ledger.money(r["amount"]) for r in ctx.get_list(
        tree, fields=["name", "targets.item_group as item_group", "targets.target_amount as amount"],
        filters=[["targets.fiscal_year", "=", year]], limit=0) if r["item_group"]}  # one query, not one per node
    rows = []
    for node in _tree_order(parents):
        for group in sorted({g for n, g in (*sold, *target) if n == node}):
            a, t = actual.get((node, group), Decimal(0)), target.get((node, group))
            rows.append({"node": node, "depth": _depth(node, parents), "item_group": group, "target": t,
                         "actual": a, "variance": (a - t) if t is not None else None,
                         "achieved": round(float(a / t) * 100, 1) if t else None})
    columns = [("node", tree, "Link"), ("depth", "Level", "Int"), ("item_group", "Item Group", "Link"),
               ("target", "Target", "Currency"), ("actual", "Actual", "Currency"),
               ("variance", "Variance", "Currency"), ("achieved", "Achieved (%)", "Float")]
    return ReportResult(columns=columns,
                        rows=rows, chart=Chart("bar", x="node", y=("target", "actual")) if rows else None,
                        message=f"Fiscal year {year}.")


def _upwards(node: str | None, parents: dict[str, str | None]) -> list[str]:
    out: list[str] = []
    while node and node not in out:  # a cycle stops it
        out.append(node)
        node = parents.get(node)
    return out


def _depth(node: str, parents: dict[str, str | None]) -> int:
    depth, seen = 0, {node}
    while (node := parents.get(node)) and node not in seen:  # type: ignore[assignment]
        seen.add(node)
        depth += 1
    return depth


def _tree_order(parents: dict[str, str | None]) -> list[str]:
    """The nodes depth first, children by name: each group right above what it contains."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for node, parent in parents.items():
        children[parent if parent in parents else None].append(node)
    out: list[str] = []
    stack = sorted(children[None], reverse=True)
    while stack:
        node = stack.pop()
        if node in out:
            continue
        out.append(node)
        stack.extend(sorted(children.get(node, ()), reverse=True))
    return out

"""``python -m bench.receivables``: submitting invoices, and the receivables reports over a large ledger.

1. Submit N invoices of 5 items each (defaults, prices, credit limit check under the
   customer's lock, GL posting) one by one through the document API, as the form and
   the API do; print invoices/s and the SQL statements per submit (insert + submit).
   Baseline in the same run: raw SQLAlchemy Core writing the same invoice, item and
   GL rows with no checks (one executemany per table per invoice).
2. Add synthetic ledger lines with Core (M GL entries over 1,000 customers, and
   M / 4 submitted invoices) and time the Balance Report of one customer, the
   Accounts Receivable ageing and Sales Analytics by customer group.

Not a timed test: tests/bench runs it tiny to keep it working.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.counting import StatementCounter

ITEMS = [f"ITEM-{i}" for i in range(5)]
COMPANY, ABBR = "Bench Books", "BB"
CUSTOMERS = 100
LEDGER_CUSTOMERS = 1_000


def _prepare(url: str) -> Any:
    from engine import Site

    site = Site(url)
    site.migrate()
    with site.session() as s, s.atomic():
        s.insert("Company", company_name=COMPANY, abbr=ABBR, default_currency="USD")
        s.set_value("Price List", "Standard Selling", {"currency": "USD"})
        for i, code in enumerate(ITEMS):
            s.insert("Item", item_code=code, item_group="All Item Groups")
            s.insert("Item Price", item_code=code, price_list="Standard Selling", price_list_rate=10 + i)
        for i in range(CUSTOMERS):
            s.insert("Customer", customer_name=f"Bench Customer {i:03d}", company=COMPANY,
                     credit_limits=[{"company": COMPANY, "credit_limit": 10_000_000}])
    return site


def submit_invoices(site: Any, n: int) -> dict[str, Any]:
    counter = StatementCounter(site.engine)
    day = dt.date(2026, 1, 1)
    started = time.perf_counter()
    with counter.counting() as statements:
        for i in range(n):
            with site.session() as s:
                doc = s.insert("Sales Invoice", {
                    "customer": f"Bench Customer {i % CUSTOMERS:03d}", "company": COMPANY,
                    "posting_date": day + dt.timedelta(days=i % 300),
                    "items": [{"item_code": code, "qty": 1 + (i + j) % 4} for j, code in enumerate(ITEMS)]})
                doc.submit()
    seconds = time.perf_counter() - started
    return {"invoices": n, "seconds": round(seconds, 2), "per_s": round(n / seconds, 1),
            "statements_per_invoice": round(len(statements) / n, 1)}


def core_invoices(site: Any, n: int) -> dict[str, Any]:
    """The same rows with Core only: an invoice row, its 5 item rows, 2 GL rows, no checks, no hooks."""
    inv, item, gl = (site.table(t) for t in ("Sales Invoice", "Sales Invoice Item", "GL Entry"))
    now = dt.datetime.now()
    base = {"owner": "Administrator", "creation": now, "modified": now, "modified_by": "Administrator"}
    started = time.perf_counter()
    for i in range(n):
        name = f"CORE-{i:07d}"
        with site.engine.begin() as conn:
            conn.execute(inv.insert(), [{**base, "name": name, "docstatus": 1, "customer": "Bench Customer 000",
                                         "company": COMPANY, "posting_date": dt.date(2026, 1, 1),
                                         "grand_total": Decimal(100), "outstanding_amount": Decimal(100)}])
            conn.execute(item.insert(), [{**base, "name": uuid.uuid4().hex[:10], "parent": name,
                                          "parenttype": "Sales Invoice", "parentfield": "items", "idx": j + 1,
                                          "item_code": code, "qty": 1, "rate": Decimal(20), "amount": Decimal(20)}
                                         for j, code in enumerate(ITEMS)])
            conn.execute(gl.insert(), [{**base, "name": uuid.uuid4().hex[:10], "posting_date": dt.date(2026, 1, 1),
                                        "company": COMPANY, "account": acc, "debit": d, "credit": c,
                                        "voucher_type": "Sales Invoice", "voucher_no": name, "is_cancelled": 0}
                                       for acc, d, c in ((f"Bench Customer 000 - {ABBR}", 100, 0),
                                                         (f"Sales - {ABBR}", 0, 100))])
    seconds = time.perf_counter() - started
    return {"invoices": n, "seconds": round(seconds, 3), "per_s": round(n / seconds, 1)}


def synthetic_ledger(site: Any, lines: int) -> None:
    """``lines`` receivable GL lines over LEDGER_CUSTOMERS customers, and an invoice per 4 lines."""
    gl, inv, cust = (site.table(t) for t in ("GL Entry", "Sales Invoice", "Customer"))
    now = dt.datetime.now()
    base = {"owner": "Administrator", "creation": now, "modified": now, "modified_by": "Administrator"}
    rng = random.Random(7)
    with site.engine.begin() as conn:
        conn.execute(cust.insert(), [{**base, "name": f"Ledger {c:04d}", "customer_name": f"Ledger {c:04d}",
                                      "customer_type": "Company", "customer_group": "Default Customer Group",
                                      "territory": "All Territories", "docstatus": 0}
                                     for c in range(LEDGER_CUSTOMERS)])
    chunk = 20_000
    for start in range(0, lines, chunk):
        rows, invoices = [], []
        for i in range(start, min(lines, start + chunk)):
            customer = f"Ledger {i % LEDGER_CUSTOMERS:04d}"
            day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(900))
            amount = Decimal(rng.randrange(100, 10_000))
            is_invoice = i % 4 != 3
            voucher = f"SYN-{i:08d}"
            rows.append({**base, "name": f"g{i:09d}", "posting_date": day, "company": COMPANY,
                         "account": f"Sales - {ABBR}", "party_type": "Customer", "party": customer,
                         "debit": amount if is_invoice else 0, "credit": 0 if is_invoice else amount,
                         "voucher_type": "Sales Invoice" if is_invoice else "Payment Entry", "voucher_no": voucher,
                         "is_cancelled": 0})
            if i % 4 == 0:
                invoices.append({**base, "name": voucher, "docstatus": 1, "customer": customer, "company": COMPANY,
                                 "posting_date": day, "due_date": day + dt.timedelta(days=30),
                                 "grand_total": amount, "outstanding_amount": amount / 2})
        with site.engine.begin() as conn:
            conn.execute(gl.insert(), rows)
            if invoices:
                conn.execute(inv.insert(), invoices)


def time_reports(site: Any) -> dict[str, float]:
    out = {}
    cases = (("Balance Report", {"customer": "Ledger 0001"}),
             ("Accounts Receivable", {"as_of": "2026-06-30", "company": COMPANY}),
             ("Sales Analytics", {"tree_type": "Customer Group"}))
    with site.session() as s:
        for name, filters in cases:
            started = time.perf_counter()
            result = site.hooks.reports[name].run(s, filters)
            out[name] = {"seconds": round(time.perf_counter() - started, 3), "rows": len(result.rows)}
    return out


def run(invoices: int, gl_lines: int, folder: Path) -> dict[str, Any]:
    site = _prepare(f"sqlite:///{folder / 'receivables.db'}")
    try:
        docframe = submit_invoices(site, invoices)
        core = core_invoices(site, invoices)
        started = time.perf_counter()
        synthetic_ledger(site, gl_lines)
        loaded = round(time.perf_counter() - started, 1)
        reports = time_reports(site)
    finally:
        site.dispose()
    return {"submit": docframe, "core": core, "ratio_to_core": round(core["per_s"] / docframe["per_s"], 1),
            "gl_lines": gl_lines, "ledger_load_seconds": loaded, "reports": reports}


def render(r: dict[str, Any]) -> str:
    s, c = r["submit"], r["core"]
    lines = [f"Submit {s['invoices']:,} invoices of 5 items (SQLite): {s['per_s']:,} /s, "
             f"{s['statements_per_invoice']} statements per invoice (insert + submit)",
             f"  Core writing the same rows, no checks: {c['per_s']:,} /s  -> docframe {r['ratio_to_core']}x slower",
             f"Reports over {r['gl_lines']:,} GL lines ({LEDGER_CUSTOMERS:,} customers; loaded in "
             f"{r['ledger_load_seconds']} s):"]
    for name, f in r["reports"].items():
        lines.append(f"  {name}: {f['seconds']} s ({f['rows']} rows)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.receivables", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--gl", type=int, default=1_000_000, help="synthetic GL lines for the reports")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="docframe-bench-") as folder:
        result = run(args.invoices, args.gl, Path(folder))
    print(render(result))
    if args.output:
        args.output.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Import 100,000 customers from CSV: docframe's import tool against the same final rows by Core and Django.

``python -m bench.importing [--customers 100000]`` (SQLite)

- docframe: ``docframe import Customer customers.csv`` in its own process (every row
  through naming, checks and hooks: each customer gets its receivable account in the
  company), rows/s from its own summary, peak memory (max RSS) of that process;
- Core: the rows docframe's import wrote (customers, their accounts, account rows,
  versions) inserted again with ``executemany`` into an empty copy of the schema: the floor;
- Django: ``bulk_create`` of the customers and their accounts (no validation, no signals:
  what a Django developer's fast path does).

The CSV has 10% duplicate names (they get ``-1`` suffixes), links to 10 customer groups
and 5 territories, and the company. Targets (issue 10): 5,000 rows/s, under 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

GROUPS = [f"Import Group {i}" for i in range(10)]
TERRITORIES = [f"Import Region {i}" for i in range(5)]
COMPANY, ABBR = "Import Co", "IC"
COPIED = ("Customer", "Account", "Customer Company Account", "Version")


def write_csv(path: Path, customers: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Customer Name", "Customer Group", "Territory", "Company"])
        for i in range(customers):
            name = f"Customer {i - 1 if i % 10 == 9 else i:07d}"  # every 10th repeats the name before it
            w.writerow([name, GROUPS[i % len(GROUPS)], TERRITORIES[i % len(TERRITORIES)], COMPANY])


def prepare_site(url: str) -> None:
    from engine import Site

    site = Site(url)
    site.migrate()
    with site.session() as s, s.atomic():
        s.insert("Company", company_name=COMPANY, abbr=ABBR, default_currency="USD")
        for g in GROUPS:
            s.insert("Customer Group", customer_group_name=g, parent_customer_group="All Customer Groups")
        for t in TERRITORIES:
            s.insert("Territory", territory_name=t, parent_territory="All Territories")
    site.dispose()


def run_docframe(url: str, path: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "engine.cli", "--db", url, "import", "Customer", str(path), "--batch-size", "1000"]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"docframe import failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    found = re.search(r"\(([\d.]+) s, ([\d,]+) rows/s\)", done.stdout)
    seconds = float(found.group(1)) if found else wall
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(seconds, 2), "wall_seconds": round(wall, 2), "peak_mb": round(peak_mb, 1),
            "summary": done.stdout.strip().splitlines()[-1]}


def run_core(source_url: str, target_url: str) -> dict[str, Any]:
    """The rows the import wrote, read back, then timed: executemany into an empty copy of the schema."""
    from engine import Site

    prepare_site(target_url)
    source, target = Site(source_url), Site(target_url)
    rows: dict[str, list[dict[str, Any]]] = {}
    with source.engine.connect() as conn, target.engine.connect() as have:
        for doctype in COPIED:
            present = set(have.execute(sa.select(target.table(doctype).c.name)).scalars())
            rows[doctype] = [dict(r) for r in conn.execute(sa.select(source.table(doctype))).mappings()
                             if r["name"] not in present]
    started = time.perf_counter()
    with target.engine.begin() as conn:
        for doctype in COPIED:
            if rows[doctype]:
                conn.execute(target.table(doctype).insert(), rows[doctype])
    seconds = time.perf_counter() - started
    source.dispose()
    target.dispose()
    return {"seconds": round(seconds, 3), "rows": {d: len(r) for d, r in rows.items()}}


def run_django(db: Path, customers: int) -> dict[str, Any]:
    from bench.django_admin.settings import configure

    configure({"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)})
    from django.core.management import call_command

    from bench.django_admin.models import Account, Customer, CustomerGroup, Territory

    call_command("migrate", run_syncdb=True, verbosity=0)
    CustomerGroup.objects.bulk_create([CustomerGroup(name=g) for g in GROUPS])
    Territory.objects.bulk_create([Territory(name=t) for t in TERRITORIES])
    now = dt.datetime.now()
    started = time.perf_counter()
    seen: dict[str, int] = {}
    batch_c, batch_a = [], []
    for i in range(customers):
        base = f"Customer {i - 1 if i % 10 == 9 else i:07d}"
        n = seen.get(base.lower())
        seen[base.lower()] = 0 if n is None else n + 1
        name = base if n is None else f"{base}-{n + 1}"
        batch_c.append(Customer(name=name, customer_name=base, customer_type="Company",
                                customer_group_id=GROUPS[i % len(GROUPS)],
                                territory_id=TERRITORIES[i % len(TERRITORIES)], modified=now))
        batch_a.append(Account(name=f"{name} - {ABBR}", account_name=name, company=COMPANY,
                               parent_account=f"Accounts Receivable - {ABBR}", account_type="Receivable"))
        if len(batch_c) == 1000:
            Customer.objects.bulk_create(batch_c)
            Account.objects.bulk_create(batch_a)
            batch_c, batch_a = [], []
    Customer.objects.bulk_create(batch_c)
    Account.objects.bulk_create(batch_a)
    return {"seconds": round(time.perf_counter() - started, 3)}


def run(customers: int, folder: Path) -> dict[str, Any]:
    csv_path = folder / "customers.csv"
    write_csv(csv_path, customers)
    df_url, core_url = f"sqlite:///{folder / 'docframe.db'}", f"sqlite:///{folder / 'core.db'}"
    prepare_site(df_url)
    df = run_docframe(df_url, csv_path)
    core = run_core(df_url, core_url)
    django = run_django(folder / "django.db", customers)
    return {"customers": customers, "docframe": {**df, "rows_per_s": round(customers / df["seconds"])},
            "core": {**core, "rows_per_s": round(customers / core["seconds"])},
            "django": {**django, "rows_per_s": round(customers / django["seconds"])},
            "ratio_vs_core": round(df["seconds"] / core["seconds"], 1),
            "ratio_vs_django": round(df["seconds"] / django["seconds"], 1)}


def render(r: dict[str, Any]) -> str:
    return "\n".join([
        f"Import {r['customers']:,} customers from CSV (SQLite):",
        f"  docframe import  {r['docframe']['seconds']:>8.2f} s  {r['docframe']['rows_per_s']:>8,} rows/s  "
        f"peak {r['docframe']['peak_mb']:.0f} MB   ({r['docframe']['summary']})",
        f"  Core executemany {r['core']['seconds']:>8.2f} s  {r['core']['rows_per_s']:>8,} rows/s  "
        f"(the same final rows: {r['core']['rows']})",
        f"  Django bulk      {r['django']['seconds']:>8.2f} s  {r['django']['rows_per_s']:>8,} rows/s",
        f"  docframe time / Core: {r['ratio_vs_core']}x, / Django: {r['ratio_vs_django']}x",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.importing", description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--output", type=Path, default=None)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="docframe-import-bench-") as folder:
        result = run(args.customers, Path(folder))
    print(render(result))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

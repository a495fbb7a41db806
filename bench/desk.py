"""The desk against Django admin: server time of the customer list page and a customer form, same data, one run.

``python -m bench.desk [--customers 100000] [--iterations 50] [--repeats 3]``

- list: ``GET /app/customer?customer_group=<group>`` (20 rows of one group, the total,
  the default sort) against the changelist ``/admin/desk_admin/customer/?customer_group__name__exact=<group>``
  (the same columns, ``list_filter`` on the group, 20 a page, the same order);
- form: ``GET /app/customer/<ID>`` of a customer with 3 contacts (its connections list
  them) against the change form with the contacts as a TabularInline.

Both in this process, each through its framework's test client (the full request:
routing, session cookie, permissions, template), logged in as the administrator. Both
databases are SQLite files built once per size under ``bench/.cache/desk-<N>/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.timing import measure

CACHE = Path(__file__).resolve().parent / ".cache"
GROUPS = [f"Bench Group {i}" for i in range(10)]
TERRITORIES = [f"Bench Region {i}" for i in range(5)]
FORM_CUSTOMER = "Desk Form Customer"
PASSWORD = "bench-admin"
BATCH = 5000


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ docframe

def build_docframe(path: Path, customers: int) -> None:
    from engine import Site
    from engine.site.auth import ensure_administrator

    site = Site(f"sqlite:///{path}")
    site.migrate()
    ensure_administrator(site, PASSWORD)
    with site.session() as s, s.atomic():
        for g in GROUPS:
            s.insert("Customer Group", customer_group_name=g, parent_customer_group="All Customer Groups")
        for t in TERRITORIES:
            s.insert("Territory", territory_name=t, parent_territory="All Territories")
    table, now = site.table("Customer"), dt.datetime(2026, 1, 1)
    with site.engine.begin() as conn:
        for start in range(0, customers, BATCH):
            conn.execute(table.insert(), [
                {"name": f"Customer {i:06d}", "customer_name": f"Customer {i:06d}", "customer_type": "Company",
                 "customer_group": GROUPS[i % len(GROUPS)], "territory": TERRITORIES[i % len(TERRITORIES)],
                 "owner": "Administrator", "modified_by": "Administrator", "creation": now,
                 "modified": now + dt.timedelta(seconds=i), "docstatus": 0, "idx": 0, "disabled": 0,
                 "is_anonymous_pos": 0, "disable_balance": 0}
                for i in range(start, min(start + BATCH, customers))])
    with site.session() as s, s.atomic():
        s.insert("Customer", customer_name=FORM_CUSTOMER, customer_group=GROUPS[0], territory=TERRITORIES[0])
        for i in range(3):
            s.insert("Contact", first_name=f"Contact {i}", last_name="Bench", email_id=f"c{i}@example.com",
                     links=[{"link_doctype": "Customer", "link_name": FORM_CUSTOMER}])
    site.dispose()


def docframe_client(path: Path) -> Any:
    from engine import Site
    from engine.web import create_app

    site = Site(f"sqlite:///{path}")
    client = create_app(site, {"SECRET_KEY": "bench", "TESTING": False}).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    answer = client.post("/login", data={"usr": "Administrator", "pwd": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.text
    return client


# ------------------------------------------------------------------ Django admin

def build_django(customers: int) -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bench.django_admin.models import Contact, Customer, CustomerGroup, Territory

    call_command("migrate", run_syncdb=True, verbosity=0)
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    CustomerGroup.objects.bulk_create([CustomerGroup(name=g) for g in GROUPS])
    Territory.objects.bulk_create([Territory(name=t) for t in TERRITORIES])
    now = dt.datetime(2026, 1, 1)
    for start in range(0, customers, BATCH):
        Customer.objects.bulk_create([
            Customer(name=f"Customer {i:06d}", customer_name=f"Customer {i:06d}", customer_type="Company",
                     customer_group_id=GROUPS[i % len(GROUPS)], territory_id=TERRITORIES[i % len(TERRITORIES)],
                     modified=now + dt.timedelta(seconds=i))
            for i in range(start, min(start + BATCH, customers))])
    form = Customer.objects.create(name=FORM_CUSTOMER, customer_name=FORM_CUSTOMER, customer_type="Company",
                                   customer_group_id=GROUPS[0], territory_id=TERRITORIES[0], modified=now)
    Contact.objects.bulk_create([Contact(customer=form, first_name=f"Contact {i}", last_name="Bench",
                                         email_id=f"c{i}@example.com") for i in range(3)])


def django_client() -> Any:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="admin"))
    return client


# ------------------------------------------------------------------ the run

def _schema_key() -> str:
    """The two schemas the cached databases were built with: docframe's compiled tables, Django's models."""
    import inspect

    import sqlalchemy as sa
    from sqlalchemy.schema import CreateIndex, CreateTable

    from bench.django_admin import models
    from engine.metadata.app import bundled_app_dir, load_app_doctypes
    from engine.storage.schema import compile_schema

    dialect = sa.create_engine("sqlite://").dialect
    h = hashlib.sha256(inspect.getsource(models).encode())
    for table in compile_schema(load_app_doctypes(bundled_app_dir())).sorted_tables:
        h.update(str(CreateTable(table).compile(dialect=dialect)).encode())
        for ix in sorted(table.indexes, key=lambda i: i.name or ""):
            h.update(str(CreateIndex(ix).compile(dialect=dialect)).encode())
    return h.hexdigest()[:12]


def prepare(customers: int, cache: Path = CACHE) -> tuple[Path, Path]:
    folder = cache / f"desk-{customers}"
    docframe_db, django_db = folder / "docframe.db", folder / "django.db"
    from bench.django_admin.settings import configure

    configure({"ENGINE": "django.db.backends.sqlite3", "NAME": str(django_db)})
    key = _schema_key()
    done = folder / "done"
    if not done.exists() or done.read_text() != key:  # built before a change of either schema: rebuild
        for stale in folder.glob("*.db*"):
            stale.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        _log(f"building {customers:,} customers for docframe ...")
        build_docframe(docframe_db, customers)
        _log(f"building {customers:,} customers for Django ...")
        build_django(customers)
        done.write_text(key)
    return docframe_db, django_db


def _get(client: Any, url: str, expect: str) -> Any:
    def op(_: Any) -> None:
        answer = client.get(url)
        body = answer.data if hasattr(answer, "data") else answer.content
        if answer.status_code != 200 or expect.encode() not in body:
            raise AssertionError(f"{url}: {answer.status_code}")

    return op


def run(customers: int, iterations: int, repeats: int, warmup: int, cache: Path = CACHE) -> dict[str, Any]:
    docframe_db, _ = prepare(customers, cache)
    from django.contrib.admin.utils import quote

    df, dj = docframe_client(docframe_db), django_client()
    group = GROUPS[3]
    pages = {
        "list": {"docframe": (f"/app/customer?customer_group={group.replace(' ', '+')}", "Customer 0"),
                 "django": (f"/admin/desk_admin/customer/?customer_group__name__exact={group.replace(' ', '+')}",
                            "Customer 0")},
        "form": {"docframe": (f"/app/customer/{FORM_CUSTOMER.replace(' ', '%20')}", "Connections"),
                 "django": (f"/admin/desk_admin/customer/{quote(FORM_CUSTOMER)}/change/", "Contact 2")},
    }
    out: dict[str, Any] = {"customers": customers, "iterations": iterations, "repeats": repeats}
    for page, systems in pages.items():
        clients = {"docframe": df, "django": dj}
        results = measure({name: ((lambda r: [None] * (iterations if r >= 0 else warmup)),
                                  _get(clients[name], url, expect))
                           for name, (url, expect) in systems.items()}, iterations, repeats, warmup)
        out[page] = {name: r.as_dict() for name, r in results.items()}
        out[page]["ratio"] = round(results["docframe"].best / results["django"].best, 3)
    return out


def render(result: dict[str, Any]) -> str:
    lines = [f"Desk vs Django admin ({result['customers']:,} customers, SQLite, best of {result['repeats']} x "
             f"{result['iterations']}):", f"  {'page':<6} {'docframe ms':>12} {'Django ms':>10} {'ratio':>7}"]
    for page in ("list", "form"):
        r = result[page]
        lines.append(f"  {page:<6} {r['docframe']['best_ms']:>12.2f} {r['django']['best_ms']:>10.2f} "
                     f"{r['ratio']:>6.2f}x")
    lines.append("  (ratio = docframe time / Django admin time; below 1 is faster)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.desk", description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--iterations", type=int, default=50)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--output", type=Path, default=None, help="also write the figures as JSON here")
    p.add_argument("--cache-dir", type=Path, default=CACHE, help="where the built databases are kept")
    args = p.parse_args(argv)
    result = run(args.customers, args.iterations, args.repeats, args.warmup, args.cache_dir)
    print(render(result))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

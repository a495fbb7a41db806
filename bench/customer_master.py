"""Customer master benchmark (issue 3): inserting customers of the bundled app through the full pipeline.

docframe: ``session.insert("Customer", ...)`` on the app at the repository root
(``doctypes/``, ``hooks/``, ``fixtures/``): naming by customer name with ``-1``
suffixes on duplicates (about 30% of the names repeat), link checks (customer group,
territory, company, the child rows' company and price list), the app's hooks (group
check, price list / credit limit checks, the receivable ledger Account
"<ID> - ABBR" and the per-company account row), one credit limit row, one price list
row, and the ``track_changes`` Version record, all in one transaction.

Django: the same work as a Django developer writes it (``bench/django_baseline/customer_models.py``):
models with the same fields, the case-insensitive duplicate-name suffix in Python,
``full_clean()`` on every model, ``save()`` in ``transaction.atomic()``, a
``post_save`` signal creating the Account and the account row, and a Version row
with a JSON diff.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.counting import StatementCounter
from bench.timing import measure

REPO_ROOT = Path(__file__).resolve().parents[1]  # the bundled customer master app
USER = "Administrator"
COMPANY = "Bench Trading Ltd"
ABBR = "BTL"
CURRENCY = "EUR"
GROUPS = [f"Bench Group {i:02d}" for i in range(10)]
TERRITORIES = [f"Bench Territory {i:02d}" for i in range(20)]
PRICE_LISTS = [f"Bench Prices {i}" for i in range(3)]
DUPLICATE_SLOTS = (3, 6, 9)  # customers i with i % 10 in these reuse the name before: ~30% duplicates
SEPARATOR = "-"
LABEL = "insert Customer (full pipeline)"
TARGET = ">= 2x Django throughput"
CASES = ("insert, new name", "insert, duplicate name")


def customer_name(run: str, i: int) -> str:
    k = i - 1 if i % 10 in DUPLICATE_SLOTS else i
    return f"Customer {k} ({run})"


def customer_values(run: str, i: int) -> dict[str, Any]:
    """One new Company customer: 3 links, a company (ledger account hook), a credit limit and a price list row."""
    return {
        "customer_name": customer_name(run, i),
        "customer_type": "Company",
        "legal_form": "Ltd",
        "customer_group": GROUPS[i % len(GROUPS)],
        "territory": TERRITORIES[i % len(TERRITORIES)],
        "company": COMPANY,
        "country": "United Kingdom",
        "customer_category": "Distributor",
        "relationship_type": "External",
        "payment_deadline": "Fixed days",
        "credit_days": 30,
        "credit_limits": [{"company": COMPANY, "credit_limit": Decimal(5000 + i)}],
        "price_lists": [{"price_list": PRICE_LISTS[i % len(PRICE_LISTS)]}],
    }


# -------------------------------------------------------------------- docframe


class DocframeCustomers:
    name = "docframe"

    def __init__(self, url: str):
        from engine import Site

        self.site = Site(url, REPO_ROOT)
        self.site.migrate()
        self.session = self.site.session(USER)
        s = self.session
        s.insert("Company", {"company_name": COMPANY, "abbr": ABBR, "default_currency": CURRENCY})
        for g in GROUPS:
            s.insert("Customer Group", {"customer_group_name": g, "parent_customer_group": "All Customer Groups"})
        for t in TERRITORIES:
            s.insert("Territory", {"territory_name": t, "parent_territory": "All Territories"})
        for p in PRICE_LISTS:
            s.insert("Price List", {"price_list_name": p, "currency": CURRENCY})
        self.counter = StatementCounter(self.site.engine)

    def insert(self, values: dict[str, Any]) -> str:
        return self.session.insert("Customer", values).name

    def count_insert(self, values: dict[str, Any]) -> tuple[str, list[str]]:
        with self.counter.counting() as seen:
            name = self.insert(values)
        return name, list(seen)

    def check(self, name: str) -> None:
        """The hooks did their work: the receivable account, the account row and a Version exist."""
        doc = self.session.get_doc("Customer", name)
        account = f"{name} - {ABBR}"
        assert [r.account for r in doc.accounts] == [account], doc.accounts
        assert self.session.exists("Account", account)
        assert self.session.get_count("Version", {"ref_doctype": "Customer", "docname": name}) == 1

    def close(self) -> None:
        self.session.close()
        self.site.dispose()


# ---------------------------------------------------------------------- Django


class DjangoCustomers:
    name = "django"

    def __init__(self, alias: str):
        import datetime as dt

        from django.db import connections

        from bench.django_baseline import customer_models as m
        from bench.django_baseline.settings import Router

        self.m = m
        self.alias = alias
        Router.alias = alias
        with connections[alias].schema_editor() as editor:
            for model in m.MODELS:
                editor.create_model(model)
        now = dt.datetime.now()
        std = {"owner": USER, "modified_by": USER, "creation": now, "modified": now}
        m.CmCurrency.objects.using(alias).create(name=CURRENCY, currency_name="Euro", symbol="€", **std)
        root_group = m.CmCustomerGroup.objects.using(alias).create(
            name="All Customer Groups", customer_group_name="All Customer Groups", is_group=True, **std)
        m.CmCustomerGroup.objects.using(alias).bulk_create(
            m.CmCustomerGroup(name=g, customer_group_name=g, parent_customer_group=root_group, **std) for g in GROUPS)
        root = m.CmTerritory.objects.using(alias).create(name="All Territories", territory_name="All Territories",
                                                         is_group=True, **std)
        m.CmTerritory.objects.using(alias).bulk_create(
            m.CmTerritory(name=t, territory_name=t, parent_territory=root, **std) for t in TERRITORIES)
        m.CmPriceList.objects.using(alias).bulk_create(
            m.CmPriceList(name=p, price_list_name=p, currency_id=CURRENCY, **std) for p in PRICE_LISTS)
        company = m.CmCompany.objects.using(alias).create(name=COMPANY, company_name=COMPANY, abbr=ABBR,
                                                          default_currency_id=CURRENCY, **std)
        parent = None
        for account_name, is_group, account_type in (("Application of Funds (Assets)", True, ""),
                                                     ("Current Assets", True, ""),
                                                     ("Accounts Receivable", True, "Receivable")):
            parent = m.CmAccount.objects.using(alias).create(
                name=f"{account_name} - {ABBR}", account_name=account_name, company=company, company_abbr=ABBR,
                parent_account=parent, is_group=is_group, root_type="Asset", account_type=account_type,
                account_currency_id=CURRENCY, **std)
        company.receivables_group = parent
        company.save(using=alias)

    def _next_suffix(self, base: str) -> int:
        from django.db.models import F

        key = f"Customer::{base.lower()}"
        counters = self.m.CmNamingCounter.objects.using(self.alias)
        if not counters.filter(key=key).update(current=F("current") + 1):
            counters.create(key=key, current=1)
            return 1
        return counters.get(key=key).current

    def insert(self, v: dict[str, Any]) -> str:
        from django.db import transaction

        m, alias = self.m, self.alias
        std = {"owner": USER, "modified_by": USER}
        with transaction.atomic(using=alias):
            base = v["customer_name"]
            name = base
            if m.CmCustomer.objects.using(alias).filter(name__lower=base.lower()).exists():
                name = f"{base}{SEPARATOR}{self._next_suffix(base)}"
            customer = m.CmCustomer(
                name=name, customer_name=base, customer_type=v["customer_type"], legal_form=v["legal_form"],
                customer_group_id=v["customer_group"], territory_id=v["territory"], company_id=v["company"],
                country=v["country"], customer_category=v["customer_category"],
                relationship_type=v["relationship_type"], payment_deadline=v["payment_deadline"],
                credit_days=v["credit_days"], **std)
            customer._state.db = alias
            customer.full_clean()
            customer.save(using=alias, force_insert=True)  # post_save: receivable account + account row
            children: list[Any] = []
            for idx, row in enumerate(v["credit_limits"], 1):
                children.append(m.CmCustomerCreditLimit(parent=customer, idx=idx, company_id=row["company"],
                                                        credit_limit=row["credit_limit"], **std))
            for idx, row in enumerate(v["price_lists"], 1):
                children.append(m.CmCustomerPriceList(parent=customer, idx=idx, price_list_id=row["price_list"],
                                                      **std))
            for child in children:
                child._state.db = alias
                child.full_clean(exclude=["parent"])  # as an inline formset does
                child.save(using=alias)
            m.CmVersion.objects.using(alias).create(ref_doctype="Customer", docname=name, data={"created": True},
                                                    **std)
        return name

    def count_insert(self, values: dict[str, Any]) -> tuple[str, list[str]]:
        from bench.django_baseline.side import statement_kinds

        with statement_kinds(self.alias) as seen:
            name = self.insert(values)
        return name, seen

    def check(self, name: str) -> None:
        m = self.m
        account = f"{name} - {ABBR}"
        rows = list(m.CmCustomerCompanyAccount.objects.using(self.alias).filter(parent_id=name)
                    .values_list("account_id", flat=True))
        assert rows == [account], rows
        assert m.CmVersion.objects.using(self.alias).filter(ref_doctype="Customer", docname=name).count() == 1

    def close(self) -> None:
        from django.db import connections

        connections[self.alias].close()


# --------------------------------------------------------------------- section


def _prepare(tag: str, n: int) -> Callable[[int], list[dict[str, Any]]]:
    def prepare(repeat: int) -> list[dict[str, Any]]:
        run = f"{tag}w" if repeat < 0 else f"{tag}{repeat}"
        return [customer_values(run, i) for i in range(n)]
    return prepare


def _summary(statements: list[str]) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for s in statements:
        kinds[s] = kinds.get(s, 0) + 1
    return {"count": len(statements), "by_kind": kinds}


def _profile(df: DocframeCustomers, n: int) -> str:
    prof = cProfile.Profile()
    args = _prepare("prof", n)(0)
    prof.enable()
    for a in args:
        df.insert(a)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(r"engine|hooks", 40)
    return buf.getvalue()


def run_section(docframe_url: str, django_alias: str, customers: int, repeats: int, warmup: int,
                profile: bool, log: Callable[[str], None]) -> dict[str, Any]:
    """Insert ``customers`` customers per repeat in both systems; ratios, statements per save, optional profile."""
    log(f"{django_alias}: customer master: setting up the bundled app and the Django models")
    sides: list[Any] = []
    try:
        df = DocframeCustomers(docframe_url)
        sides.append(df)
        dj = DjangoCustomers(django_alias)
        sides.append(dj)
        log(f"{django_alias}: customer master: insert x {customers} x {repeats}")
        results = measure({side.name: (_prepare(django_alias[0], customers), side.insert) for side in (df, dj)},
                          customers, repeats, min(warmup, customers))
        vs_django = results["docframe"].ops_per_s / results["django"].ops_per_s
        statements: dict[str, Any] = {}
        for side in (df, dj):
            values = customer_values("stmt", 0)
            name, new = side.count_insert(dict(values))
            dup_name, dup = side.count_insert(dict(values))
            side.check(name)
            side.check(dup_name)
            assert dup_name == f"{name}{SEPARATOR}1", dup_name
            statements[side.name] = {CASES[0]: _summary(new), CASES[1]: _summary(dup)}
        out: dict[str, Any] = {
            "label": LABEL,
            "docframe": results["docframe"].as_dict(),
            "django": results["django"].as_dict(),
            "docframe_vs_django_throughput": round(vs_django, 3),
            "target": TARGET,
            "met": vs_django >= 2.0,
            "statements": statements,
        }
        if profile:
            log(f"{django_alias}: customer master: profiling docframe")
            out["profile"] = _profile(df, customers)
        return out
    finally:
        for side in sides:
            side.close()


def render_section(section: dict[str, Any], repeats: int, customers: int) -> list[str]:
    lines = ["", f"Customer master (issue 3): best of {repeats} x {customers} customers, ~30% duplicate names"]
    header = f"{'operation':<36}{'docframe/s':>11}{'Django/s':>10}{'df/Django':>11}  {'target':<26}{'met':<4}"
    lines.append(header)
    lines.append("-" * len(header))
    lines.append(f"{section['label']:<36}{section['docframe']['ops_per_s']:>11,.0f}{section['django']['ops_per_s']:>10,.0f}"
                 f"{section['docframe_vs_django_throughput']:>10.2f}x  {section['target']:<26}"
                 f"{'yes' if section['met'] else 'NO':<4}")
    lines.append("SQL statements per customer save (BEGIN not counted; SAVEPOINT/RELEASE are):")
    for system, counts in section["statements"].items():
        parts = [f"{case}: {counts[case]['count']} ({_kinds(counts[case]['by_kind'])})" for case in CASES]
        lines.append(f"  {system:<9} " + "; ".join(parts))
    if text := section.get("profile"):
        lines.append("")
        lines.append(f"cProfile of docframe customer insert ({customers} calls):")
        lines.append(text.rstrip())
    return lines


def _kinds(by_kind: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items()))

"""The benchmark runner: ``python -m bench [--pg URL] [--rows N] [--iterations N] [--sections LIST]``.

Prints, for SQLite (and PostgreSQL with ``--pg``), docframe against raw SQLAlchemy
Core (the floor) and Django's ORM (the peer) measured in the same run, the ratios
and whether the targets of SPEC section 6 are met, and the SQL statements per save;
then the customer master section and the REST API throughput under gunicorn.
Writes the figures to ``bench/results/latest.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import api, customer_master, workload
from bench.databases import Backend, postgresql_backend, sqlite_backend
from bench.dataset import build_server_list, sqlite_list_file
from bench.timing import Result, measure

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "latest.json"
DEFAULT_CACHE = HERE / ".cache"
BACKEND_LABELS = {"sqlite": "SQLite (WAL, synchronous=NORMAL)", "postgresql": "PostgreSQL"}

# operation -> (label, target text, check(docframe/Django throughput, docframe time/Core time,
#                                          Core's unindexed-sort time/docframe time or None))
TARGETS: dict[str, tuple[str, str, Callable[[float | None, float, float | None], bool]]] = {
    "insert": ("insert customer (3 links, 3 rows, hook)", ">= 2x Django throughput",
               lambda vs_django, vs_core, vs_scan: vs_django is not None and vs_django >= 2.0),
    "get": ("get customer + child rows", "<= 1.5x Core time", lambda vs_django, vs_core, vs_scan: vs_core <= 1.5),
    "list": ("list 20, filter by currency, sorted", "<= 2x Core time",
             lambda vs_django, vs_core, vs_scan: vs_core <= 2.0),
    "list_selective": ("list 20, filter by territory, sorted", "<= 1.3x Core, >= 10x scan",
                       lambda vs_django, vs_core, vs_scan: vs_core <= 1.3 and (vs_scan or 0) >= 10),
}
SCAN_DIVISOR = 10  # Core's unindexed-sort reference of list_selective runs iterations / 10 times
CHILD_ROWS = (1, 3, 10)
LINKS = (1, 3)
NAMING_CASES = ("new name", "duplicate name")
# --sections: core = insert/get/list against Core and Django, customer = customer master, api = REST API
SECTIONS = ("core", "customer", "api")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--pg", metavar="URL", help="also run on PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/test")
    p.add_argument("--no-sqlite", action="store_true", help="skip SQLite (with --pg)")
    p.add_argument("--rows", type=int, default=1_000_000, help="rows in the list table (default 1,000,000)")
    p.add_argument("--iterations", type=int, default=500, help="timed calls per repeat (default 500)")
    p.add_argument("--repeats", type=int, default=3, help="repeats; the best one counts (default 3)")
    p.add_argument("--warmup", type=int, default=30, help="untimed calls before timing (default 30)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where the SQLite list table is cached")
    p.add_argument("--profile", action="store_true", help="also print cProfile hot spots of docframe's operations")
    p.add_argument("--customers", type=int, default=300,
                   help="customers per repeat in the customer master section (default 300; 0 skips it)")
    p.add_argument("--sections", default=",".join(SECTIONS), metavar="LIST",
                   help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--api-seconds", type=float, default=3.0,
                   help="API section: seconds of load per request kind and repeat (default 3; 0 skips it)")
    p.add_argument("--api-clients", type=int, default=4,
                   help="API section: load processes, one keep-alive connection each (default 4)")
    p.add_argument("--api-customers", type=int, default=3000,
                   help="API section: customers in its database (default 3,000)")
    p.add_argument("--api-workers", type=int, default=2, help="API section: gunicorn workers (default 2)")
    p.add_argument("--api-worker-class", choices=("gthread", "sync"), default="gthread",
                   help="API section: gunicorn worker class (default gthread: keeps connections alive)")
    p.add_argument("--api-threads", type=int, default=4, help="API section: threads per gthread worker (default 4)")
    p.add_argument("--api-redis", default=os.environ.get("DOCFRAME_REDIS_URL", "redis://127.0.0.1:6379/0"),
                   metavar="URL", help="API section: the server's DOCFRAME_REDIS_URL (its token cache); '' for none "
                                       "(default: env DOCFRAME_REDIS_URL, else redis://127.0.0.1:6379/0)")
    args = p.parse_args(argv)
    if args.no_sqlite and not args.pg:
        p.error("--no-sqlite needs --pg")
    if min(args.rows, args.iterations, args.repeats) < 1 or min(args.warmup, args.customers) < 0:
        p.error("--rows, --iterations and --repeats must be positive")
    sections = [name.strip() for name in args.sections.split(",") if name.strip()]
    if not sections or set(sections) - set(SECTIONS):
        p.error(f"--sections takes a comma-separated list of {', '.join(SECTIONS)}, not {args.sections!r}")
    if args.api_seconds < 0 or min(args.api_clients, args.api_customers, args.api_workers, args.api_threads) < 1:
        p.error("--api-seconds must not be negative; --api-clients, --api-customers, --api-workers and "
                "--api-threads must be positive")
    if args.customers == 0 and "customer" in sections:
        sections.remove("customer")
    if args.api_seconds == 0 and "api" in sections:
        sections.remove("api")
    args.sections = [name for name in SECTIONS if name in sections]
    return args


def api_settings(args: argparse.Namespace) -> api.Settings:
    return api.Settings(seconds=args.api_seconds, repeats=args.repeats, clients=args.api_clients,
                        customers=args.api_customers, workers=args.api_workers,
                        worker_class=args.api_worker_class, threads=args.api_threads, redis_url=args.api_redis)


# --------------------------------------------------------------------- running


def _insert_args(tag: str, iterations: int) -> Callable[[int], list[dict[str, Any]]]:
    def prepare(repeat: int) -> list[dict[str, Any]]:
        run = f"{tag}w" if repeat < 0 else f"{tag}{repeat}"
        return [workload.customer_values(run, i) for i in range(iterations)]
    return prepare


def _cycle(names: list[str], iterations: int) -> Callable[[int], list[str]]:
    return lambda repeat: [names[i % len(names)] for i in range(iterations)]


def _repeat(value: Any, iterations: int) -> Callable[[int], list[Any]]:
    return lambda repeat: [value] * iterations


def _ratios(results: dict[str, Result], op: str, scan: Result | None = None) -> dict[str, Any]:
    """Throughputs and ratios of one operation; ``scan``: Core's time for the same list sorted without an index."""
    df, core, dj = results["docframe"], results["core"], results.get("django")
    vs_django = df.ops_per_s / dj.ops_per_s if dj else None
    vs_core = df.best / core.best
    vs_scan = df.ops_per_s / scan.ops_per_s if scan else None
    label, target, check = TARGETS[op]
    return {
        "label": label,
        **{name: r.as_dict() for name, r in results.items()},
        "docframe_vs_django_throughput": round(vs_django, 3) if vs_django is not None else None,
        "docframe_vs_core_time": round(vs_core, 3),
        **({"core_scan": scan.as_dict(), "docframe_vs_scan_speedup": round(vs_scan, 1)} if scan and vs_scan else {}),
        "target": target,
        "met": bool(check(vs_django, vs_core, vs_scan)),
    }


def _statement_counts(df: Any, core: Any, dj: Any) -> dict[str, Any]:
    """SQL statements per save for 1/3/10 child rows and 1/3 link fields."""
    out: dict[str, Any] = {"docframe": {}, "core": {}, "django": {}}
    for links in LINKS:
        for rows in CHILD_ROWS:
            key = f"links={links},rows={rows}"
            base = f"Stmt {links} links {rows} rows"
            values = workload.customer_values("stmt", 0, n_contacts=rows, n_links=links)
            values["customer_name"] = base
            name, new = df.count_insert(dict(values))
            _, dup = df.count_insert(dict(values))
            update = df.count_update(name)
            out["docframe"][key] = {"insert, new name": _summary(new), "insert, duplicate name": _summary(dup),
                                    "update": _summary(update)}
    values = workload.customer_values("stmt", 0)
    values["customer_name"] = "Stmt core"
    out["core"]["links=3,rows=3"] = {"insert, new name": _summary(core.count_insert(dict(values))),
                                     "insert, duplicate name": _summary(core.count_insert(dict(values)))}
    values["customer_name"] = "Stmt django"
    out["django"]["links=3,rows=3"] = {"insert, new name": _summary(dj.count_insert(dict(values))),
                                       "insert, duplicate name": _summary(dj.count_insert(dict(values)))}
    per_case = {}
    for case in ("insert, new name", "insert, duplicate name", "update"):
        per_case[case] = sorted({v[case]["count"] for v in out["docframe"].values()})
    out["independent"] = all(len(counts) == 1 for counts in per_case.values())
    out["docframe_counts_by_case"] = per_case
    return out


def _summary(statements: list[str]) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for s in statements:
        kinds[s] = kinds.get(s, 0) + 1
    return {"count": len(statements), "by_kind": kinds}


def _profile(df: Any, iterations: int) -> dict[str, str]:
    """cProfile text of docframe's insert, get and list (not part of the timings)."""
    out = {}
    prepare = _insert_args("prof", iterations)
    for op, args in (("insert", prepare(0)), ("get", df.names[:iterations]),
                     ("list", [workload.LIST_FILTERS["list"]] * iterations)):
        fn = getattr(df, op)
        prof = cProfile.Profile()
        prof.enable()
        for a in args:
            fn(a)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        out[op] = buf.getvalue()
    return out


def run_core(backend: Backend, args: argparse.Namespace) -> dict[str, Any]:
    """Insert, get and list against Core and Django, and the statements per save."""
    from bench.core_side import CoreSide
    from bench.django_baseline.side import DjangoSide
    from bench.docframe_side import DocframeSide, missing_indexes

    if backend.name != "sqlite":
        build_server_list(backend.urls["list"], args.rows, log)
    log(f"{backend.name}: setting up docframe, Core and Django databases")
    sides: list[Any] = []
    try:
        df = DocframeSide(backend.urls["docframe"], backend.urls["list"])
        sides.append(df)
        core = CoreSide(backend.urls["core"], backend.urls["list"])
        sides.append(core)
        dj = DjangoSide(backend.name)
        sides.append(dj)
        warnings = []
        if missing := missing_indexes(df.site):
            warnings.append(f"docframe's migrate did not create these compiled indexes: {', '.join(missing)} "
                            "(Core's tables have them; lookups on them are full scans)")
        n, reps, warm = args.iterations, args.repeats, args.warmup
        ops: dict[str, Any] = {}
        started = time.perf_counter()
        log(f"{backend.name}: insert x {n} x {reps}")
        results = measure({side.name: (_insert_args(backend.name[0], n), side.insert) for side in (df, core, dj)},
                          n, reps, warm)
        ops["insert"] = _ratios(results, "insert")
        log(f"{backend.name}: get x {n} x {reps}")
        results = measure({side.name: (_cycle(side.names, n), side.get) for side in (df, core, dj)}, n, reps, warm)
        ops["get"] = _ratios(results, "get")
        for op, filters in workload.LIST_FILTERS.items():
            log(f"{backend.name}: {op} over {args.rows:,} rows x {n} x {reps}")
            results = measure({side.name: (_repeat(filters, n), side.list) for side in (df, core, dj)},
                              n, reps, warm)
            scan = None
            if op == "list_selective":  # today's plan before issue 12: every matching row read, then sorted
                calls = max(1, n // SCAN_DIVISOR)
                log(f"{backend.name}: {op}, Core sorting without the index, x {calls} x {reps}")
                scan = measure({"core_scan": (_repeat(filters, calls), core.list_scan)},
                               calls, reps, min(warm, calls))["core_scan"]
            ops[op] = _ratios(results, op, scan)
        log(f"{backend.name}: statements per save")
        statements = _statement_counts(df, core, dj)
        out = {"list_rows": args.rows, "operations": ops, "statements": statements, "warnings": warnings,
               "seconds": round(time.perf_counter() - started, 1)}
        if args.profile:
            log(f"{backend.name}: profiling docframe")
            out["profile"] = _profile(df, n)
        return out
    finally:
        for side in sides:
            side.close()


def run_backend(backend: Backend, args: argparse.Namespace) -> dict[str, Any]:
    """The selected sections on one backend."""
    out: dict[str, Any] = {"label": BACKEND_LABELS[backend.name], "warnings": []}
    if "core" in args.sections:
        out.update(run_core(backend, args))
    if "customer" in args.sections:
        out["customer_master"] = customer_master.run_section(
            backend.urls["customer"], backend.name, args.customers, args.repeats, args.warmup, args.profile, log)
    if "api" in args.sections:
        out["api"] = api.run_section(backend.name, backend.urls["customer"], api_settings(args), args.profile, log)
    return out


# -------------------------------------------------------------------- printing


def _fmt_rate(r: dict[str, Any] | None) -> str:
    return f"{r['ops_per_s']:,.0f}" if r else "-"


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    args = results["args"]
    for b in results["backends"].values():
        if "operations" in b:
            lines.extend(_render_core(b, args))
        else:
            lines.extend(["", f"docframe benchmark on {b['label']}"])
        if section := b.get("customer_master"):
            lines.extend(customer_master.render_section(section, args["repeats"], args["customers"]))
        if section := b.get("api"):
            lines.extend(api.render_section(section))
        for w in b["warnings"]:
            lines.append(f"WARNING: {w}")
        for op, text in b.get("profile", {}).items():
            lines.append("")
            lines.append(f"cProfile of docframe {op} ({args['iterations']} calls), by own time:")
            lines.append(text.rstrip())
    return "\n".join(lines)


def _render_core(b: dict[str, Any], args: dict[str, Any]) -> list[str]:
    lines = ["", f"docframe benchmark on {b['label']}: best of {args['repeats']} x {args['iterations']} "
                 f"calls, list table {b['list_rows']:,} rows"]
    header = (f"{'operation':<42}{'docframe/s':>11}{'Core/s':>10}{'Django/s':>10}"
              f"{'df/Django':>11}{'df/Core time':>14}  {'target':<26}{'met':<4}")
    lines.append(header)
    lines.append("-" * len(header))
    scans = []
    for r in b["operations"].values():
        vs_dj = r["docframe_vs_django_throughput"]
        lines.append(
            f"{r['label']:<42}{_fmt_rate(r['docframe']):>11}{_fmt_rate(r['core']):>10}"
            f"{_fmt_rate(r.get('django')):>10}{(f'{vs_dj:.2f}x' if vs_dj else '-'):>11}"
            f"{r['docframe_vs_core_time']:>13.2f}x  {r['target']:<26}{'yes' if r['met'] else 'NO':<4}"
        )
        if "core_scan" in r:
            scans.append(f"{r['label']}: Core sorting every matching row (no index for the sort, as before "
                         f"issue 12) {_fmt_rate(r['core_scan'])}/s; docframe with the index is "
                         f"{r['docframe_vs_scan_speedup']:.1f}x faster")
    lines += scans
    st = b["statements"]
    lines.append("")
    lines.append("SQL statements per save (docframe; executemany counts once; BEGIN not counted)")
    cases = ("insert, new name", "insert, duplicate name", "update")
    head = f"{'':<22}" + "".join(f"{c:>24}" for c in cases)
    lines.append(head)
    for key, counts in st["docframe"].items():
        lines.append(f"{key:<22}" + "".join(f"{counts[c]['count']:>24}" for c in cases))
    lines.append(f"{'Core (links=3,rows=3)':<22}" + "".join(
        f"{st['core']['links=3,rows=3'][c]['count']:>24}" for c in cases[:2]))
    lines.append(f"{'Django (links=3,rows=3)':<22}" + "".join(
        f"{st['django']['links=3,rows=3'][c]['count']:>24}" for c in cases[:2]))
    lines.append(f"independent of link fields and child rows: {'yes' if st['independent'] else 'NO'}"
                 f"  (target: yes; met: {'yes' if st['independent'] else 'NO'})")
    return lines


# ------------------------------------------------------------------------ main


def _versions(sections: list[str]) -> dict[str, str]:
    import flask
    import gunicorn
    import sqlalchemy

    out = {"python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__,
           "machine": platform.machine(), "system": platform.platform()}
    if {"core", "customer"} & set(sections):
        import django

        out["django"] = django.get_version()
    if "api" in sections:
        out.update({"flask": flask.__version__, "gunicorn": gunicorn.__version__})
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from bench.django_baseline.settings import configure

    backends: list[Backend] = []
    try:
        if not args.no_sqlite:
            # Only the core section reads the list table: other sections skip building it.
            list_file = (sqlite_list_file(args.cache_dir, args.rows, log) if "core" in args.sections
                         else args.cache_dir / "list-not-built.db")
            backends.append(sqlite_backend(list_file))
        if args.pg:
            backends.append(postgresql_backend(args.pg))
        if {"core", "customer"} & set(args.sections):
            configure({alias: config for b in backends
                       for role, config in b.django.items()
                       for alias in [b.name if role == "django" else f"{b.name}_list"]})
        results: dict[str, Any] = {
            "generated": dt.datetime.now().isoformat(timespec="seconds"),
            "versions": _versions(args.sections),
            "args": {"rows": args.rows, "iterations": args.iterations, "repeats": args.repeats,
                     "warmup": args.warmup, "customers": args.customers, "pg": bool(args.pg),
                     "sections": args.sections, "api": asdict(api_settings(args))},
            "targets": {op: t[1] for op, t in TARGETS.items()} | {"statements": "independent of links and rows",
                                                                   "customer_master": customer_master.TARGET,
                                                                   "api": api.TARGET},
            "backends": {},
        }
        for backend in backends:
            results["backends"][backend.name] = run_backend(backend, args)
    finally:
        for backend in backends:
            backend.cleanup()
    print(render(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults written to {args.output}")
    return 0

"""API throughput (issue 4): requests/second of docframe's REST API under gunicorn, against a bare Flask route.

Set-up (not measured): the bundled app (repository root) migrated on its own database,
``--api-customers`` customers inserted through ``session.insert`` (one price list row
each, spread over territories of 20 customers), and an API key for Administrator.

Then ``gunicorn 'bench.api_app:create_app()'`` serves it on a free loopback port, and
``python -m bench.load`` (a separate process with ``--api-clients`` client processes,
one keep-alive connection each) sends GETs for ``--api-seconds`` per target:

- ``bare``: ``/bench/bare``, a Flask route answering a small JSON (no credentials): the floor;
- ``bare_token``: the same route with the token header: the cost of token authentication;
- ``get``: ``/api/resource/Customer/<name>`` with the token, cycling over every customer;
- ``get_clerk``: the same with the key of an Accounts User, as most integrators call: the
  permission checks read that user's roles (kept under the auth epoch with Redis);
- ``get_uncached``: the same served by a second gunicorn whose document cache is off
  (``DOCFRAME_DOC_CACHE_SIZE=0``): what a read costs when the document is not cached;
- ``list``: ``/api/resource/Customer?filters=[["territory","=",T]]&fields=[...]``, 20 rows
  out of all the customers, with the token, cycling over 10 territories.

The targets run one after the other in each repeat (so a noisy moment hits them
alike); the best repeat of each counts. Target: doc GET at least half the bare rate.
Both servers run the whole time; the one not being loaded is idle.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.api_app import BARE_PATH

REPO_ROOT = Path(__file__).resolve().parents[1]  # the bundled customer master app
USER = "Administrator"
CLERK = "api.clerk@example.com"  # an integrator's API user: role checks on every request, as for most clients
CLERK_ROLE = "Accounts User"  # reads every customer (no record rule)
PER_TERRITORY = 20  # customers per territory: the list's filter matches this many rows
LIST_TERRITORIES = 10  # the list target cycles over this many territories
LIST_FIELDS = ["name", "customer_name", "customer_group", "territory"]
TARGET_RATIO = 0.5
TARGET = f"doc GET >= {TARGET_RATIO}x bare"
LABELS = {
    "bare": f"bare Flask route {BARE_PATH}",
    "bare_token": f"{BARE_PATH} + token auth",
    "get": "GET /api/resource/Customer/<name>",
    "get_clerk": f"the same as an {CLERK_ROLE}",
    "get_uncached": "the same, document cache off",
    "list": "GET /api/resource/Customer?filters (20 rows)",
}


@dataclass(frozen=True)
class Settings:
    seconds: float = 3.0  # per target and repeat
    repeats: int = 3
    clients: int = 4  # load processes, one keep-alive connection each
    customers: int = 3000
    workers: int = 2
    worker_class: str = "gthread"
    threads: int = 4  # per worker (gthread only)
    redis_url: str = ""  # DOCFRAME_REDIS_URL of the server: its token and document caches; "" runs without


def customer_name(i: int) -> str:
    return f"API Customer {i:05d}"


def territory_name(i: int) -> str:
    return f"API Territory {i:03d}"


# ------------------------------------------------------------------ set-up


@contextmanager
def api_database(backend_name: str, sibling_url: str) -> Iterator[str]:
    """A database of its own for the section, next to ``sibling_url``: a file beside it, or a new schema."""
    url = make_url(sibling_url)
    if backend_name == "sqlite":
        path = Path(url.database or tempfile.mkdtemp()).with_name(f"api_{uuid.uuid4().hex[:6]}.db")
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()
        return
    server = url.difference_update_query(["options"])
    schema = f"dfbench_{os.getpid()}_{uuid.uuid4().hex[:6]}_api"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def seed(url: str, customers: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """Migrate, insert the territories and customers; the API keys (key, secret) of Administrator and of
    an Accounts User."""
    from engine import Site
    from engine.site.auth import ensure_administrator, generate_api_key

    site = Site(url, REPO_ROOT)
    try:
        site.migrate()
        ensure_administrator(site, secrets.token_hex(16))
        territories = max(1, -(-customers // PER_TERRITORY))
        with site.session(USER) as s, s.atomic():
            for t in range(territories):
                s.insert("Territory", territory_name=territory_name(t), parent_territory="All Territories")
            for i in range(customers):
                s.insert("Customer", customer_name=customer_name(i), customer_type="Company",
                         territory=territory_name(i % territories), field_of_activity="Benchmarking",
                         price_lists=[{"price_list": "Standard Selling"}])
        with site.session(USER) as s:
            s.insert("User", name=CLERK, email=CLERK, full_name="API Clerk", roles=[{"role": CLERK_ROLE}])
            return generate_api_key(s, USER), generate_api_key(s, CLERK)
    finally:
        site.dispose()


def target_paths(customers: int) -> dict[str, list[str]]:
    territories = max(1, -(-customers // PER_TERRITORY))
    fields = quote(json.dumps(LIST_FIELDS))
    lists = [f"/api/resource/Customer?filters={quote(json.dumps([['territory', '=', territory_name(t)]]))}"
             f"&fields={fields}&limit_page_length={PER_TERRITORY}"
             for t in range(min(LIST_TERRITORIES, territories))]
    docs = [f"/api/resource/Customer/{quote(customer_name(i))}" for i in range(customers)]
    return {"bare": [BARE_PATH], "bare_token": [BARE_PATH], "get": docs, "get_clerk": docs, "get_uncached": docs,
            "list": lists}


# ------------------------------------------------------------------ the server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn_command(port: int, settings: Settings) -> list[str]:
    from gunicorn.config import KNOWN_SETTINGS

    cmd = [sys.executable, "-m", "gunicorn", "bench.api_app:create_app()", "-b", f"127.0.0.1:{port}",
           "-w", str(settings.workers), "-k", settings.worker_class, "--keep-alive", "5"]
    if settings.worker_class == "gthread":
        cmd += ["--threads", str(settings.threads)]
    if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
        cmd.append("--no-control-socket")  # gunicorn >= 27: no socket in ~/.gunicorn
    return cmd


@contextmanager
def serving(url: str, settings: Settings, log_file: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """gunicorn serving ``url``'s site on a free port until the block ends (``env``: more variables); yields
    the base URL."""
    port = _free_port()
    env = {**os.environ, "DOCFRAME_DATABASE_URL": url, "DOCFRAME_SECRET_KEY": secrets.token_hex(16),
           "DOCFRAME_REDIS_URL": settings.redis_url, **(env or {})}
    with log_file.open("wb") as out:
        proc = subprocess.Popen(gunicorn_command(port, settings), cwd=REPO_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/api/method/ping", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{log_file.read_text(errors='replace')[-3000:]}")
                time.sleep(0.1)
        try:
            yield base
        except Exception as exc:
            log_tail = log_file.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"API benchmark failed: {exc!r}\ngunicorn output:\n{log_tail}") from exc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _get_json(url: str, headers: dict[str, str]) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as answer:
        return json.load(answer)


def check_targets(base: str, paths: dict[str, list[str]], token: dict[str, str]) -> None:
    """Each target answers what it should before it is measured (and token auth is verified in a worker)."""
    assert _get_json(base + BARE_PATH, {}) == {"message": "ok"}
    doc = _get_json(base + paths["get"][0], token)["data"]
    assert doc["name"] == customer_name(0) and len(doc["price_lists"]) == 1, doc
    rows = _get_json(base + paths["list"][0], token)["data"]
    assert rows and list(rows[0]) == LIST_FIELDS, rows[:1]


def load(base: str, paths: list[str], headers: dict[str, str], seconds: float, clients: int,
         workdir: Path) -> dict[str, Any]:
    """One run of ``python -m bench.load`` (a separate process); its JSON figures."""
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    cmd = [sys.executable, "-m", "bench.load", "--url", base, "--paths-file", str(paths_file),
           "--seconds", str(seconds), "--clients", str(clients)]
    for name, value in headers.items():
        cmd += ["--header", f"{name}: {value}"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=seconds + 180)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.load failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ profile


def _profile(url: str, paths: dict[str, list[str]], token: dict[str, str], calls: int) -> dict[str, str]:
    """cProfile of the same requests in-process (Flask's test client, no gunicorn): where a request's time goes."""
    from bench.api_app import create_app
    from engine import Site

    site = Site(url, REPO_ROOT)
    app = create_app(site)
    client = app.test_client()
    out = {}
    for target in ("get", "list"):
        targets = paths[target]
        for path in targets[:20]:  # warm caches (and the verified token) outside the profile
            client.get(path, headers=token)
        prof = cProfile.Profile()
        prof.enable()
        for i in range(calls):
            client.get(targets[i % len(targets)], headers=token)
        prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(r"engine|flask|werkzeug|sqlalchemy", 30)
        out[target] = buf.getvalue()
    site.dispose()
    return out


# ------------------------------------------------------------------ section


def run_section(backend_name: str, sibling_url: str, settings: Settings, profile: bool,
                log: Callable[[str], None]) -> dict[str, Any]:
    """Seed, serve with gunicorn, load each target ``settings.repeats`` times; rps, ratios, optional profile."""
    with api_database(backend_name, sibling_url) as url, tempfile.TemporaryDirectory(prefix="dfbench_api_") as tmp:
        workdir = Path(tmp)
        log(f"{backend_name}: API: seeding {settings.customers:,} customers")
        started = time.perf_counter()
        (key, secret), (clerk_key, clerk_secret) = seed(url, settings.customers)
        seeded = time.perf_counter() - started
        token = {"Authorization": f"token {key}:{secret}"}
        paths = target_paths(settings.customers)
        clerk = {"Authorization": f"token {clerk_key}:{clerk_secret}"}
        headers = {"bare": {}, "bare_token": token, "get": token, "get_clerk": clerk, "get_uncached": token,
                   "list": token}
        runs: dict[str, list[dict[str, Any]]] = {t: [] for t in LABELS}
        log(f"{backend_name}: API: gunicorn -w {settings.workers} -k {settings.worker_class}, "
            f"{settings.clients} clients x {settings.seconds:g} s x {settings.repeats} per target")
        with serving(url, settings, workdir / "gunicorn.log") as base, \
                serving(url, settings, workdir / "gunicorn-uncached.log", {"DOCFRAME_DOC_CACHE_SIZE": "0"}) as other:
            bases = {target: other if target == "get_uncached" else base for target in LABELS}
            check_targets(base, paths, token)
            check_targets(other, paths, token)
            for target in LABELS:  # warm-up: every worker has verified the token and filled its caches
                load(bases[target], paths[target], headers[target], max(1.0, settings.seconds / 2),
                     settings.clients, workdir)
            for _ in range(settings.repeats):
                for target in LABELS:
                    runs[target].append(load(bases[target], paths[target], headers[target], settings.seconds,
                                             settings.clients, workdir))
        out = _figures(runs)
        out.update({"settings": asdict(settings), "seed_seconds": round(seeded, 1),
                    "list_rows": PER_TERRITORY,
                    "statements": {"without Redis": statements_per_request(url, paths, headers, ""),
                                   "with Redis (token and document caches)":
                                       statements_per_request(url, paths, headers, settings.redis_url)}})
        if profile:
            log(f"{backend_name}: API: profiling doc GET and list in-process")
            out["profile"] = _profile(url, paths, token, 500)
        return out


def statements_per_request(url: str, paths: dict[str, list[str]], headers: dict[str, dict[str, str]],
                           redis_url: str) -> dict[str, int] | None:
    """SQL statements each target's request sends (in-process, after one warm-up request), with the token
    cache on the Redis at ``redis_url`` ("": none); None when that Redis cannot be reached."""
    from bench.api_app import create_app
    from bench.counting import StatementCounter
    from engine import Site

    site = Site(url, REPO_ROOT, cache_url=redis_url)  # "": no caches, whatever the environment says
    try:
        deadline = time.monotonic() + 3
        while redis_url and site.token_cache.epoch() is None:  # the subscription is confirmed in a moment
            if time.monotonic() > deadline:
                return None  # Redis unreachable: nothing to show
            time.sleep(0.05)
        counter = StatementCounter(site.engine)
        client = create_app(site).test_client()
        out = {}
        for target in ("bare_token", "get", "get_clerk", "list"):
            path = paths[target][0]
            client.get(path, headers=headers[target])
            with counter.counting() as seen:
                answer = client.get(path, headers=headers[target])
            assert answer.status_code == 200, answer.data[:300]
            out[target] = len(seen)
        return out
    finally:
        site.dispose()


def _figures(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    targets = {}
    for target, results in runs.items():
        best = max(results, key=lambda r: r["rps"])
        targets[target] = {
            "label": LABELS[target], "rps": best["rps"], "repeats_rps": [r["rps"] for r in results],
            "latency_ms": best["latency_ms"], "requests": sum(r["requests"] for r in results),
            "errors": sum(r["errors"] for r in results), "statuses": best["statuses"],
        }
    bare = targets["bare"]["rps"] or float("nan")
    ratios = {f"{t}_vs_bare": round(targets[t]["rps"] / bare, 3) for t in targets if t != "bare"}
    return {"targets": targets, "ratios": ratios, "target": TARGET,
            "met": ratios["get_vs_bare"] >= TARGET_RATIO and targets["get"]["errors"] == 0}


def render_section(section: dict[str, Any]) -> list[str]:
    st = section["settings"]
    threads = f" x {st['threads']} threads" if st["worker_class"] == "gthread" else ""
    lines = ["", f"API throughput (issue 4): gunicorn {st['workers']} {st['worker_class']} workers{threads}, "
                 f"{st['clients']} keep-alive clients, best of {st['repeats']} x {st['seconds']:g} s, "
                 f"{st['customers']:,} customers, token and document caches "
                 f"{'on (Redis ' + st['redis_url'] + ')' if st.get('redis_url') else 'off (no Redis)'}"]
    header = f"{'request':<46}{'req/s':>9}{'x bare':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    lines.append(header)
    lines.append("-" * len(header))
    ratios = section["ratios"]
    for target, r in section["targets"].items():
        ratio = 1.0 if target == "bare" else ratios[f"{target}_vs_bare"]
        lines.append(f"{r['label']:<46}{r['rps']:>9,.0f}{ratio:>7.2f}x{r['latency_ms']['p50']:>9.2f}"
                     f"{r['latency_ms']['p99']:>9.2f}{r['errors']:>8}")
    lines.append(f"target: {section['target']}; met: {'yes' if section['met'] else 'NO'}")
    for case, counts in (section.get("statements") or {}).items():
        if counts:
            lines.append(f"SQL statements per request, {case}: "
                         + ", ".join(f"{LABELS[t]} {n}" for t, n in counts.items()))
    for target, text in section.get("profile", {}).items():
        lines.append("")
        lines.append(f"cProfile of the {LABELS[target]} request in-process (Flask test client), by own time:")
        lines.append(text.rstrip())
    return lines

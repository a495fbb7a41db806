"""HTTP load for the API benchmark: keep-alive GETs from several client processes for a fixed time.

``python -m bench.load --url http://127.0.0.1:8000 --path /api/method/ping --seconds 5 --clients 4``
prints one JSON object: requests, errors, rps, status counts, latency percentiles.

Each client is its own process (no GIL shared with the others or with the caller)
holding one ``http.client`` keep-alive connection, sending the next request as soon
as the last answer is read. ``--path`` may repeat (or ``--paths-file`` hold one per
line): each client cycles through them from its own starting point, so a doc GET
does not hit one row only. The clients start together and stop at the same
deadline; a dropped connection is reopened and counted under ``reconnects``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Job:
    host: str
    port: int
    paths: tuple[str, ...]
    headers: dict[str, str]
    seconds: float


def _client(job: Job, index: int, clients: int, ready: Any, results: Any) -> None:
    conn = http.client.HTTPConnection(job.host, job.port, timeout=30)
    paths = job.paths
    position = (index * len(paths)) // clients
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    reconnects = 0
    ready.wait()
    started = time.perf_counter()
    deadline = started + job.seconds
    now = started
    while now < deadline:
        path = paths[position % len(paths)]
        position += 1
        try:
            conn.request("GET", path, headers=job.headers)
            response = conn.getresponse()
            response.read()
        except (http.client.HTTPException, OSError):
            conn.close()  # the next request opens a new connection
            reconnects += 1
            now = time.perf_counter()
            continue
        if response.will_close:
            conn.close()
            reconnects += 1
        done = time.perf_counter()
        latencies.append(done - now)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        now = done
    conn.close()
    results.put({"statuses": statuses, "latencies": latencies, "seconds": now - started, "reconnects": reconnects})


def _percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run(url: str, paths: Sequence[str], seconds: float, clients: int,
        headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Load ``url`` + ``paths`` from ``clients`` processes for ``seconds``; the figures as a dict."""
    parts = urlsplit(url)
    job = Job(parts.hostname or "127.0.0.1", parts.port or 80, tuple(paths), dict(headers or {}), seconds)
    ctx = mp.get_context()
    ready, results = ctx.Barrier(clients + 1), ctx.Queue()
    procs = [ctx.Process(target=_client, args=(job, i, clients, ready, results), daemon=True)
             for i in range(clients)]
    for proc in procs:
        proc.start()
    ready.wait(timeout=60)
    parts_out = [results.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    statuses: dict[str, int] = {}
    for part in parts_out:
        for status, n in part["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + n
    requests = sum(statuses.values())
    elapsed = max(part["seconds"] for part in parts_out)
    latencies = sorted(x for part in parts_out for x in part["latencies"])
    return {
        "requests": requests,
        "errors": requests - statuses.get("200", 0),
        "seconds": round(elapsed, 3),
        "rps": round(requests / elapsed, 1) if elapsed else 0.0,
        "statuses": statuses,
        "reconnects": sum(part["reconnects"] for part in parts_out),
        "clients": clients,
        "latency_ms": {f"p{p}": round(_percentile(latencies, p) * 1e3, 3) for p in (50, 90, 99)},
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    p.add_argument("--path", action="append", default=[], help="a path to GET (repeatable)")
    p.add_argument("--paths-file", help="a file with one path per line")
    p.add_argument("--header", action="append", default=[], metavar="'Name: value'", help="a request header")
    p.add_argument("--seconds", type=float, default=5.0, help="how long to send requests (default 5)")
    p.add_argument("--clients", type=int, default=4, help="client processes, one connection each (default 4)")
    args = p.parse_args(argv)
    paths = list(args.path)
    if args.paths_file:
        with open(args.paths_file) as f:
            paths += [line.strip() for line in f if line.strip()]
    if not paths:
        p.error("give at least one --path or a --paths-file")
    if args.seconds <= 0 or args.clients < 1:
        p.error("--seconds and --clients must be positive")
    headers = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep:
            p.error(f"--header {header!r} is not 'Name: value'")
        headers[name.strip()] = value.strip()
    print(json.dumps(run(args.url, paths, args.seconds, args.clients, headers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

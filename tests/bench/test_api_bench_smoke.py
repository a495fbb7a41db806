"""The API throughput section works end to end for about a second per request kind (no figures asserted).

Runs ``python -m bench --sections api`` on SQLite (and on PostgreSQL too when
DOCFRAME_TEST_DB points at one): gunicorn serving ``bench.api_app:create_app()``,
``python -m bench.load`` sending the requests, the table printed and the JSON written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"bare", "bare_token", "get", "get_clerk", "get_uncached", "list"}


def test_api_section_serves_every_request_kind(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    cmd = [sys.executable, "-m", "bench", "--sections", "api", "--api-seconds", "1", "--api-customers", "60",
           "--api-clients", "2", "--repeats", "1", "--output", str(output)]
    backends = ["sqlite"]
    url = os.environ.get("DOCFRAME_TEST_DB")
    if url and make_url(url).get_backend_name() == "postgresql":
        cmd += ["--pg", url]
        backends.append("postgresql")
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    assert "API throughput (issue 4)" in proc.stdout
    for label in ("bare Flask route /bench/bare", "GET /api/resource/Customer/<name>", "the same as an Accounts User",
                  "document cache off",
                  "GET /api/resource/Customer?filters (20 rows)", "target: doc GET >= 0.5x bare"):
        assert label in proc.stdout
    assert "insert customer" not in proc.stdout  # only the selected section ran

    results = json.loads(output.read_text())
    assert results["args"]["sections"] == ["api"]
    assert sorted(results["backends"]) == sorted(backends)
    for backend in results["backends"].values():
        assert "operations" not in backend and "customer_master" not in backend
        section = backend["api"]
        assert set(section["targets"]) == TARGETS
        for target in section["targets"].values():
            # every request answered 200: the doc GET found its customers, the list its 20 rows
            assert target["requests"] > 0 and target["errors"] == 0 and target["rps"] > 0
            assert set(target["latency_ms"]) == {"p50", "p90", "p99"}
        assert set(section["ratios"]) == {f"{t}_vs_bare" for t in TARGETS - {"bare"}}
        assert isinstance(section["met"], bool) and section["settings"]["worker_class"] == "gthread"


def test_load_script_rejects_bad_arguments() -> None:
    proc = subprocess.run([sys.executable, "-m", "bench.load", "--url", "http://127.0.0.1:9"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "give at least one --path" in proc.stderr

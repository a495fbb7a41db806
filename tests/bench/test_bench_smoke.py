"""The benchmark runner works end to end on tiny sizes (not a timed test: no figures are asserted).

Runs ``python -m bench`` on SQLite (and on PostgreSQL too when DOCFRAME_TEST_DB points
at one), then checks the printed table and that the JSON has every figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ("insert", "get", "list", "list_selective")
SYSTEMS = ("docframe", "core", "django")
FIGURES = ("ops_per_s", "best_ms", "repeats_ms", "iterations")


def _pg_url() -> str | None:
    url = os.environ.get("DOCFRAME_TEST_DB")
    if url and make_url(url).get_backend_name() == "postgresql":
        return url
    return None


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, list[str]]:
    tmp = tmp_path_factory.mktemp("bench")
    output = tmp / "results.json"
    cmd = [sys.executable, "-m", "bench", "--rows", "1000", "--iterations", "10", "--repeats", "1",
           "--warmup", "2", "--customers", "8", "--api-seconds", "0",
           "--cache-dir", str(tmp / "cache"), "--output", str(output)]
    backends = ["sqlite"]
    if pg := _pg_url():
        cmd += ["--pg", pg]
        backends.append("postgresql")
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, json.loads(output.read_text()), backends


def test_prints_the_table_for_each_backend(bench_run: tuple[str, dict, list[str]]) -> None:
    stdout, _, backends = bench_run
    assert "docframe benchmark on SQLite" in stdout
    if "postgresql" in backends:
        assert "docframe benchmark on PostgreSQL" in stdout
    for heading in ("operation", "docframe/s", "Core/s", "Django/s", "df/Django", "df/Core time", "target", "met"):
        assert heading in stdout
    for label in ("insert customer", "get customer", "list 20, filter by currency", "list 20, filter by territory"):
        assert label in stdout
    assert "SQL statements per save" in stdout
    assert "independent of link fields and child rows:" in stdout


def test_json_has_every_figure(bench_run: tuple[str, dict, list[str]]) -> None:
    _, results, backends = bench_run
    assert set(results) >= {"generated", "versions", "args", "targets", "backends"}
    assert results["args"]["rows"] == 1000
    assert sorted(results["backends"]) == sorted(backends)
    for backend in results["backends"].values():
        assert backend["list_rows"] == 1000
        assert set(backend["operations"]) == set(OPERATIONS)
        for op in backend["operations"].values():
            for system in SYSTEMS:
                assert set(op[system]) == set(FIGURES)
                assert op[system]["ops_per_s"] > 0
            assert op["docframe_vs_django_throughput"] > 0
            assert op["docframe_vs_core_time"] > 0
            assert isinstance(op["met"], bool) and op["target"]
        statements = backend["statements"]
        assert isinstance(statements["independent"], bool)
        assert set(statements["docframe"]) == {f"links={n},rows={r}" for n in (1, 3) for r in (1, 3, 10)}
        for counts in statements["docframe"].values():
            assert set(counts) == {"insert, new name", "insert, duplicate name", "update"}
            assert all(c["count"] > 0 for c in counts.values())
        for system in ("core", "django"):
            assert statements[system]["links=3,rows=3"]["insert, new name"]["count"] > 0


def test_customer_master_section(bench_run: tuple[str, dict, list[str]]) -> None:
    """Issue 3: customers through the bundled app's full pipeline against Django, with statements per save."""
    stdout, results, _ = bench_run
    assert "Customer master (issue 3)" in stdout
    assert "insert Customer (full pipeline)" in stdout
    assert "SQL statements per customer save" in stdout
    assert results["args"]["customers"] == 8
    for backend in results["backends"].values():
        section = backend["customer_master"]
        for system in ("docframe", "django"):
            assert set(section[system]) == set(FIGURES)
            assert section[system]["ops_per_s"] > 0 and section[system]["iterations"] == 8
            for case in ("insert, new name", "insert, duplicate name"):
                counts = section["statements"][system][case]
                assert counts["count"] > 0 and counts["by_kind"]["INSERT"] >= 5  # customer, 3 rows, account, version
        assert section["docframe_vs_django_throughput"] > 0
        assert isinstance(section["met"], bool) and section["target"]

"""The import benchmark runs end to end on a tiny file (no figures are asserted: not a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_import_against_core_and_django(tmp_path: Path):
    output = tmp_path / "import.json"
    done = subprocess.run([sys.executable, "-m", "bench.importing", "--customers", "200", "--output", str(output)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert "200 create" in figures["docframe"]["summary"]  # every row imported, duplicates suffixed
    assert figures["core"]["rows"]["Account"] == 200 and figures["django"]["rows_per_s"] > 0

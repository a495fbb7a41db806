"""The desk benchmark runs end to end on a tiny data set (no figures are asserted: not a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_desk_pages_against_django_admin(tmp_path: Path):
    output = tmp_path / "desk.json"
    cmd = [sys.executable, "-m", "bench.desk", "--customers", "200", "--iterations", "3", "--repeats", "1",
           "--warmup", "1", "--cache-dir", str(tmp_path / "cache"), "--output", str(output)]
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Desk vs Django admin (200 customers" in done.stdout
    figures = json.loads(output.read_text())
    for page in ("list", "form"):
        assert set(figures[page]) == {"docframe", "django", "ratio"}
        assert figures[page]["docframe"]["iterations"] == 3 and figures[page]["ratio"] > 0

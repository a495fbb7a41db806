"""The receivables benchmark runs end to end, tiny (no figures are asserted: not a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_submit_invoices_and_reports_over_a_ledger(tmp_path: Path):
    output = tmp_path / "receivables.json"
    done = subprocess.run([sys.executable, "-m", "bench.receivables", "--invoices", "20", "--gl", "2000",
                           "--output", str(output)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert figures["submit"]["invoices"] == 20 and figures["submit"]["statements_per_invoice"] > 0
    assert figures["reports"]["Balance Report"]["rows"] >= 2  # at least the customer's lines and the closing row
    assert figures["reports"]["Accounts Receivable"]["rows"] > 0

"""The browser's port of the condition language agrees with the server's on the same cases.

Runs engine/web/static/expressions.js in Node.js (skipped without node, except in CI).
Values are what a form holds: text, numbers, 0/1 for checks, null for empty.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.metadata.expressions import ExpressionError, compile_expression

SCRIPT = Path(__file__).resolve().parents[2] / "engine" / "web" / "static" / "expressions.js"
DOC = {"customer_type": "Individual", "qty": 3, "rate": 2.5, "flag": 1, "off": 0, "empty": None, "name": "",
       "tags": "a,b", "city": "Paris"}
USER = {"name": "jane@example.com"}
CASES = [
    "customer_type == 'Individual'", "customer_type != 'Company'", "qty > 2", "qty >= 3.0", "rate < 2",
    "qty > 2 and rate < 3", "off or flag", "not off", "not (qty == 3)", "empty == null", "empty > 1",
    "qty in [1, 2, 3]", "customer_type not in ['Company', 'Trade']", "'ar' in city", "'x' in qty",
    "doc.qty == 3", "user.name == 'jane@example.com'", "missing", "not missing", "-qty < 0", "-city == null",
    "flag == true", "off == false", "qty == '3'", "[1, 2] == [1, 2]", "name", "eval: qty == 3",
    "city > 'Lyon'", "(qty > 1 or off) and not empty", "qty < 'a'",
]
BROKEN = ["qty ==", "a < b < c", "(qty", "__class__ == 1", "1abc == 2", "'unterminated"]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed to test the browser's expression language")
        pytest.skip("node is not installed")
    return node


def _run_js(sources: list[str]) -> list[object]:
    program = f"""
const e = require({json.dumps(str(SCRIPT))});
const out = {json.dumps(sources)}.map(s => {{
  try {{ return e.check(s, {json.dumps(DOC)}, {json.dumps(USER)}); }}
  catch (err) {{ return "error"; }}
}});
console.log(JSON.stringify(out));
"""
    done = subprocess.run([_node(), "-e", program], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_the_browser_and_the_server_agree():
    expected = [compile_expression(s).evaluate(DOC, USER) for s in CASES]
    assert dict(zip(CASES, _run_js(CASES), strict=True)) == dict(zip(CASES, expected, strict=True))


def test_both_refuse_the_same_broken_expressions():
    for source in BROKEN:
        with pytest.raises(ExpressionError):
            compile_expression(source)
    assert _run_js(BROKEN) == ["error"] * len(BROKEN)

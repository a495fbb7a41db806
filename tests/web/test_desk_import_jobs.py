"""A large import through the desk runs as a background job: its page shows the progress, then the result."""

from __future__ import annotations

import io
import re
import threading
from html import unescape

import pytest

from engine import hookimpl
from engine.site import jobs
from tests.web.conftest import WebEnv
from tests.web.test_desk import _sales_user, token


def _post(web: WebEnv, body: bytes, action: str = "import", **fields: str):
    return web.client.post("/app/customer/-/import", content_type="multipart/form-data", data={
        "csrf_token": token(web.client), "action": action, "mode": "insert",
        "file": (io.BytesIO(body), "big.csv"), **fields})


class Gate:
    """Holds the import at one customer until the test lets it go on."""

    def __init__(self, name: str):
        self.name, self.reached, self.go = name, threading.Event(), threading.Event()

    @hookimpl
    def validate(self, doc, ctx) -> None:
        if doc.customer_name == self.name:
            self.reached.set()
            assert self.go.wait(60), "the test never let the import go on"


def test_a_large_import_runs_in_the_background_with_its_progress_then_its_result(
        web: WebEnv, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(jobs, "REPORT_EVERY", 0.0)
    web.app.config["DESK_IMPORT_BACKGROUND_ROWS"] = 100
    lines = ["Customer Name,Customer Group"] + [f"Bulk {i:04d}," for i in range(1200)] + ["Broken,Nope"]
    gate = Gate("Bulk 0700")  # in the second batch of 500
    web.site.hooks.register("Customer", gate)
    try:
        queued = _post(web, ("\n".join(lines) + "\n").encode())
        assert queued.status_code == 303, queued.text
        location = queued.headers["Location"]
        assert re.fullmatch(r"/app/customer/-/import/IMP-\d{4}-\d{5}", location)
        assert gate.reached.wait(60)
        running = web.client.get(location)
        text = unescape(running.text)
        assert running.status_code == 200 and 'http-equiv="refresh"' in running.text
        status = re.search(r"class=\"job-status.*?</p>", text, re.S).group(0)
        assert "Running: 500 of about 1,201 rows" in status and "rows/s" in status and "<progress" in text, status
        with web.site.session() as s:
            assert s.get_value("Import Job", location.rsplit("/", 1)[1], "status") == "Running"
        gate.go.set()
        web.site.jobs.wait(120)
    finally:
        gate.go.set()
        web.site.hooks.unregister(gate)
    done = web.client.get(location)
    text = " ".join(unescape(done.text).split())
    assert 'http-equiv="refresh"' not in done.text and "Imported big.csv" in text
    assert "1201 document(s) from 1201 row(s): 1200 create, 0 update, 0 unchanged, 1 error" in text
    assert "Customer Name → Customer Name" in text and "Customer Group → Customer Group" in text
    cells = re.findall(r"<td>([^<]*)</td>", done.text)
    assert cells[:3] == ["2", "create", "Bulk 0000"]
    assert "1202" in cells and "error" in cells  # the failed row is listed though it comes after the first 200
    assert "1000 more row(s) not listed" in text
    errors = web.client.get(location + "/errors.csv")
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    assert errors.text.splitlines()[0] == "Customer Name,Customer Group,Row,Column,Message"
    assert errors.text.splitlines()[1].startswith("Broken,Nope,1202,Customer Group,")
    with web.site.session() as s:
        assert s.get_count("Customer") == 1200
        job = s.get_doc("Import Job", location.rsplit("/", 1)[1])
        assert (job.status, job.created, job.failed_rows, job.rows_done, job.owner) == \
            ("Done", 1200, 1, 1201, "Administrator")
    # the job is its owner's (or a System Manager's): another user gets neither the page nor the file
    clerk = _sales_user(web, "clerk-jobs@example.com")
    assert clerk.get(location).status_code == 403 and clerk.get(location + "/errors.csv").status_code == 403
    assert web.client.get("/app/contact/-/import/" + location.rsplit("/", 1)[1]).status_code == 404


def test_a_background_dry_run_writes_nothing_and_a_broken_file_fails_the_job(web: WebEnv):
    web.app.config["DESK_IMPORT_BACKGROUND_ROWS"] = 2
    body = b"Customer Name\nAcme\nAcme\nGlobex\n"
    queued = _post(web, body, action="dry_run")
    assert queued.status_code == 303
    web.site.jobs.wait(60)
    page = " ".join(unescape(web.client.get(queued.headers["Location"]).text).split())
    assert "Dry run of big.csv" in page and "3 create" in page
    assert re.search(r"<td>3</td><td>create</td><td>Acme-1</td><td>possible duplicate", page), page[-2000:]
    with web.site.session() as s:
        assert s.get_count("Customer") == 0
    web.app.config["DESK_IMPORT_BACKGROUND_ROWS"] = 0  # a file whose rows cannot be counted goes too
    broken = web.client.post("/app/customer/-/import", content_type="multipart/form-data", data={
        "csrf_token": token(web.client), "action": "import", "mode": "insert",
        "file": (io.BytesIO(b"PK\x03\x04 not really a workbook\n\n\n\n"), "book.xlsx")})
    assert broken.status_code == 303
    web.site.jobs.wait(60)
    failed = web.client.get(broken.headers["Location"])
    assert "The import failed: book.xlsx: this is not an XLSX spreadsheet" in unescape(failed.text)
    with web.site.session() as s:
        job = s.get_doc("Import Job", broken.headers["Location"].rsplit("/", 1)[1])
        assert job.status == "Failed" and job.message and s.get_count("Customer") == 0

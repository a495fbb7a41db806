"""Background imports on the Redis queue: queued by the CLI, run by `docframe worker` processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import Site
from engine.site import jobs
from engine.site.session import Session
from tests.customer.test_import import write_csv

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("DOCFRAME_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def queue_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A queue of this test's own on the machine's Redis, and a files folder shared by every process."""
    env = {"DOCFRAME_QUEUE_URL": REDIS, "DOCFRAME_QUEUE_NAME": f"dftest-{uuid.uuid4().hex[:10]}",
           "DOCFRAME_FILES_DIR": str(tmp_path / "files")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **env}


def _cli(site: Site) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "--db", site.engine.url.render_as_string(hide_password=False),
            "--app", str(REPO_ROOT)]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)


def test_cli_queues_an_import_that_a_worker_runs(cm: Session, cm_site: Site, tmp_path: Path,
                                                 queue_env: dict[str, str]):
    cm.insert("Company", company_name="Docframe Inc", abbr="DI", default_currency="USD")
    path = write_csv(tmp_path / "customers.csv", [["Customer Name", "Company"]] +
                     [[f"Queued {i}", "Docframe Inc"] for i in range(30)] + [["Broken", "No Such Company"]])
    cli = _cli(cm_site)
    queued = _run([*cli, "import", "Customer", str(path), "--background"], queue_env)
    assert queued.returncode == 0, queued.stderr
    name = re.search(r"Queued Import Job (IMP-\d{4}-\d{5}) \(31 rows\) on redis:dftest-", queued.stdout).group(1)
    listed = _run([*cli, "jobs"], queue_env)
    assert re.search(rf"{name}\s+Customer\s+customers.csv\s+Administrator\s+Queued 0/31 rows", listed.stdout), \
        listed.stdout
    assert cm.get_count("Customer") == 0  # nothing runs until a worker takes the job
    worker = _run([*cli, "worker", "--burst"], queue_env)
    assert worker.returncode == 0, worker.stderr[-2000:]
    job = cm.get_doc("Import Job", name)
    assert (job.status, job.created, job.failed_rows, job.rows_done) == ("Done", 30, 1, 31)
    assert cm.get_count("Customer") == 30 and cm.exists("Account", "Queued 7 - DI")  # the hooks ran
    errors = (tmp_path / "files" / job.errors_file).read_text("utf-8").splitlines()
    assert errors[1].startswith("Broken,No Such Company,32,Company,")
    listed = _run([*cli, "jobs"], queue_env)
    assert "Done: 30 created, 0 updated, 0 unchanged, 1 failed" in listed.stdout
    # delivered again (a worker restarted mid-way, say), the job does not run twice
    site = Site(cm_site.engine.url.render_as_string(hide_password=False), REPO_ROOT)
    try:
        assert jobs.run_job(site, name) == "Done"
        assert isinstance(site.jobs, jobs.RedisQueue) and jobs.progress(site, job).state == "finished"
    finally:
        site.dispose()
    assert cm.get_count("Customer") == 30


def test_a_worker_of_another_site_refuses_the_job(cm: Session, cm_site: Site, tmp_path: Path,
                                                  queue_env: dict[str, str], new_database: Callable[[], str]):
    path = write_csv(tmp_path / "c.csv", [["Customer Name"], ["Elsewhere"]])
    site = Site(cm_site.engine.url.render_as_string(hide_password=False), REPO_ROOT)
    try:
        name = jobs.queue_import(site, "Administrator", "Customer", path, "c.csv")
        other = new_database()
        base = [sys.executable, "-m", "engine.cli", "--db", other, "--app", str(REPO_ROOT)]
        assert _run([*base, "migrate", "--admin-password", "pw"], queue_env).returncode == 0
        assert _run([*base, "worker", "--burst"], queue_env).returncode == 0
        job = cm.get_doc("Import Job", name)
        found = jobs.progress(site, job)
        assert job.status == "Queued" and found.state == "failed"
        assert "queued on another site" in (found.error or "") and cm.get_count("Customer") == 0
        listed = _run([*_cli(cm_site), "jobs"], queue_env)
        assert "the worker stopped it: RuntimeError: Import Job" in listed.stdout
    finally:
        site.dispose()


def test_background_needs_a_queue_that_outlives_the_command(cm: Session, cm_site: Site, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DOCFRAME_QUEUE_URL", raising=False)
    path = write_csv(tmp_path / "c.csv", [["Customer Name"], ["Acme"]])
    env = {k: v for k, v in os.environ.items() if k != "DOCFRAME_QUEUE_URL"}
    done = _run([*_cli(cm_site), "import", "Customer", str(path), "--background"], env)
    assert done.returncode != 0 and "--background needs a job queue" in done.stderr
    worker = _run([*_cli(cm_site), "worker", "--burst"], env)
    assert worker.returncode == 1 and "no job queue is configured" in worker.stderr
    assert cm.get_count("Import Job") == 0


def test_an_unreachable_queue_fails_the_job_with_a_clear_error(cm: Session, cm_site: Site, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOCFRAME_QUEUE_URL", "redis://127.0.0.1:1/0")
    path = write_csv(tmp_path / "c.csv", [["Customer Name"], ["Acme"]])
    site = Site(cm_site.engine.url.render_as_string(hide_password=False), REPO_ROOT, files_dir=tmp_path / "f")
    try:
        with pytest.raises(jobs.ServiceUnavailableError, match=r"the job queue at redis://127\.0\.0\.1:1/0"):
            jobs.queue_import(site, "Administrator", "Customer", path, "c.csv")
    finally:
        site.dispose()
    (job,) = cm.get_list("Import Job", fields=["status", "message"])
    assert job["status"] == "Failed" and "cannot be reached" in job["message"]

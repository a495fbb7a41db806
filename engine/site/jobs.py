"""Imports in the background: an Import Job record, the queue that runs it, and its progress.

:func:`queue_import` (the web page for large files, ``docframe import --background``)
copies the file into the site's files folder and commits an Import Job (status Queued);
the site's queue then calls :func:`run_job`, which imports exactly as in the foreground:
the same :class:`~engine.site.importer.Importer`, as the user who queued the job, with
their permissions and every hook. At the end the job holds the counts, the column
mapping, the first rows' outcomes and the file of the failed rows (status Done), or the
reason it could not run (status Failed). A job runs once: a queue that delivers it again
finds it no longer Queued.

Two queues, chosen by ``DOCFRAME_QUEUE_URL`` (or ``Site(queue_url=...)``):

- unset: :class:`InProcessQueue`, one worker thread in the process that queued the job
  (the web server); its progress is known to that process.
- ``redis://host:6379/0``: :class:`RedisQueue`, an RQ queue (``DOCFRAME_QUEUE_NAME``,
  default ``docframe``) that any number of ``docframe worker`` processes share; progress
  is kept with the RQ job in Redis, so every web worker shows it. Workers need the same
  database and files folder (``DOCFRAME_FILES_DIR``) as the web server.

Progress is not written to the database while an import runs: a dry run or an
all-or-nothing import is one open transaction, and on SQLite a second writer would wait
for it to end.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from engine.errors import DocframeError, ServiceUnavailableError
from engine.metadata.app import App
from engine.site.importer import Importer, RowResult
from engine.site.session import Session
from engine.site.tabular import estimate_rows

JOB_DOCTYPE = "Import Job"
DEFAULT_QUEUE = "docframe"
SHOWN_ROWS = 200  # row outcomes kept on the job for its page
NOTED_ROWS = 1_000  # and rows with errors or notes beyond those
JOB_TIMEOUT = 12 * 3600  # seconds an RQ worker lets one import run
REPORT_EVERY = 0.5  # seconds between progress reports
log = logging.getLogger(__name__)

Report = Callable[["Progress"], None]


@dataclass(frozen=True)
class Progress:
    """Where a job is, as its queue knows it."""

    state: str  # queued, running, finished, failed, unknown (the queue does not know the job)
    rows_done: int = 0
    rows_total: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.rows_done / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far (None before the first rows)."""
        if not self.rate or self.rows_total <= self.rows_done:
            return None
        return (self.rows_total - self.rows_done) / self.rate

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.rows_done / self.rows_total)) if self.rows_total else 0


class Site(Protocol):
    """What jobs need of a :class:`~engine.site.site.Site` (which builds its queue from this module)."""

    app: App
    engine: sa.Engine
    files_dir: Path
    jobs: JobQueue

    def session(self, user: str = ..., *, conn: sa.Connection | None = None, **flags: Any) -> Session: ...


class JobQueue(Protocol):
    label: str

    def enqueue(self, job: str, queue_job: str) -> None: ...

    def progress(self, queue_job: str) -> Progress: ...

    def close(self) -> None: ...


def make_queue(site: Site, url: str | None, name: str | None) -> JobQueue:
    return RedisQueue(url, name or DEFAULT_QUEUE, site_key(site)) if url else InProcessQueue(site)


def site_key(site: Site) -> str:
    """A short fingerprint of the site's database and app: a worker refuses jobs of another site."""
    url = site.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(f"{url}|{site.app.root}".encode()).hexdigest()[:12]


# ------------------------------------------------------------------ queueing

def queue_import(site: Site, user: str, doctype: str, source: Path | str, file_name: str, *,
                 mode: str = "insert", key: str | None = None, dry_run: bool = False,
                 all_or_nothing: bool = False, replace_children: bool = False) -> str:
    """Queue an import of ``source`` (copied into the files folder) as ``user``; the job's name.

    The options and the user's import permission are checked now, so a job that cannot
    run is refused here rather than failing later in a worker.
    """
    with site.session(user) as s:
        Importer(s, doctype, mode=mode, key=key, dry_run=dry_run, all_or_nothing=all_or_nothing,
                 replace_children=replace_children)
    source = Path(source)
    queue_job = f"docframe-{site_key(site)}-{uuid.uuid4().hex[:12]}"
    with site.session(user, ignore_permissions=True) as s, s.atomic():
        job = s.insert(JOB_DOCTYPE, {
            "reference_doctype": doctype, "file_name": file_name, "mode": mode, "upsert_key": key or "",
            "dry_run": int(dry_run), "all_or_nothing": int(all_or_nothing), "replace_children": int(replace_children),
            "queue": site.jobs.label, "queue_job": queue_job, "rows_total": estimate_rows(source)})
        stored = Path("import") / str(job.name) / _safe_name(file_name)
        (site.files_dir / stored).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, site.files_dir / stored)
        job.stored_file = stored.as_posix()
        job.save()
    try:
        site.jobs.enqueue(str(job.name), queue_job)
    except DocframeError as exc:
        _finish(site, str(job.name), {"status": "Failed", "message": exc.message})
        raise
    return str(job.name)


def _safe_name(file_name: str) -> str:
    """The upload's own name (messages about the file name it), reduced to a safe file name."""
    path = Path(file_name.replace("\\", "/")).name
    stem = re.sub(r"[^\w.-]+", "_", Path(path).stem).strip("._") or "upload"
    suffix = re.sub(r"[^\w.]+", "", Path(path).suffix.lower()) or ".csv"
    return stem[:80] + suffix


def progress(site: Site, job: Any) -> Progress:
    """A job's progress: its queue's, or once it has ended, what the record says."""
    if job.status in ("Done", "Failed"):
        return Progress("finished" if job.status == "Done" else "failed", job.rows_done or 0,
                        job.rows_done or 0, job.seconds or 0.0, job.message or None)
    if job.queue != site.jobs.label:
        return Progress("unknown", rows_total=job.rows_total or 0)
    found = site.jobs.progress(job.queue_job)
    return replace(found, rows_total=found.rows_total or job.rows_total or 0)


# ------------------------------------------------------------------ running

def run_job(site: Site, name: str, report: Report | None = None) -> str:
    """Run the Import Job ``name`` if it is still Queued; its final status."""
    with site.session(ignore_permissions=True) as s, s.atomic():
        job = s.get_doc(JOB_DOCTYPE, name, for_update=True)
        if job.status != "Queued":
            return str(job.status)
        job.status, job.started = "Running", s.now()
        job.save()
    rows = _Rows()
    started = time.perf_counter()
    reporter = _Reporter(report, job.rows_total or 0, started)
    folder = site.files_dir / "import" / name
    errors_path = folder / "errors.csv"
    try:
        with site.session(job.owner, importing=True) as s:
            importer = Importer(s, job.reference_doctype, mode=job.mode, key=job.upsert_key or None,
                                dry_run=bool(job.dry_run), all_or_nothing=bool(job.all_or_nothing),
                                replace_children=bool(job.replace_children), on_row=rows.add,
                                on_progress=reporter.add)
            summary = importer.run(site.files_dir / job.stored_file, errors_path)
    except DocframeError as exc:
        outcome: dict[str, Any] = {"status": "Failed", "message": exc.message}
    except Exception as exc:  # a bug or a lost database: recorded on the job, logged in full
        log.exception("Import Job %s failed", name)
        outcome = {"status": "Failed", "message": f"the import stopped: {type(exc).__name__}: {exc}"}
    else:
        has_errors = summary.counts["error"] > 0 and errors_path.exists()
        outcome = {
            "status": "Done", "rows_done": summary.rows, "rows_total": summary.rows,
            "created": summary.counts["create"], "updated": summary.counts["update"],
            "unchanged": summary.counts["unchanged"], "failed_rows": summary.counts["error"],
            "rolled_back": int(summary.rolled_back), "message": "",
            "errors_file": (Path("import") / name / "errors.csv").as_posix() if has_errors else "",
            "results": {"columns": summary.columns, "unknown_columns": summary.unknown_columns,
                        "rows": rows.kept, "more_rows": rows.left_out}}
    outcome["seconds"] = round(time.perf_counter() - started, 3)
    return _finish(site, name, outcome)


def _finish(site: Site, name: str, outcome: dict[str, Any]) -> str:
    with site.session(ignore_permissions=True) as s, s.atomic():
        job = s.get_doc(JOB_DOCTYPE, name, for_update=True)
        job.update({**outcome, "finished": s.now()})
        job.save()
    return str(outcome["status"])


class _Rows:
    """The outcomes kept for the job's page: the first rows, and rows with errors or notes."""

    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []
        self.left_out = 0
        self._noted = 0

    def add(self, r: RowResult) -> None:
        noted = r.action == "error" or bool(r.messages)
        room = self._noted < NOTED_ROWS if noted else len(self.kept) - self._noted < SHOWN_ROWS
        if room:
            self._noted += noted
            self.kept.append({"line": r.line, "action": r.action, "name": r.name, "messages": r.messages})
        else:
            self.left_out += 1


class _Reporter:
    """Adds up the rows read and hands a Progress to the queue at most every REPORT_EVERY seconds."""

    def __init__(self, report: Report | None, total: int, started: float):
        self.report, self.total, self.started = report, total, started
        self.done, self._last = 0, 0.0

    def add(self, rows: int) -> None:
        self.done += rows
        now = time.perf_counter()
        if self.report is not None and now - self._last >= REPORT_EVERY:
            self._last = now
            self.report(Progress("running", self.done, max(self.total, self.done), now - self.started))


# ------------------------------------------------------------------ the queues

class InProcessQueue:
    """Jobs run one at a time on a thread of this process (the default: no server to set up)."""

    label = "in-process"

    def __init__(self, site: Site):
        self.site = site
        self._lock = threading.Lock()
        self._progress: dict[str, Progress] = {}  # jobs queued or running here
        self._executor: ThreadPoolExecutor | None = None
        self._futures: list[Future[str]] = []

    def enqueue(self, job: str, queue_job: str) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docframe-import")
            self._progress[queue_job] = Progress("queued")
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(self._executor.submit(self._run, job, queue_job))

    def _run(self, job: str, queue_job: str) -> str:
        def report(p: Progress) -> None:
            with self._lock:
                self._progress[queue_job] = p

        report(Progress("running"))
        try:
            return run_job(self.site, job, report)
        except Exception:
            log.exception("Import Job %s could not be recorded", job)
            raise
        finally:
            with self._lock:
                self._progress.pop(queue_job, None)

    def progress(self, queue_job: str) -> Progress:
        with self._lock:
            return self._progress.get(queue_job, Progress("unknown"))

    def wait(self, timeout: float | None = None) -> None:
        """Until every job queued so far has ended (tests, and a clean shutdown)."""
        with self._lock:
            futures = list(self._futures)
        for f in futures:
            f.exception(timeout)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


class RedisQueue:
    """An RQ queue on Redis: ``docframe worker`` processes (any number, any host) run the jobs."""

    def __init__(self, url: str, name: str, site: str):
        self.url, self.name, self.site = url, name, site
        self.label = f"redis:{name}"

    @cached_property
    def connection(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)

    @cached_property
    def queue(self) -> Any:
        import rq

        return rq.Queue(self.name, connection=self.connection)

    def enqueue(self, job: str, queue_job: str) -> None:
        import redis

        try:
            self.queue.enqueue("engine.site.worker.perform", job, self.site, job_id=queue_job,
                               job_timeout=JOB_TIMEOUT, result_ttl=7 * 86400, failure_ttl=30 * 86400,
                               description=f"Import Job {job}")
        except redis.exceptions.RedisError as exc:
            raise ServiceUnavailableError(f"the job queue at {self.url} cannot be reached ({exc}); "
                                          "try again, or unset DOCFRAME_QUEUE_URL to import in-process") from None

    def progress(self, queue_job: str) -> Progress:
        import redis
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            rq_job = Job.fetch(queue_job, connection=self.connection)
            status = str(rq_job.get_status(refresh=False).value)
        except (NoSuchJobError, redis.exceptions.RedisError):
            return Progress("unknown")
        meta = rq_job.meta or {}
        state = {"queued": "queued", "deferred": "queued", "scheduled": "queued", "started": "running",
                 "finished": "finished"}.get(status, "failed")
        error = None
        if state == "failed":
            result = rq_job.latest_result()
            lines = (result.exc_string or "").strip().splitlines() if result is not None else []
            error = lines[-1] if lines else f"the worker ended the job ({status})"
        return Progress(state, int(meta.get("rows_done", 0)), int(meta.get("rows_total", 0)),
                        float(meta.get("seconds", 0.0)), error)

    def close(self) -> None:
        if "connection" in self.__dict__:
            self.connection.close()

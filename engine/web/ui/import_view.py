"""The import page of a doctype: upload a CSV or XLSX, see the column mapping and a dry run, then import.

Runs :class:`engine.site.importer.Importer` with the request's Session (the import
permission and every hook apply). A file of more than ``DESK_IMPORT_BACKGROUND_ROWS``
rows (dry run or import) becomes an Import Job on the site's queue
(:mod:`engine.site.jobs`) and the browser goes to the job's page, which shows its
progress until it ends, then the same result as a small file gets at once. The upload
of a small file is kept only for the request; its error file comes back inside the page
as a download, so any worker can serve the next step.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage

from engine.documents.document import Document
from engine.errors import DocframeError, DoesNotExistError, PermissionError
from engine.metadata.doctype import DocType
from engine.rules.permissions import has_permission
from engine.site import jobs
from engine.site.importer import MODES, Importer, ImportSummary
from engine.site.session import Session
from engine.site.tabular import estimate_rows

SHOWN_ROWS = 200
MAX_UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


@dataclass
class ImportResult:
    """What an import did (or a dry run would do), for the page: from a summary or from a job."""

    heading: str
    documents: int
    file_rows: int
    counts: dict[str, int]
    columns: list[tuple[str, str]]  # (the file's column, the field it fills)
    unknown_columns: list[str]
    rows: list[dict[str, Any]]  # line, action, name, messages
    more_rows: int = 0
    errors_href: str | None = None


@dataclass
class ImportPage:
    meta: DocType
    slug: str
    modes: tuple[str, ...] = MODES
    mode: str = "insert"
    key: str = ""
    all_or_nothing: bool = False
    result: ImportResult | None = None
    error: str | None = None
    job: str | None = None  # queued in the background: the browser goes to its page


@dataclass
class JobPage:
    meta: DocType
    slug: str
    job: Document
    progress: jobs.Progress
    result: ImportResult | None = None
    running: bool = field(init=False)

    def __post_init__(self) -> None:
        self.running = self.job.status in ("Queued", "Running") and self.progress.state in ("queued", "running")


def page(meta: DocType, slug: str) -> ImportPage:
    return ImportPage(meta, slug)


def run(session: Session, meta: DocType, slug: str, upload: FileStorage | None, mode: str, key: str,
        all_or_nothing: bool, dry_run: bool, background_rows: int) -> ImportPage:
    if not has_permission(session, meta.name, "import"):
        raise PermissionError(f"User {session.user!r} has no permission to import {meta.name}")
    result = ImportPage(meta, slug, mode=mode, key=key, all_or_nothing=all_or_nothing)
    if upload is None or not upload.filename:
        result.error = "Choose a CSV or XLSX file to import."
        return result
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in MAX_UPLOAD_SUFFIXES:
        result.error = f"{upload.filename}: use a .csv or .xlsx file"
        return result
    with tempfile.TemporaryDirectory(prefix="docframe-import-") as folder:
        path = Path(folder) / f"upload{suffix}"
        upload.save(path)
        errors_path = Path(folder) / "errors.csv"
        try:
            if estimate_rows(path) > background_rows:
                result.job = jobs.queue_import(session.site, session.user, meta.name, path, upload.filename,  # type: ignore[arg-type]
                                               mode=mode, key=key or None, dry_run=dry_run,
                                               all_or_nothing=all_or_nothing)
                return result
            rows: list[dict[str, Any]] = []
            importer = Importer(session, meta.name, mode=mode, key=key or None, dry_run=dry_run,
                                all_or_nothing=all_or_nothing,
                                on_row=lambda r: rows.append(vars(r)) if len(rows) < SHOWN_ROWS else None)
            summary = importer.run(path, errors_path)
        except DocframeError as exc:
            result.error = exc.message
            return result
        errors_href = None
        if summary.counts["error"] and errors_path.exists():
            errors_href = "data:text/csv;base64," + base64.b64encode(errors_path.read_bytes()).decode("ascii")
        result.result = _from_summary(summary, upload.filename, rows, errors_href)
    return result


def _heading(dry_run: bool, rolled_back: bool, file_name: str) -> str:
    return ("Dry run of " if dry_run else ("Nothing written from " if rolled_back else "Imported ")) + file_name


def _from_summary(summary: ImportSummary, file_name: str, rows: list[dict[str, Any]],
                  errors_href: str | None) -> ImportResult:
    return ImportResult(_heading(summary.dry_run, summary.rolled_back, file_name), summary.documents, summary.rows,
                        dict(summary.counts), summary.columns, summary.unknown_columns, rows,
                        max(0, summary.documents - len(rows)), errors_href)


def job_page(session: Session, meta: DocType, slug: str, name: str) -> JobPage:
    """A job of this doctype that the user queued (or may read as a System Manager)."""
    job = readable_job(session, meta, name)
    page = JobPage(meta, slug, job, jobs.progress(session.site, job))
    if job.status == "Done":
        kept = job.results or {}
        counts = {"create": job.created or 0, "update": job.updated or 0, "unchanged": job.unchanged or 0,
                  "error": job.failed_rows or 0}
        href = f"/app/{slug}/-/import/{name}/errors.csv" if job.errors_file else None
        page.result = ImportResult(_heading(bool(job.dry_run), bool(job.rolled_back), job.file_name),
                                   sum(counts.values()), job.rows_done or 0, counts,
                                   [tuple(c) for c in kept.get("columns", [])],  # type: ignore[misc]
                                   kept.get("unknown_columns", []), kept.get("rows", []),
                                   kept.get("more_rows", 0), href)
    return page


def readable_job(session: Session, meta: DocType, name: str) -> Document:
    with session.site.session(ignore_permissions=True) as s:
        job = s.get_doc(jobs.JOB_DOCTYPE, name) if s.exists(jobs.JOB_DOCTYPE, name) else None
    if job is None or job.reference_doctype != meta.name:
        raise DoesNotExistError(f"{meta.name} has no Import Job {name!r}")
    if job.owner != session.user and not has_permission(session, jobs.JOB_DOCTYPE, "read"):
        raise PermissionError(f"Import Job {name} was queued by another user")
    return job


def errors_file(session: Session, meta: DocType, name: str) -> Path:
    job = readable_job(session, meta, name)
    path = session.site.files_dir / job.errors_file if job.errors_file else None
    if path is None or not path.is_file():
        raise DoesNotExistError(f"Import Job {name} has no file of failed rows")
    return path

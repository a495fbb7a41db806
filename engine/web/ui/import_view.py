"""The import page of a doctype: upload a CSV or XLSX, see the column mapping and a dry run, then import.

Runs :class:`engine.site.importer.Importer` with the request's Session (the import
permission and every hook apply). The upload is kept only for the request; the error
file comes back inside the page as a download, so any worker can serve the next step.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.datastructures import FileStorage

from engine.errors import DocframeError, PermissionError
from engine.metadata.doctype import DocType
from engine.rules.permissions import has_permission
from engine.site.importer import MODES, Importer, ImportSummary, RowResult, map_columns
from engine.site.session import Session
from engine.site.tabular import open_table

SHOWN_ROWS = 200
MAX_UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


@dataclass
class ImportPage:
    meta: DocType
    slug: str
    modes: tuple[str, ...] = MODES
    mode: str = "insert"
    key: str = ""
    all_or_nothing: bool = False
    filename: str | None = None
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (column, field label)
    summary: ImportSummary | None = None
    rows: list[RowResult] = field(default_factory=list)
    error: str | None = None
    errors_csv: str | None = None  # base64 of the error file, for a download link


def page(meta: DocType, slug: str) -> ImportPage:
    return ImportPage(meta, slug)


def run(session: Session, meta: DocType, slug: str, upload: FileStorage | None, mode: str, key: str,
        all_or_nothing: bool, dry_run: bool) -> ImportPage:
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
    result.filename = upload.filename
    with tempfile.TemporaryDirectory(prefix="docframe-import-") as folder:
        path = Path(folder) / f"upload{suffix}"
        upload.save(path)
        errors_path = Path(folder) / "errors.csv"
        try:
            table = open_table(path)
            child_metas = {f.options: session.site.get_meta(f.options) for f in meta.table_fields}
            columns, _ = map_columns(meta, child_metas, table.header)  # type: ignore[arg-type]
            if table.close is not None:
                table.close()
            result.mapping = [(c.header, (f"{meta.label_of(c.table)}: " if c.table else "") +
                               (child_metas[meta.fields_by_name[c.table].options].label_of(c.field)  # type: ignore[index]
                                if c.table else meta.label_of(c.field))) for c in columns]
            importer = Importer(session, meta.name, mode=mode, key=key or None, dry_run=dry_run,
                                all_or_nothing=all_or_nothing,
                                on_row=lambda r: result.rows.append(r) if len(result.rows) < SHOWN_ROWS else None)
            result.summary = importer.run(path, errors_path)
        except DocframeError as exc:
            result.error = exc.message
            return result
        if result.summary.counts["error"] and errors_path.exists():
            result.errors_csv = base64.b64encode(errors_path.read_bytes()).decode("ascii")
    return result

"""The data import tool: CSV or XLSX rows into documents of any doctype, through the document lifecycle.

Every document goes through the lifecycle (naming, every check, every hook, flag
``importing``): new ones in batches (``Session.insert_many``), updates one by one
(``save``), each in a savepoint so a bad one leaves nothing.

- Columns match a field's label or name (case-insensitive), ``ID`` or ``name`` the
  document's ID; a child table's field as ``<table>.<field>`` or ``<Label> (<Table label>)``.
  A row whose parent columns are all empty continues the document above: it adds a
  child row. Unknown columns are reported and left out.
- Modes: ``insert``; ``update`` (by ID: fields not in the file are left alone; child
  rows in the file are added, the stored ones kept unless ``replace_children``);
  ``upsert`` (update when the ID, or the ``key`` field's value, exists, else insert).
- Links take an ID or, where exactly one record has it as its title, a title.
- ``dry_run``: everything runs in one transaction that is rolled back, so each row's
  outcome (create / update / unchanged / error), the exact ID it gets (``Acme-1``
  suffixes against the database and earlier rows of the file) and every error are
  what a real run would give; possible duplicates are flagged (:mod:`engine.site.duplicates`).
- ``all_or_nothing``: one transaction for the whole file, rolled back if any row
  fails; otherwise each batch commits its good rows and the bad ones are skipped.
  Either way a process killed mid-way leaves its open transaction unwritten.
- ``errors_path``: a CSV of the failed rows: their original cells plus the row's line,
  the columns at fault and the messages, to fix and import again.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.documents.batch import BatchFailed
from engine.documents.document import Document
from engine.errors import DocframeError, DoesNotExistError, InvalidValueError, PermissionError
from engine.metadata.doctype import DocType, Field
from engine.rules.permissions import has_permission
from engine.rules.validation import comparable
from engine.site import duplicates
from engine.site.session import Session
from engine.site.tabular import ImportFileError, open_table

MODES = ("insert", "update", "upsert")
BULK_SIZE = 500  # documents per batch of the bulk path (Session.insert_many)
ID_HEADERS = frozenset({"id", "name"})
_CHILD_LABEL = re.compile(r"^(.*)\s\((.*)\)$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


@dataclass
class Column:
    index: int
    header: str
    table: str | None  # the Table field for a child column
    field: str  # fieldname, or "name" for the ID


@dataclass
class Pending:
    """One document's values gathered from its row and continuation rows."""

    lines: list[int]
    cells: list[list[Any]]
    values: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class RowResult:
    line: int
    action: str  # create, update, unchanged, error
    name: str | None
    messages: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    doctype: str
    mode: str
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: {"create": 0, "update": 0, "unchanged": 0, "error": 0})
    unknown_columns: list[str] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (the file's column, the field it fills)
    rolled_back: bool = False
    seconds: float = 0.0
    rows: int = 0  # file rows read (continuation rows included)

    @property
    def documents(self) -> int:
        return sum(self.counts.values())


def map_columns(meta: DocType, child_metas: dict[str, DocType], header: list[str]) -> tuple[list[Column], list[str]]:
    """The columns the file's header names, and the headers that name nothing."""
    own = _names(meta)
    tables = {f.name.lower(): f for f in meta.table_fields} | {f.label.lower(): f for f in meta.table_fields}
    columns, unknown, seen = [], [], set()
    for i, raw in enumerate(header):
        text = raw.strip()
        key = text.lower()
        if not text:
            continue
        if key in ID_HEADERS:
            columns.append(Column(i, text, None, "name"))
        elif key in own:
            columns.append(Column(i, text, None, own[key].name))
        else:
            table, child = None, None
            if "." in text:
                t, _, c = text.partition(".")
                table = tables.get(t.strip().lower())
                child = c.strip().lower()
            elif m := _CHILD_LABEL.match(text):
                table = tables.get(m.group(2).strip().lower())
                child = m.group(1).strip().lower()
            names = _names(child_metas[table.options]) if table is not None else {}  # type: ignore[index]
            if table is not None and child in ID_HEADERS:
                columns.append(Column(i, text, table.name, "name"))
            elif table is not None and child in names:
                columns.append(Column(i, text, table.name, names[child].name))
            else:
                unknown.append(text)
                continue
        where = (columns[-1].table, columns[-1].field)
        if where in seen:
            raise ImportFileError(f"{meta.name}: column {text!r} names a field another column names too")
        seen.add(where)
    return columns, unknown


def _names(meta: DocType) -> dict[str, Field]:
    fields = [f for f in meta.data_fields if f.type != "Read Only"]
    return {f.label.lower(): f for f in fields} | {f.name.lower(): f for f in fields}


def template_header(meta: DocType, child_metas: dict[str, DocType]) -> list[str]:
    """The columns of an import template: ID, every field a user sets, then each table's fields."""
    header = ["ID"] + [f.label for f in meta.data_fields if not (f.read_only or f.fetch_from or f.type == "Read Only")]
    for tf in meta.table_fields:
        child = child_metas[tf.options]  # type: ignore[index]
        header += [f"{tf.name}.{f.name}" for f in child.data_fields if not (f.read_only or f.fetch_from)]
    return header


def _documents(meta: DocType, columns: list[Column], rows: Iterator[tuple[int, list[Any]]],
               counter: list[int]) -> Iterator[Pending]:
    parent_cols = [c for c in columns if c.table is None]
    current: Pending | None = None
    for line, cells in rows:
        counter[0] += 1

        def value(c: Column, cells: list[Any] = cells) -> Any:
            return cells[c.index] if c.index < len(cells) else None

        if all(_empty(v) for v in cells):
            continue
        parent = {c.field: value(c) for c in parent_cols if not _empty(value(c))}
        child: dict[str, dict[str, Any]] = {}
        for c in columns:
            if c.table is not None and not _empty(value(c)):
                child.setdefault(c.table, {})[c.field] = value(c)
        if parent or current is None:
            if current is not None:
                yield current
            current = Pending([line], [cells], parent)
        else:  # a continuation row: more child rows of the document above
            current.lines.append(line)
            current.cells.append(cells)
        for table, row in child.items():
            current.rows.setdefault(table, []).append(row)
    if current is not None:
        yield current


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Importer:
    """One import run: a Session (with flag ``importing``), the doctype, the options."""

    def __init__(self, session: Session, doctype: str, *, mode: str = "insert", key: str | None = None,
                 dry_run: bool = False, all_or_nothing: bool = False, replace_children: bool = False,
                 batch_size: int = 500, on_row: Callable[[RowResult], None] | None = None,
                 on_progress: Callable[[int], None] | None = None):
        if mode not in MODES:
            raise InvalidValueError(f"import mode {mode!r}: use one of {', '.join(MODES)}")
        self.session, self.meta = session, session.site.get_meta(doctype)
        if self.meta.is_child:
            raise InvalidValueError(f"{doctype} rows are imported with their parent document")
        if not has_permission(session, doctype, "import"):
            raise PermissionError(f"User {session.user!r} has no permission to import {doctype}")
        if key is not None and key != "name" and key not in self.meta.fields_by_name:
            raise InvalidValueError(f"{doctype}: the upsert key {key!r} is not a field")
        self.mode, self.key, self.dry_run = mode, key or "name", dry_run
        self.all_or_nothing, self.replace_children, self.batch_size = all_or_nothing, replace_children, batch_size
        self.on_row, self.on_progress = on_row, on_progress
        self.child_metas = {f.options: session.site.get_meta(f.options) for f in self.meta.table_fields}
        self._titles: dict[tuple[str, str], str | None] = {}
        self._duplicates: duplicates.DuplicateFinder | None = None  # the dry run's, made at its first batch
        self._suffixed: set[str] = set()  # the current chunk's suffixed IDs (already noted as possible duplicates)

    # ------------------------------------------------------------ the run
    def run(self, path: Path | str, errors_path: Path | str | None = None) -> ImportSummary:
        started = time.perf_counter()
        table = open_table(path)
        header = table.header
        if [h.strip() for h in header[-3:]] == ERROR_COLUMNS:
            header = header[:-3]  # a fixed error file imported again: its messages are not data
        columns, unknown = map_columns(self.meta, self.child_metas, header)  # type: ignore[arg-type]
        if not columns:
            raise ImportFileError(f"{Path(path).name}: no column names a field of {self.meta.name} "
                                  f"(got {', '.join(table.header[:8]) or 'none'})")
        summary = ImportSummary(self.meta.name, self.mode, self.dry_run, unknown_columns=unknown,
                                columns=[(c.header, self._target(c)) for c in columns])
        counter = [0]
        docs = _documents(self.meta, columns, table.rows, counter)
        errors = _ErrorFile(errors_path, header) if errors_path else None
        try:
            if self.dry_run or self.all_or_nothing:
                try:
                    with self.session.atomic():
                        self._batch(docs, columns, summary, errors, limit=None)
                        if self.dry_run or summary.counts["error"]:
                            raise _RollBack
                except _RollBack:
                    summary.rolled_back = True
            else:
                while self._batch_committed(docs, columns, summary, errors):
                    pass
        finally:
            if errors is not None:
                errors.close()
        summary.rows = counter[0]
        summary.seconds = time.perf_counter() - started
        return summary

    def _target(self, c: Column) -> str:
        """What a column fills, as the user reads it: ``Credit Limits: Company`` for a child table's field."""
        if c.table is None:
            return "ID" if c.field == "name" else self.meta.label_of(c.field)
        child = self.child_metas[self._child(c.table)]
        return f"{self.meta.label_of(c.table)}: {'ID' if c.field == 'name' else child.label_of(c.field)}"

    def _batch_committed(self, docs: Iterator[Pending], columns: list[Column], summary: ImportSummary,
                         errors: _ErrorFile | None) -> bool:
        with self.session.atomic():
            return self._batch(docs, columns, summary, errors, limit=self.batch_size)

    def _batch(self, docs: Iterator[Pending], columns: list[Column], summary: ImportSummary,
               errors: _ErrorFile | None, limit: int | None) -> bool:
        """Import up to ``limit`` documents (all with None); whether more may follow."""
        chunk: list[Pending] = []
        for done, pending in enumerate(docs, start=1):
            chunk.append(pending)
            if len(chunk) >= BULK_SIZE or (limit is not None and done >= limit):
                self._chunk(chunk, columns, summary, errors)
                chunk = []
            if limit is not None and done >= limit:
                return True
        if chunk:
            self._chunk(chunk, columns, summary, errors)
        return False

    def _chunk(self, chunk: list[Pending], columns: list[Column], summary: ImportSummary,
               errors: _ErrorFile | None) -> None:
        """A few hundred documents: the new ones through the bulk path, updates one by one."""
        results: dict[int, RowResult] = {}
        creates: list[_Create] = []
        self._suffixed.clear()
        one_by_one = self.mode != "insert" and _repeats_key(chunk, self.key)
        for pos, pending in enumerate(chunk):
            if one_by_one:
                results[pos] = self._guarded(pending, columns, lambda notes, p=pending: self._apply(p, notes))
                continue
            notes: list[str] = []
            try:
                values, rows = self._cells(pending, notes)
                existing = self._existing(values)
            except DocframeError as exc:
                results[pos] = self._failure(pending, columns, exc)
                continue
            if existing is None and self.mode != "update":
                creates.append(_Create(pos, pending, self._new_values(values), rows, notes))
            else:
                results[pos] = self._guarded(pending, columns, lambda notes, p=pending: self._apply(p, notes))
        results.update(self._bulk(creates, columns))
        if self.dry_run:
            self._hint_duplicates([results[pos] for pos in range(len(chunk))])
        for pos, pending in enumerate(chunk):
            result = results[pos]
            summary.counts[result.action] += 1
            if result.action == "error" and errors is not None:
                errors.write(pending, result)
            if self.on_row is not None:
                self.on_row(result)
            if self.on_progress is not None:
                self.on_progress(len(pending.lines))

    def _hint_duplicates(self, results: list[RowResult]) -> None:
        """Dry run: flag new documents that look like one stored or earlier in the file."""
        created = [r for r in results if r.action == "create" and r.name]
        if self._duplicates is None:
            self._duplicates = duplicates.DuplicateFinder(self.session, self.meta)
        found = self._duplicates.hints([r.name for r in created], skip_title=frozenset(self._suffixed))
        for r in created:
            r.messages.extend(found.get(r.name, ()))

    def _bulk(self, creates: list[_Create], columns: list[Column]) -> dict[int, RowResult]:
        """Insert new documents as one batch (Session.insert_many); when one fails, the rest as a
        batch again and the failed ones one by one, so each gets exactly its own outcome."""
        if not creates:
            return {}
        try:
            return self._insert_batch(creates)
        except BatchFailed as failed:
            if failed.written:
                return self._one_by_one(creates, columns)
            bad = [c for i, c in enumerate(creates) if i in failed.errors]
            good = [c for i, c in enumerate(creates) if i not in failed.errors]
        results: dict[int, RowResult] = {}
        if good:
            try:
                results = self._insert_batch(good)
            except BatchFailed:
                results = self._one_by_one(good, columns)
        results.update(self._one_by_one(bad, columns))
        return results

    def _one_by_one(self, creates: list[_Create], columns: list[Column]) -> dict[int, RowResult]:
        return {c.pos: self._guarded(c.pending, columns, c.insert_with(self)) for c in creates}

    def _insert_batch(self, creates: list[_Create]) -> dict[int, RowResult]:
        with self.session.conn.begin_nested():
            docs = [self.session.new_doc(self.meta.name, c.document_values()) for c in creates]
            self.session.insert_many(docs)
        results = {}
        for c, doc in zip(creates, docs, strict=True):
            notes = list(c.notes)
            self._note_duplicate(doc, notes)
            results[c.pos] = RowResult(c.pending.lines[0], "create", str(doc.name), notes)
        return results

    def _guarded(self, pending: Pending, columns: list[Column],
                 work: Callable[[list[str]], tuple[str, str]]) -> RowResult:
        """One document in its own savepoint: its outcome, or its errors."""
        notes: list[str] = []
        try:
            with self.session.conn.begin_nested():
                action, name = work(notes)
            return RowResult(pending.lines[0], action, name, notes)
        except DocframeError as exc:
            return self._failure(pending, columns, exc)

    def _failure(self, pending: Pending, columns: list[Column], exc: DocframeError) -> RowResult:
        messages = [e.message for e in exc.errors or ()] or [exc.message]
        bad = {(e.doctype, e.field) for e in exc.errors or () if e.field}
        by_field = {(None if c.table is None else c.table, c.field): c.header for c in columns}
        child_of = {f.options: f.name for f in self.meta.table_fields}
        cols = [by_field.get((None if dt == self.meta.name else child_of.get(dt), f), f) for dt, f in bad]
        return RowResult(pending.lines[0], "error", pending.values.get("name"), messages, sorted(set(cols)))

    # ------------------------------------------------------------ one document
    def _cells(self, pending: Pending, notes: list[str]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """The document's values and child rows as the fields take them."""
        values = {k: self._value(self.meta, k, v, notes) for k, v in pending.values.items()}
        rows = {t: [{k: self._value(self.child_metas[self._child(t)], k, v, notes) for k, v in r.items()}
                    for r in rs] for t, rs in pending.rows.items()}
        return values, rows

    def _new_values(self, values: dict[str, Any]) -> dict[str, Any]:
        if self.mode == "upsert" and self.key == "name" and self.meta.naming.rule != "prompt":
            values = {k: v for k, v in values.items() if k != "name"}  # a new ID: the naming rule gives it
        return values

    def _note_duplicate(self, doc: Document, notes: list[str]) -> None:
        if doc.flags.name_suffixed:
            self._suffixed.add(str(doc.name))
            notes.append(f"possible duplicate: a {self.meta.name} named {doc.flags.name_base!r} exists, "
                         f"so this one is {doc.name!r}")

    def _create(self, values: dict[str, Any], rows: dict[str, list[dict[str, Any]]], notes: list[str]) -> str:
        doc = self.session.insert(self.meta.name, {**values, **_copied(rows)})
        self._note_duplicate(doc, notes)
        return str(doc.name)

    def _apply(self, pending: Pending, notes: list[str]) -> tuple[str, str]:
        values, rows = self._cells(pending, notes)
        existing = self._existing(values)
        if existing is None:
            if self.mode == "update":
                raise DoesNotExistError(f"{self.meta.name} {values.get('name')!r} not found (update mode needs the "
                                        "ID of an existing document)" if values.get("name") else
                                        f"{self.meta.name}: update mode needs an ID column")
            return "create", self._create(self._new_values(values), rows, notes)
        doc = self.session.get_doc(self.meta.name, existing)
        values.pop("name", None)
        changed = any(self._differs(self.meta.fields_by_name[k], doc.get(k), v) for k, v in values.items())
        for table, new_rows in rows.items():
            stored = [r.as_dict() for r in doc.get(table)]
            child = self.child_metas[self._child(table)]
            if self.replace_children:
                same = len(stored) == len(new_rows) and all(
                    self._row_matches(child, old, new) for old, new in zip(stored, new_rows, strict=True))
                doc.set(table, new_rows)
                changed = changed or not same
            else:  # rows already stored (same values in the file's columns) are not added again
                added = [new for new in new_rows if not any(self._row_matches(child, old, new) for old in stored)]
                doc.set(table, stored + added)
                changed = changed or bool(added)
        if not changed:
            return "unchanged", str(doc.name)
        doc.update(values)
        doc.save()
        return "update", str(doc.name)

    def _existing(self, values: dict[str, Any]) -> str | None:
        if self.mode == "insert":
            return None
        if self.key == "name":
            name = values.get("name")
            return str(name) if name and self.session.exists(self.meta.name, str(name)) else None
        value = values.get(self.key)
        if value in (None, ""):
            return None
        found = self.session.get_list(self.meta.name, filters={self.key: value}, pluck="name", limit=2)
        if len(found) > 1:
            raise InvalidValueError(f"{self.meta.name}: {len(found)} documents have "
                                    f"{self.meta.label_of(self.key)} {value!r}; the upsert key must be unique")
        return found[0] if found else None

    def _row_matches(self, child: DocType, stored: dict[str, Any], new: dict[str, Any]) -> bool:
        return all(not self._differs(child.fields_by_name[k], stored.get(k), v) for k, v in new.items()
                   if k in child.fields_by_name)

    def _child(self, table: str) -> str:
        return self.meta.fields_by_name[table].options  # type: ignore[return-value]

    def _differs(self, f: Field, old: Any, new: Any) -> bool:
        coerce = f.fieldtype.coerce
        try:
            new = coerce(new, f) if coerce is not None and not _empty(new) else (None if _empty(new) else new)
        except ValueError:
            return True
        return comparable(old) != comparable(new)

    def _value(self, meta: DocType, fieldname: str, value: Any, notes: list[str]) -> Any:
        """A cell as the field takes it: day-first dates read, a Link's title turned into its ID."""
        f = meta.fields_by_name.get(fieldname)
        if f is None or not isinstance(value, str):
            return value
        value = value.strip()
        if f.type in ("Date", "Datetime") and (m := _DAY_FIRST.match(value)):
            try:
                return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
            except ValueError:
                return value  # the field's own check reports it
        if f.type == "Link" and value and isinstance(f.options, str):
            return self._link(f.options, value, notes, f.label)
        return value

    def _link(self, target: str, value: str, notes: list[str], label: str) -> str:
        if target not in self.session.site.doctypes:  # a Link to DocType names a doctype, not a record
            return value
        key = (target, value.lower())
        if key not in self._titles:
            resolved: str | None = value
            if not self.session.exists(target, value):
                meta = self.session.site.get_meta(target)
                title = meta.title_field
                hits = self.session.get_list(target, filters={title: value}, pluck="name", limit=2) \
                    if title and title != "name" else []
                resolved = hits[0] if len(hits) == 1 else None
            self._titles[key] = resolved
        resolved = self._titles[key]
        if resolved is None:
            return value  # the link check reports it
        if resolved != value:
            notes.append(f"{label}: {value!r} is {target} {resolved!r}")
        return resolved


@dataclass
class _Create:
    """A row that makes a new document, its values worked out once."""

    pos: int
    pending: Pending
    values: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]
    notes: list[str]

    def document_values(self) -> dict[str, Any]:
        return {**self.values, **_copied(self.rows)}

    def insert_with(self, importer: Importer) -> Callable[[list[str]], tuple[str, str]]:
        def work(notes: list[str]) -> tuple[str, str]:
            notes.extend(self.notes)
            return "create", importer._create(self.values, self.rows, notes)
        return work


def _copied(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Fresh child row dicts (a document takes them over; a retry needs the originals)."""
    return {t: [dict(r) for r in rs] for t, rs in rows.items()}


def _repeats_key(chunk: list[Pending], key: str) -> bool:
    """Whether two documents of the chunk name the same ID or key (then the second updates the first)."""
    seen: set[str] = set()
    for pending in chunk:
        value = pending.values.get(key)
        if _empty(value):
            continue
        folded = str(value).strip().lower()
        if folded in seen:
            return True
        seen.add(folded)
    return False


ERROR_COLUMNS = ["Row", "Column", "Message"]  # what an error file adds after the file's own columns


class _RollBack(Exception):
    """Leaves the import's transaction without committing it."""


class _ErrorFile:
    """The failed rows: the file's own columns, then Row, Column and Message (fix and import it again)."""

    def __init__(self, path: Path | str, header: list[str]):
        self.file = Path(path).open("w", newline="", encoding="utf-8")  # noqa: SIM115 -- written row by row, closed by close()
        self.writer = csv.writer(self.file)
        self.writer.writerow([*header, *ERROR_COLUMNS])
        self.width = len(header)

    def write(self, pending: Pending, result: RowResult) -> None:
        for i, cells in enumerate(pending.cells):
            padded = [("" if c is None else c) for c in cells[: self.width]] + [""] * (self.width - len(cells))
            extra = [pending.lines[i], "; ".join(result.columns), "; ".join(result.messages)] if i == 0 else \
                [pending.lines[i], "", "(continues the row above)"]
            self.writer.writerow(padded + extra)

    def close(self) -> None:
        self.file.close()

"""The only code that writes document rows (called by the lifecycle steps).

Statements per write do not grow with the number of child rows: each child
doctype gets at most one executemany INSERT, one executemany UPDATE and one
DELETE per save.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from engine.errors import (
    DocstatusTransitionError,
    DoesNotExistError,
    DuplicateEntryError,
    FieldError,
    NamingError,
    TimestampMismatchError,
    UniqueValidationError,
    ValidationError,
)
from engine.metadata.doctype import DocType
from engine.metadata.fieldtypes import FIELD_TYPES
from engine.rules import naming, tree
from engine.storage.db import unique_violation_columns

if TYPE_CHECKING:
    from engine.documents.document import Document, DocumentSession

_MAX_NAME_RETRIES = 20
_MICROSECOND = dt.timedelta(microseconds=1)
_DATETIME = FIELD_TYPES["Datetime"]


def _row_values(doc: Document) -> dict[str, Any]:
    data = doc._data
    return {c: data.get(c) for c in doc.meta.column_names}


def _stamp(doc: Document, ctx: DocumentSession, now: dt.datetime, new: bool) -> None:
    data = doc._data
    if new:
        if not (ctx.flags.get("keep_owner") and data.get("owner")):
            data["owner"] = ctx.user
        data["creation"] = now
    data["modified"] = now
    data["modified_by"] = ctx.user
    data["docstatus"] = data.get("docstatus") or 0
    data["idx"] = data.get("idx") or 0


def insert(doc: Document, ctx: DocumentSession) -> None:
    """The ``write_insert`` step: the row, then its child rows."""
    meta = doc.meta
    table = ctx.site.table(meta.name)
    ctx.forget(meta.name)
    _stamp(doc, ctx, ctx.now(), new=True)
    if not doc.get("name"):  # set_name found a problem and check_fields did not report it
        raise ValidationError.from_errors(doc.flags.naming_errors or [
            FieldError(meta.name, "name", "ID", f"{meta.name}: the document has no ID", None, None, NamingError)])
    if meta.is_tree:
        tree.before_write(doc)
    # A "suffix" name may be taken by a concurrent writer (or by a name the counter
    # did not know about): retry with the next suffix. PostgreSQL aborts the whole
    # transaction on an error, so the attempt runs in a savepoint there and on
    # MariaDB; SQLite undoes just the failed statement and serialises writers.
    retry = doc.flags.name_retry == "suffix"
    dialect = ctx.conn.dialect.name
    savepoint = retry and dialect != "sqlite"
    for attempt in range(1, _MAX_NAME_RETRIES + 1):
        values = _row_values(doc)
        if savepoint and dialect == "postgresql" and attempt == 1:
            # The common case without a savepoint's two round trips: ON CONFLICT DO NOTHING
            # inserts nothing when a unique value is taken; only then take the slow path.
            if ctx.conn.execute(_insert_or_nothing(ctx, meta.name), values).first() is not None:
                break
            if ctx.name_exists(meta, doc.name) and attempt < _MAX_NAME_RETRIES:
                naming.claim_suffix(doc, ctx)
                if meta.is_tree:
                    tree.before_write(doc)
                continue
        try:
            if savepoint:
                with ctx.conn.begin_nested():
                    ctx.conn.execute(ctx.site.insert_statement(meta.name), values)
            else:
                ctx.conn.execute(ctx.site.insert_statement(meta.name), values)
            break
        except sa.exc.IntegrityError as exc:
            columns = unique_violation_columns(exc, table)
            if columns == ("name",) and retry and attempt < _MAX_NAME_RETRIES:
                naming.claim_suffix(doc, ctx)
                if meta.is_tree:
                    tree.before_write(doc)
                continue
            if columns == ("name",):
                raise naming.duplicate_error(doc) from exc
            if columns is None:
                raise
            raise _duplicate(meta, doc, columns, exc) from exc
    _insert_children(doc, ctx, [(f.name, doc._data.get(f.name) or []) for f in meta.table_fields])


def insert_many(docs: list[Document], ctx: DocumentSession) -> None:
    """``write_insert`` for a batch (:mod:`engine.documents.batch`): one executemany per table.

    A taken ID or unique value raises the database's IntegrityError: the batch is then
    inserted again one by one, where each document gets its own retry or error.
    """
    meta = docs[0].meta
    ctx.forget(meta.name)
    now = ctx.now()
    for doc in docs:
        _stamp(doc, ctx, now, new=True)
        if not doc.get("name"):
            raise ValidationError.from_errors(doc.flags.naming_errors or [
                FieldError(meta.name, "name", "ID", f"{meta.name}: the document has no ID", None, None, NamingError)])
        if meta.is_tree:
            tree.before_write(doc)
    ctx.conn.execute(ctx.site.insert_statement(meta.name), [_row_values(d) for d in docs])
    by_doctype: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        for f in meta.table_fields:
            for row in doc._data.get(f.name) or []:
                by_doctype[row.meta.name].append(_child_values(doc, row, f.name))
    for child_doctype, values in by_doctype.items():
        ctx.conn.execute(ctx.site.table(child_doctype).insert(), values)


def _insert_or_nothing(ctx: DocumentSession, doctype: str) -> sa.Insert:
    def build() -> sa.Insert:
        table = ctx.site.table(doctype)
        return postgresql.insert(table).on_conflict_do_nothing().returning(table.c.name)

    return ctx.site.statement(("insert_or_nothing", doctype), build)


def _duplicate(meta: DocType, doc: Document, columns: tuple[str, ...] | None, exc: Exception) -> Exception:
    if columns == ("name",):
        return DuplicateEntryError(
            f"{meta.name} {doc.name!r} already exists",
            [FieldError(meta.name, "name", "ID", f"{meta.name} {doc.name!r} already exists", doc.name)],
        )
    fields = [meta.fields_by_name.get(c) for c in columns or ()]
    if fields and all(f is not None for f in fields):
        known = [f for f in fields if f is not None]
        if len(known) == 1:
            what = f"{known[0].label} {doc.get(known[0].name)!r} is"
        else:  # a composite unique index (indexes: [{fields: [...], unique: true}])
            what = (f"{' and '.join(f.label for f in known)} "
                    f"{', '.join(repr(doc.get(f.name)) for f in known)} together are")
        first = known[0]
        return UniqueValidationError(
            f"{meta.name}: {what} already used by another {meta.name}",
            [FieldError(meta.name, first.name, first.label, f"{meta.name}: {what} already used",
                        doc.get(first.name), None, UniqueValidationError)],
        )
    return DuplicateEntryError(f"{meta.name}: a unique value is already used ({exc.orig})")


def new_row_name() -> str:
    """A random child-row ID (64 bits: no collisions in tables of billions of rows)."""
    return secrets.token_hex(8)


def _child_values(doc: Document, row: Document, tablefield: str, old: Document | None = None) -> dict[str, Any]:
    """The row's column values; ``old`` is the stored row it updates (None for a new row).

    Who created a row and when is the server's: the stored values for an existing
    row, the parent's save for a new one, whatever a client sent.
    """
    data = row._data
    if old is None:
        # A new row always gets its own ID: one copied from another document must not collide.
        data["name"] = new_row_name()
    data["parent"] = doc._data["name"]
    data["parenttype"] = doc.meta.name
    data["parentfield"] = tablefield
    data["docstatus"] = doc._data.get("docstatus") or 0
    data["owner"] = old._data.get("owner") if old is not None else doc._data.get("owner")
    data["creation"] = old._data.get("creation") if old is not None else doc._data.get("modified")
    data["modified"] = doc._data.get("modified")
    data["modified_by"] = doc._data.get("modified_by")
    return {c: data.get(c) for c in row.meta.column_names}


def _insert_children(doc: Document, ctx: DocumentSession, tables: list[tuple[str, list[Document]]]) -> None:
    by_doctype: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tablefield, rows in tables:
        for row in rows:
            by_doctype[row.meta.name].append(_child_values(doc, row, tablefield))
    for child_doctype, values in by_doctype.items():
        table = ctx.site.table(child_doctype)
        try:
            ctx.conn.execute(table.insert(), values)
        except sa.exc.IntegrityError as exc:
            raise _duplicate(ctx.site.get_meta(child_doctype), doc, unique_violation_columns(exc, table), exc) from exc


def update(doc: Document, ctx: DocumentSession) -> None:
    """The ``write_update`` step, with the optimistic-locking check."""
    meta = doc.meta
    ctx.forget(meta.name)
    before = doc.get_doc_before_save()
    assert before is not None
    read_modified = before.get("modified")
    sent = doc._data.get("modified")
    if sent is not None and sent != read_modified:
        try:
            sent = _DATETIME.coerce(sent, None)  # type: ignore[arg-type]
        except ValueError:
            sent = None
        if sent != read_modified:
            raise _stale(doc)
    now = ctx.now()
    if read_modified is not None and now <= read_modified:
        now = read_modified + _MICROSECOND
    _stamp(doc, ctx, now, new=False)
    doc._data["owner"] = before.get("owner")  # who created it, and when, is not the caller's to change
    doc._data["creation"] = before.get("creation")
    old_path = None
    if meta.is_tree:
        old_path, new_path = tree.before_write(doc)
    table = ctx.site.table(meta.name)
    values = _row_values(doc)
    stmt = table.update().where(table.c.name == before.name, table.c.modified == read_modified)
    try:
        result = ctx.conn.execute(stmt, values)
    except sa.exc.IntegrityError as exc:
        raise _duplicate(meta, doc, unique_violation_columns(exc, table), exc) from exc
    if result.rowcount == 0:
        exists = ctx.conn.execute(sa.select(table.c.name).where(table.c.name == before.name)).first()
        raise _stale(doc) if exists else DoesNotExistError(f"{meta.name} {before.name!r} not found")
    if meta.is_tree and old_path:
        tree.move_subtree(ctx, meta.name, old_path, new_path)
    _reconcile_children(doc, before, ctx)


def _stale(doc: Document) -> TimestampMismatchError:
    return TimestampMismatchError(
        f"{doc.doctype} {doc.name!r} was changed by someone else after you opened it; "
        "reload it and apply your changes again"
    )


def _reconcile_children(doc: Document, before: Document, ctx: DocumentSession) -> None:
    """Insert new rows, update changed ones, delete removed ones: per child doctype."""
    inserts: list[tuple[str, list[Document]]] = []
    updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    deletes: dict[str, list[str]] = defaultdict(list)
    for f in doc.meta.table_fields:
        old_rows = {r.name: r for r in (before.get(f.name) or [])}
        new_rows: list[Document] = []
        for row in doc._data.get(f.name) or []:
            old = old_rows.pop(row.get("name"), None) if row.get("name") else None
            if old is None:
                row._data["name"] = None
                new_rows.append(row)
            else:
                values = _child_values(doc, row, f.name, old)
                values["b_name"] = values["name"]
                updates[row.meta.name].append(values)
        inserts.append((f.name, new_rows))
        deletes[f.options].extend(old_rows)  # type: ignore[index]
    for child_doctype, names in deletes.items():
        if names:
            t = ctx.site.table(child_doctype)
            ctx.conn.execute(t.delete().where(t.c.parent == before.name, t.c.name.in_(names)))
    for child_doctype, rows in updates.items():
        t = ctx.site.table(child_doctype)
        stmt = t.update().where(t.c.name == sa.bindparam("b_name"))
        try:
            ctx.conn.execute(stmt, rows)
        except sa.exc.IntegrityError as exc:
            raise _duplicate(ctx.site.get_meta(child_doctype), doc, unique_violation_columns(exc, t), exc) from exc
    _insert_children(doc, ctx, inserts)


def delete(doc: Document, ctx: DocumentSession) -> None:
    """The ``write_delete`` step: child rows, then the row."""
    meta = doc.meta
    ctx.forget(meta.name)
    for child_doctype in {f.options for f in meta.table_fields}:
        t = ctx.site.table(child_doctype)  # type: ignore[arg-type]
        ctx.conn.execute(t.delete().where(t.c.parent == doc.name, t.c.parenttype == meta.name))
    table = ctx.site.table(meta.name)
    stmt = table.delete().where(table.c.name == doc.name)
    if meta.is_submittable:  # submitted by someone else since it was read
        stmt = stmt.where(table.c.docstatus != 1)
    if ctx.conn.execute(stmt).rowcount == 0:
        if meta.is_submittable and ctx.conn.execute(sa.select(table.c.name).where(table.c.name == doc.name)).first():
            raise DocstatusTransitionError(f"{meta.name} {doc.name!r} is submitted; cancel it before deleting")
        raise DoesNotExistError(f"{meta.name} {doc.name!r} not found")

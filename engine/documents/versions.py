"""Version history for ``track_changes`` doctypes.

Each insert and each save that changes something writes one Version row holding
who, when and the diff in Frappe's shape: ``changed`` ([field, old, new]),
``added`` / ``removed`` ([table field, row]) and ``row_changed``
([table field, idx, row name, [[field, old, new]]]).
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.rules.validation import PASSWORD_MASK, comparable

if TYPE_CHECKING:
    from engine.documents.document import Document, DocumentSession

VERSION_DOCTYPE = "Version"


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _fields_diff(doc: Document, before: Document) -> list[list[Any]]:
    out = []
    for f in doc.meta.data_fields:
        new, old = doc.get(f.name), before.get(f.name)
        if comparable(new) != comparable(old):
            if f.type == "Password":
                new, old = PASSWORD_MASK, PASSWORD_MASK
            out.append([f.name, _plain(old), _plain(new)])
    return out


def _row_dict(row: Document) -> dict[str, Any]:
    return {"name": row.name, **{f.name: _plain(row.get(f.name)) for f in row.meta.data_fields
                                 if f.type != "Password" and row.get(f.name) not in (None, "")}}


def diff(doc: Document, before: Document | None) -> dict[str, Any] | None:
    """The changes from ``before`` to ``doc``; None when nothing changed."""
    if before is None:
        return {"created": True}
    changed = _fields_diff(doc, before)
    if before.get("docstatus") != doc.get("docstatus"):
        changed.append(["docstatus", before.get("docstatus"), doc.get("docstatus")])
    added, removed, row_changed = [], [], []
    for tf in doc.meta.table_fields:
        old_rows = {r.name: r for r in before.get(tf.name) or []}
        for row in doc.get(tf.name) or []:
            old = old_rows.pop(row.name, None)
            if old is None:
                added.append([tf.name, _row_dict(row)])
            elif row_diff := _fields_diff(row, old):
                row_changed.append([tf.name, row.idx, row.name, row_diff])
        removed.extend([tf.name, _row_dict(r)] for r in old_rows.values())
    if not (changed or added or removed or row_changed):
        return None
    return {"changed": changed, "added": added, "removed": removed, "row_changed": row_changed}


def record(doc: Document, ctx: DocumentSession) -> None:
    """The ``record_version`` step."""
    row = _version_row(doc, ctx)
    if row is not None:
        ctx.conn.execute(ctx.site.insert_statement(VERSION_DOCTYPE), row)


def record_many(docs: list[Document], ctx: DocumentSession) -> None:
    """``record_version`` for a batch of documents: one executemany."""
    rows = [row for doc in docs if (row := _version_row(doc, ctx)) is not None]
    if rows:
        ctx.conn.execute(ctx.site.insert_statement(VERSION_DOCTYPE), rows)


def _version_row(doc: Document, ctx: DocumentSession) -> dict[str, Any] | None:
    if not doc.meta.track_changes:
        return None
    data = diff(doc, doc.get_doc_before_save())
    if data is None:
        return None
    now = doc.get("modified") or ctx.now()
    return {
        "name": secrets.token_hex(8), "owner": ctx.user, "creation": now, "modified": now,
        "modified_by": ctx.user, "docstatus": 0, "idx": 0,
        "ref_doctype": doc.doctype, "docname": doc.name, "data": data,
    }

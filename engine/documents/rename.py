"""Renaming a document: its ID and every reference to it, in one transaction.

References are found from metadata (the reverse-link index), never by scanning
every table: Link columns pointing at the doctype, Dynamic Link pairs, the
document's own child rows, tree paths below it and its version history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from engine.documents.versions import VERSION_DOCTYPE
from engine.errors import DuplicateEntryError, FieldError, InvalidValueError
from engine.metadata.doctype import TREE_PATH_COLUMN
from engine.rules import tree
from engine.rules.naming import check_name, normalize_name

if TYPE_CHECKING:
    from engine.documents.document import Document, DocumentSession

RENAME_STEPS = ("before_rename", "write_rename", "after_rename")


def rename_doc(ctx: DocumentSession, doctype: str, old: str, new: str) -> Document:
    """Rename ``doctype`` ``old`` to ``new`` and update every link to it."""
    meta = ctx.site.get_meta(doctype)
    if meta.is_child:
        raise InvalidValueError(f"{doctype} rows cannot be renamed")
    new = check_name(doctype, normalize_name(new or ""))
    with ctx.atomic():
        doc = ctx.get_doc(doctype, old)
        old = doc.name
        _check_renamable(doc)
        if new == old:
            return doc
        if new.lower() != old.lower() and ctx.name_exists(meta, new):
            raise DuplicateEntryError(
                f"Cannot rename {doctype} {old!r} to {new!r}: {new!r} already exists",
                [FieldError(doctype, "name", "ID", f"{doctype} {new!r} already exists", new)],
            )
        for step in RENAME_STEPS:
            if step == "write_rename":
                _write(ctx, doc, old, new)
                continue
            caller = ctx.hook_caller(doctype, step)
            if caller is not None:
                caller(doc=doc, ctx=ctx, old=old, new=new)
        return ctx.get_doc(doctype, new)


def _check_renamable(doc: Document) -> None:
    """A doctype may forbid renaming (``allow_rename: false``); a submitted or cancelled document keeps its ID."""
    meta, name = doc.meta, doc.name
    if not meta.allow_rename:
        problem = f"{meta.name} documents cannot be renamed (the doctype does not allow it)"
    elif meta.is_submittable and doc.docstatus in (1, 2):
        state = "submitted" if doc.docstatus == 1 else "cancelled"
        problem = f"{meta.name} {name!r} is {state}: a submitted or cancelled document keeps its ID"
    else:
        return
    raise InvalidValueError(f"Cannot rename {meta.name} {name!r}: {problem}",
                            [FieldError(meta.name, "name", "ID", problem, name)])


def _write(ctx: DocumentSession, doc: Document, old: str, new: str) -> None:
    site, conn, meta = ctx.site, ctx.conn, doc.meta
    ctx.forget(None)  # links to it change everywhere
    table = site.table(meta.name)
    values: dict[str, object] = {"name": new, "modified": ctx.now(), "modified_by": ctx.user}
    if meta.is_tree:
        old_path = doc.get(TREE_PATH_COLUMN) or ""
        new_path = old_path[: -len(tree.segment(old))] + tree.segment(new)
        values[TREE_PATH_COLUMN] = new_path
    conn.execute(table.update().where(table.c.name == old).values(values))
    if meta.is_tree:
        tree.move_subtree(ctx, meta.name, old_path, new_path)
    for child_doctype in {f.options for f in meta.table_fields}:
        t = site.table(child_doctype)  # type: ignore[arg-type]
        conn.execute(t.update().where(t.c.parent == old, t.c.parenttype == meta.name).values(parent=new))
    for src in site.reverse_links.sources(meta.name):
        t = site.table(src.doctype.name)
        col = t.c[src.field]
        cond = col == old
        if src.doctype_field is not None:
            cond = sa.and_(cond, t.c[src.doctype_field] == meta.name)
        conn.execute(t.update().where(cond).values({src.field: new}))
    versions = site.table(VERSION_DOCTYPE)
    conn.execute(
        versions.update()
        .where(versions.c.ref_doctype == meta.name, versions.c.docname == old)
        .values(docname=new)
    )
    if meta.track_changes:
        import secrets

        now = ctx.now()
        conn.execute(versions.insert(), {
            "name": secrets.token_hex(5), "owner": ctx.user, "creation": now, "modified": now,
            "modified_by": ctx.user, "docstatus": 0, "idx": 0, "ref_doctype": meta.name,
            "docname": new, "data": {"renamed": [old, new]},
        })

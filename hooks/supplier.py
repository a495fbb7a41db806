"""Supplier hooks: contacts and addresses are shared with customers (see _parties)."""

from __future__ import annotations

from engine import Document, Session, hookimpl

from . import _parties


@hookimpl
def on_update(doc: Document, ctx: Session) -> None:
    before = doc.get_doc_before_save()
    if before is not None and before.supplier_name != doc.supplier_name:
        _parties.refresh_link_titles(ctx, "Supplier", doc.name, doc.supplier_name)


@hookimpl
def on_trash(doc: Document, ctx: Session) -> None:
    _parties.unlink_party(ctx, "Supplier", doc.name)

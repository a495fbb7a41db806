"""Supplier hooks: contacts and addresses are shared with customers (see _parties)."""

from __future__ import annotations

from engine import Document, Session, hookimpl

from . import _parties


@hookimpl
def on_update(doc: Document, ctx: Session) -> None:
    _parties.party_updated(doc, ctx)


@hookimpl
def on_trash(doc: Document, ctx: Session) -> None:
    _parties.unlink_party(ctx, "Supplier", doc.name)

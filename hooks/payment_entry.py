"""Payment Entry: allocations to invoices, prepayments, posting and reversal (SPEC 4)."""

from __future__ import annotations

from engine import Document, Session, hookimpl

from . import _payments


@hookimpl
def before_validate(doc: Document, ctx: Session) -> None:
    _payments.fill(doc, ctx)


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    _payments.validate(doc, ctx)


@hookimpl
def before_submit(doc: Document, ctx: Session) -> None:
    _payments.lock_and_recheck(doc, ctx)


@hookimpl
def on_submit(doc: Document, ctx: Session) -> None:
    _payments.post(doc, ctx)


@hookimpl
def before_cancel(doc: Document, ctx: Session) -> None:
    _payments.unpost(doc, ctx)

"""Sales Invoice: filled from its customer, checked, credit-limited at submit, posted to the ledger (SPEC 4)."""

from __future__ import annotations

from engine import Document, Session, hookimpl

from . import _invoicing


@hookimpl
def before_validate(doc: Document, ctx: Session) -> None:
    _invoicing.fill(doc, ctx)


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    _invoicing.validate(doc, ctx)


@hookimpl
def before_submit(doc: Document, ctx: Session) -> None:
    _invoicing.check_credit(doc, ctx)


@hookimpl
def on_submit(doc: Document, ctx: Session) -> None:
    _invoicing.post(doc, ctx)


@hookimpl
def before_cancel(doc: Document, ctx: Session) -> None:
    _invoicing.before_cancel(doc, ctx)

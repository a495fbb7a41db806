"""GL Entry: the ledger is immutable (SPEC 4); vouchers post lines, and a cancel posts their reverse."""

from __future__ import annotations

from engine import Document, Session, hookimpl
from engine.errors import ValidationError


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    if not doc.is_new():
        raise ValidationError(f"GL Entry {doc.name!r} cannot be changed: the ledger is immutable; cancel the "
                              f"voucher ({doc.voucher_type} {doc.voucher_no}) to post its reverse")


@hookimpl
def on_trash(doc: Document, ctx: Session) -> None:
    raise ValidationError(f"GL Entry {doc.name!r} cannot be deleted: the ledger is immutable; cancel the "
                          f"voucher ({doc.voucher_type} {doc.voucher_no}) to post its reverse")

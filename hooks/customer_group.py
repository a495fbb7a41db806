"""Customer Group rules: up to 5 selling price lists, one credit limit row per company."""

from __future__ import annotations

from engine import Document, Session, hookimpl
from engine.errors import FieldError

from . import _credit, _selling


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    errors: list[FieldError] = []
    _selling.check_price_lists(doc, ctx, _selling.MAX_GROUP_PRICE_LISTS, errors)
    _selling.check_credit_limits(doc, errors)
    _credit.check_lowered_limits(doc, ctx, errors)
    _selling.raise_errors(errors)

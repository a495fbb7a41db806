"""Sales Person rules: one target per item group and fiscal year; commission rate up to 100%."""

from __future__ import annotations

from engine import Document, Session, hookimpl
from engine.errors import FieldError

from . import _selling


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    errors: list[FieldError] = []
    _selling.check_targets(doc, errors)
    rate = doc.get("commission_rate")
    if rate is not None and float(rate) > 100:
        _selling.fail(errors, doc, "commission_rate",
                      f"Sales Person: Commission Rate {rate} is more than 100%", rate)
    _selling.raise_errors(errors)

"""Sales Partner rules: the commission rate is a percentage from 0 to 100."""

from __future__ import annotations

from engine import Document, Session, hookimpl
from engine.errors import FieldError

from . import _selling


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    errors: list[FieldError] = []
    rate = doc.get("commission_rate")
    if rate is not None and not 0 <= float(rate) <= 100:
        _selling.fail(errors, doc, "commission_rate",
                      f"Sales Partner: Commission Rate {rate} must be between 0 and 100 (percent)", rate)
    _selling.raise_errors(errors)

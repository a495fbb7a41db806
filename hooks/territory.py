"""Territory rules: one target per item group and fiscal year."""

from __future__ import annotations

from engine import Document, Session, hookimpl
from engine.errors import FieldError

from . import _selling


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    errors: list[FieldError] = []
    _selling.check_targets(doc, errors)
    _selling.raise_errors(errors)

"""Item: its name defaults to its code."""

from __future__ import annotations

from engine import Document, hookimpl


@hookimpl
def before_validate(doc: Document) -> None:
    if isinstance(doc.item_code, str):
        doc.item_code = doc.item_code.strip()
    if not doc.item_name:
        doc.item_name = doc.item_code

"""Item Price rules: one price per item and price list."""

from __future__ import annotations

from engine import Document, Session, hookimpl
from engine.errors import FieldError

from . import _selling


@hookimpl
def validate(doc: Document, ctx: Session) -> None:
    errors: list[FieldError] = []
    item, pl = (doc.get("item_code") or "").strip(), doc.get("price_list")
    doc.item_code = item
    filters = {"item_code": item, "price_list": pl}
    if doc.name:
        filters["name"] = ["!=", doc.name]
    if item and pl and ctx.get_count("Item Price", filters=filters):
        _selling.fail(errors, doc, "item_code",
                      f"Item Price: Item Code '{item}' already has a price in Price List '{pl}'; "
                      "one price per item and price list", item)
    _selling.raise_errors(errors)

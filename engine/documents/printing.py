"""Print formats: app functions that give a document's printout its content, drawn by a template.

In a hook module of the app (``hooks/<module>.py``)::

    from engine import print_format

    @print_format("Payment Reminder", doctype="Customer", params=("company",))
    def payment_reminder(doc, ctx, params):
        return {"invoices": ctx.get_list("Sales Invoice", filters={"customer": doc.name, ...})}

The printout is ``templates/print/<format as a slug>.html`` (``payment_reminder.html``)
rendered with ``doc``, ``meta``, the function's dict and ``params`` (the query values
it declares, None when absent). Every doctype also has the ``Standard`` format: its
fields and child tables, drawn by ``print/standard.html``. A printout needs read
permission on the document (and its record rules); what the function then reads for
it (the customer's invoices, its ledger lines) is part of that one permitted read, as
for a hook, and not checked again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from engine.documents import marks
from engine.errors import HookError
from engine.metadata.doctype import snake

F = TypeVar("F", bound=Callable[..., Any])
MARKER = "__docframe_print_format__"
STANDARD = "Standard"


@dataclass(frozen=True)
class PrintFormat:
    name: str
    doctype: str
    fn: Callable[[Any, Any, dict[str, Any]], dict[str, Any]]
    params: tuple[str, ...]
    where: str

    @property
    def template(self) -> str:
        return f"print/{snake(self.name)}.html"


def print_format(name: str, *, doctype: str, params: Collection[str] = ()) -> Callable[[F], F]:
    """Mark a hook-module function ``(doc, ctx, params) -> dict`` as the print format ``name`` of ``doctype``."""

    return marks.marker(MARKER, (name, doctype, tuple(params)))


def collect(module: ModuleType, doctypes: Collection[str], where: str) -> list[PrintFormat]:
    found = []
    for fn, (name, doctype, params) in marks.marked(module, MARKER):
        if doctype not in doctypes:
            raise HookError(f"{where}: print format {name!r}: unknown doctype {doctype!r}")
        if name == STANDARD:
            raise HookError(f"{where}: print format {name!r}: the Standard format is built in")
        if list(inspect.signature(fn).parameters)[:3] != ["doc", "ctx", "params"]:
            raise HookError(f"{where}: print format {name!r} must take (doc, ctx, params)")
        found.append(PrintFormat(name, doctype, fn, params, where))
    return found

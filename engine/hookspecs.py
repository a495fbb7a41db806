"""Every document lifecycle hook, declared once.

An application implements hooks in ``hooks/<doctype_module>.py`` (for one doctype,
e.g. ``hooks/customer_group.py`` for "Customer Group") or in
``hooks/all_doctypes.py`` (for every doctype), decorating functions with
``engine.hookimpl``. An implementation may take any subset of a hook's arguments;
an unknown hook name or argument stops start-up with a clear error.

Arguments:

- ``doc``: the :class:`engine.document.Document` being written.
- ``ctx``: the :class:`engine.session.Session` doing the write: ``ctx.user``,
  ``ctx.flags`` (e.g. ``ctx.flags.importing``) and the document API
  (``ctx.insert``, ``ctx.get_doc``, ``ctx.get_list``, ...). Documents written
  through ``ctx`` join the same transaction.

Every hook of a write runs inside that write's single database transaction: a
hook that raises rolls back the whole write, including documents that other hooks
of the same write created. Hooks marked "before the row is written" may change
``doc``; changes made in later hooks are not saved unless the hook saves them.
The order in which hooks run is :data:`engine.lifecycle.LIFECYCLE`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from engine.document import Document
    from engine.session import Session

PROJECT = "docframe"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def before_insert(doc: Document, ctx: Session) -> None:
    """A new document is about to be named and validated. May change ``doc``."""


@hookspec
def before_naming(doc: Document, ctx: Session) -> None:
    """Just before a new document gets its ID; set the fields the naming rule reads."""


@hookspec
def before_validate(doc: Document, ctx: Session) -> None:
    """Before the built-in field checks; set defaults and derived values here."""


@hookspec
def validate(doc: Document, ctx: Session) -> None:
    """After the built-in checks passed: application rules. Raise a ValidationError to refuse."""


@hookspec
def before_save(doc: Document, ctx: Session) -> None:
    """Last change to ``doc`` before its row is written (insert and update)."""


@hookspec
def after_insert(doc: Document, ctx: Session) -> None:
    """The new row and its child rows are written (same transaction)."""


@hookspec
def on_update(doc: Document, ctx: Session) -> None:
    """After every insert or save of a draft/unsubmittable document, rows written.

    ``doc.get_doc_before_save()`` gives the state before this save (None on insert).
    """


@hookspec
def before_submit(doc: Document, ctx: Session) -> None:
    """A draft is about to become submitted (docstatus 0 -> 1). May change ``doc``."""


@hookspec
def on_submit(doc: Document, ctx: Session) -> None:
    """The document is submitted and written: post ledger entries here."""


@hookspec
def before_update_after_submit(doc: Document, ctx: Session) -> None:
    """A submitted document's allow-on-submit fields are about to be saved."""


@hookspec
def on_update_after_submit(doc: Document, ctx: Session) -> None:
    """A submitted document's allow-on-submit fields were saved."""


@hookspec
def before_cancel(doc: Document, ctx: Session) -> None:
    """A submitted document is about to be cancelled (docstatus 1 -> 2)."""


@hookspec
def on_cancel(doc: Document, ctx: Session) -> None:
    """The document is cancelled: reverse what ``on_submit`` did."""


@hookspec
def on_trash(doc: Document, ctx: Session) -> None:
    """Before a document is deleted and before the linked-records check: unlink here."""


@hookspec
def after_delete(doc: Document, ctx: Session) -> None:
    """The rows are deleted (same transaction)."""


@hookspec
def before_rename(doc: Document, ctx: Session, old: str, new: str) -> None:
    """A document is about to be renamed from ``old`` to ``new``. Raise to refuse."""


@hookspec
def after_rename(doc: Document, ctx: Session, old: str, new: str) -> None:
    """The ID and every link to it were renamed; rename dependent records here."""


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name, obj in list(globals().items())
    if callable(obj) and hasattr(obj, PROJECT + "_spec")
)


def hook_arguments(name: str) -> tuple[str, ...]:
    """Argument names of a hook, as declared above."""
    return tuple(inspect.signature(globals()[name]).parameters)


"""Every document lifecycle hook, declared once.

An application implements hooks in ``hooks/<doctype_module>.py`` (for one doctype,
e.g. ``hooks/customer_group.py`` for "Customer Group") or in
``hooks/all_doctypes.py`` (for every doctype), decorating functions with
``engine.hookimpl``. An implementation may take any subset of a hook's arguments;
an unknown hook name or argument stops start-up with a clear error.

Arguments:

- ``doc``: the :class:`engine.documents.document.Document` being written.
- ``ctx``: the :class:`engine.site.session.Session` doing the write: ``ctx.user``,
  ``ctx.flags`` (e.g. ``ctx.flags.importing``) and the document API
  (``ctx.insert``, ``ctx.get_doc``, ``ctx.get_list``, ...). Documents written
  through ``ctx`` join the same transaction.

Every hook of a write runs inside that write's single database transaction: a
hook that raises rolls back the whole write, including documents that other hooks
of the same write created. Hooks marked "before the row is written" may change
``doc``; changes made in later hooks are not saved unless the hook saves them.
The order in which hooks run is :data:`engine.documents.lifecycle.LIFECYCLE`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from engine.documents.document import Document, DocumentSession

PROJECT = "docframe"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def before_insert(doc: Document, ctx: DocumentSession) -> None:
    """Insert, first hook: the new document is not named or checked yet (values already of their
    fields' types; one that did not convert is None, and its error comes with the field checks).

    In the write's transaction; nothing is written yet. May change ``doc``, including
    setting ``doc.name`` (then the naming rule is skipped).
    """


@hookspec
def before_naming(doc: Document, ctx: DocumentSession) -> None:
    """Insert, just before the naming rule gives the document its ID.

    Set the fields the rule reads (e.g. the naming field) or ``doc.name`` itself.
    In the write's transaction; nothing is written yet.
    """


@hookspec
def before_validate(doc: Document, ctx: DocumentSession) -> None:
    """Insert, save, submit and update after submit: before the built-in field checks.

    Values are of their fields' types (``"12"`` sent for an Int is 12 here; a value that does not
    convert, such as ``"abc"``, is None and reported by the field checks). Set defaults and derived values
    here; they are checked and coerced next. In the write's transaction; nothing
    is written yet (on insert the document has its ID).
    """


@hookspec
def validate(doc: Document, ctx: DocumentSession) -> None:
    """Insert, save and submit: after the built-in checks; values are coerced.

    Application rules go here: raise a ValidationError (with FieldErrors) to
    refuse. May change ``doc``; later changes are not checked again. Also called
    when the built-in checks failed, with ``doc.flags.checks_failed`` set (their
    errors), so that its own problems are reported with them at once; a value that
    did not convert is None then, and any other error the hook raises is ignored.
    """


@hookspec
def before_save(doc: Document, ctx: DocumentSession) -> None:
    """Insert and save: the last change to ``doc`` before its row is written.

    The row (of a new document) is not in the database yet.
    """


@hookspec
def after_insert(doc: Document, ctx: DocumentSession) -> None:
    """Insert: the new row and its child rows are written, in the still-open transaction.

    Write related documents through ``ctx`` (they join the transaction); raising
    rolls everything back. Changes to ``doc`` are not saved.
    """


@hookspec
def after_insert_many(docs: list[Document], ctx: DocumentSession) -> None:
    """After a batch of new documents was written (the data import's bulk path).

    Called once for the batch instead of ``after_insert`` per document, for the module
    that implements both: do the same work as ``after_insert``, in as few statements as
    you can (e.g. ``ctx.insert_many`` of the documents ``after_insert`` would create one
    by one). Raising fails the whole batch, which is then inserted one by one.
    """


@hookspec
def on_update(doc: Document, ctx: DocumentSession) -> None:
    """Insert (after ``after_insert``) and save of a draft: the rows are written.

    ``doc.get_doc_before_save()`` gives the state before this save (None on insert).
    Raising rolls the whole write back. Changes to ``doc`` are not saved.
    """


@hookspec
def before_submit(doc: Document, ctx: DocumentSession) -> None:
    """Submit: checks passed, the draft is about to be written as submitted (docstatus 1).

    May change ``doc``; raise to refuse. Nothing is written yet.
    """


@hookspec
def on_submit(doc: Document, ctx: DocumentSession) -> None:
    """Submit: the document is written as submitted. Post ledger entries here.

    Raising rolls the submit back. Changes to ``doc`` are not saved.
    """


@hookspec
def before_update_after_submit(doc: Document, ctx: DocumentSession) -> None:
    """Save of a submitted document: only ``allow_on_submit`` fields changed, checks passed.

    Nothing is written yet; change only ``allow_on_submit`` fields.
    """


@hookspec
def on_update_after_submit(doc: Document, ctx: DocumentSession) -> None:
    """Save of a submitted document: its ``allow_on_submit`` fields are written.

    Raising rolls the save back.
    """


@hookspec
def before_cancel(doc: Document, ctx: DocumentSession) -> None:
    """Cancel: a submitted document is about to become cancelled (docstatus 2).

    Raise to refuse. Nothing is written yet; fields set here are written as they are
    (not checked again).
    """


@hookspec
def on_cancel(doc: Document, ctx: DocumentSession) -> None:
    """Cancel: the document is written as cancelled. Reverse what ``on_submit`` did.

    Raising rolls the cancel back.
    """


@hookspec
def on_trash(doc: Document, ctx: DocumentSession) -> None:
    """Delete: before the linked-records check and before any row is deleted.

    Unlink or delete dependent documents here (through ``ctx``, in the same
    transaction); raise to refuse.
    """


@hookspec
def after_delete(doc: Document, ctx: DocumentSession) -> None:
    """Delete: the row and its child rows are deleted, in the still-open transaction.

    Raising rolls the delete back.
    """


@hookspec
def before_rename(doc: Document, ctx: DocumentSession, old: str, new: str) -> None:
    """Rename: ``doc`` (still named ``old``) is about to become ``new``. Raise to refuse.

    In the rename's transaction; nothing is changed yet.
    """


@hookspec
def after_rename(doc: Document, ctx: DocumentSession, old: str, new: str) -> None:
    """Rename: the ID and every link to it were renamed. Rename dependent records here.

    In the rename's transaction; raising rolls the rename back.
    """


@hookspec
def default_filters(ctx: DocumentSession) -> list[list[Any]]:
    """Desk lists and Link pickers of the doctype: filters applied unless the user filters that field.

    Return ``[[field, operator, value], ...]`` (e.g. hide contact persons from the customer
    list). A filter the user sets on the same field replaces the default one. Read only;
    runs on every list page and type-ahead, so keep it cheap.
    """


@hookspec
def form_context(doc: Document, ctx: DocumentSession) -> dict[str, Any]:
    """Desk form of a document (a new one too: ``doc.is_new()``): extra values for the doctype's form template.

    Return a dict; the template reads it as ``page.extra`` (e.g. the customer's resolved
    defaults in a header block of ``desk/doctypes/customer/form.html``). Read only: it runs
    while the page renders, outside any write. The key ``refresh_on`` (field names, a
    child table's as ``table.field``) makes the form ask the server again when one of
    them changes, and show what the ``before_validate`` hooks fill in (nothing is saved).
    """


#: Hooks that no document operation calls, and who calls them (for the README).
OTHER_CALLERS = {"after_insert_many": "insert, in a batch of the data import (instead of after_insert)",
                 "default_filters": "the desk's list pages, exports and Link type-ahead",
                 "form_context": "the desk's form page"}

HOOK_NAMES: tuple[str, ...] = tuple(
    name for name, obj in list(globals().items())
    if callable(obj) and hasattr(obj, PROJECT + "_spec")
)


def hook_arguments(name: str) -> tuple[str, ...]:
    """Argument names of a hook, as declared above."""
    return tuple(inspect.signature(globals()[name]).parameters)


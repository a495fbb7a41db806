"""The document lifecycle, written down once as data.

Each operation is an ordered tuple of steps. A step named like a hook in
:mod:`engine.documents.hookspecs` calls the application's hooks; every other step is a
built-in function below. The whole run of an operation is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.documents import versions, writer
from engine.documents.document import sent_docstatus
from engine.documents.hookspecs import HOOK_NAMES
from engine.errors import (
    DocstatusTransitionError,
    FieldError,
    InvalidValueError,
    NamingError,
    UpdateAfterSubmitError,
    ValidationError,
)
from engine.rules import links, naming, tree, validation

if TYPE_CHECKING:
    from engine.documents.document import Document, DocumentSession
    from engine.metadata.doctype import Field

LIFECYCLE: dict[str, tuple[str, ...]] = {
    "insert": (
        "check_new", "coerce_values", "before_insert", "before_naming", "set_name", "before_validate",
        "check_fields", "validate", "before_save", "write_insert", "after_insert", "on_update",
        "record_version",
    ),
    "save": (
        "check_draft", "coerce_values", "before_validate", "check_fields", "validate", "before_save",
        "write_update", "on_update", "record_version",
    ),
    "submit": (
        "check_submittable", "coerce_values", "before_validate", "check_fields", "validate", "before_submit",
        "write_update", "on_submit", "record_version",
    ),
    "update_after_submit": (
        "check_submitted", "coerce_values", "before_validate", "check_fields", "check_allowed_on_submit",
        "before_update_after_submit", "write_update", "on_update_after_submit", "record_version",
    ),
    "cancel": ("check_cancellable", "before_cancel", "write_update", "on_cancel", "record_version"),
    "delete": ("check_deletable", "on_trash", "check_tree_delete", "check_links", "write_delete",
               "after_delete"),
}

Step = Callable[["Document", "DocumentSession"], None]


def _check_new(doc: Document, ctx: DocumentSession) -> None:
    if not doc.is_new():
        raise DocstatusTransitionError(f"{doc.doctype} {doc.name!r} is already saved; use save()")
    if _docstatus(doc) not in (None, 0):
        raise DocstatusTransitionError(f"{doc.doctype}: a new document must be a draft (docstatus 0)")
    rule = doc.meta.naming.rule
    given = doc.flags.name_from_caller or doc.get("name")  # also doc.name = ... before insert()
    if given and rule != "prompt" and not doc.meta.is_child:
        raise NamingError(
            f"{doc.doctype}: the ID is set by the naming rule {rule!r}; do not send 'name' "
            f"(got {given!r})"
        )


def _docstatus(doc: Document) -> Any:
    """The document's docstatus, as a number when a form sent it as text."""
    value = sent_docstatus(doc)
    if value != doc.get("docstatus"):
        doc.docstatus = value
    return value


def _set_name(doc: Document, ctx: DocumentSession) -> None:
    """The ``set_name`` step. A field the name needs that is missing or invalid is
    reported later by ``check_fields``, together with every other problem."""
    try:
        naming.set_name(doc, ctx)
    except ValidationError as exc:
        doc.flags.naming_errors = exc.errors or [
            FieldError(doc.doctype, "name", "ID", exc.message, doc.get("name"), None, type(exc))
        ]


def _before(doc: Document) -> Document:
    before = doc.get_doc_before_save()
    if before is None:
        raise DocstatusTransitionError(f"{doc.doctype}: the document is not saved yet; insert it first")
    if doc.get("name") != before.name:
        sent = doc.get("name")
        if isinstance(sent, str) and sent.lower() == str(before.name).lower():
            doc.name = before.name
        else:
            raise InvalidValueError(
                f"{doc.doctype} {before.name!r}: the ID cannot be changed by saving (got {sent!r}); rename it instead",
                [FieldError(doc.doctype, "name", "ID", f"{doc.doctype}: the ID cannot be changed by saving",
                            sent, None, InvalidValueError)],
            )
    return before


def _check_draft(doc: Document, ctx: DocumentSession) -> None:
    before = _before(doc)
    if before.docstatus == 2:
        raise DocstatusTransitionError(f"{doc.doctype} {doc.name!r} is cancelled and cannot be changed")
    if before.docstatus == 1:
        raise DocstatusTransitionError(f"{doc.doctype} {doc.name!r} is submitted; use cancel or amend")
    if _docstatus(doc) not in (None, 0):
        raise DocstatusTransitionError(f"{doc.doctype}: use submit() or cancel() to change the status")
    doc.docstatus = 0


def _check_submittable(doc: Document, ctx: DocumentSession) -> None:
    if not doc.meta.is_submittable:
        raise DocstatusTransitionError(f"{doc.doctype} is not submittable")
    if _before(doc).docstatus != 0:
        raise DocstatusTransitionError(f"{doc.doctype} {doc.name!r}: only a draft can be submitted")
    _set_docstatus(doc, 1)


def _check_cancellable(doc: Document, ctx: DocumentSession) -> None:
    if not doc.meta.is_submittable:
        raise DocstatusTransitionError(f"{doc.doctype} is not submittable")
    before = _before(doc)
    if before.docstatus != 1:
        raise DocstatusTransitionError(f"{doc.doctype} {doc.name!r}: only a submitted document can be cancelled")
    changed = _changed_fields(doc, before, allowed=False)
    if changed:
        raise UpdateAfterSubmitError(
            f"{doc.doctype} {doc.name!r}: cancelling saves no other changes; save or undo the changes to "
            f"{', '.join(changed.values())} first"
        )
    # The values sent (a whole document, as text, from a client's save with docstatus 2) equal
    # the stored ones, which cancelling writes back as they are; the ``modified`` sent still
    # decides whether the caller's copy is stale.
    sent_modified = doc._data.get("modified")
    doc.restore_from(before.copy(), before)
    doc._data["modified"] = sent_modified if sent_modified is not None else before.get("modified")
    _set_docstatus(doc, 2)


def _set_docstatus(doc: Document, status: int) -> None:
    doc.docstatus = status
    for _, rows in doc.children():
        for row in rows:
            row.docstatus = status


def _check_submitted(doc: Document, ctx: DocumentSession) -> None:
    before = _before(doc)
    if before.docstatus != 1 or _docstatus(doc) not in (None, 1):
        raise DocstatusTransitionError(f"{doc.doctype} {doc.name!r}: use cancel() to change the status")
    doc.docstatus = 1


def _check_allowed_on_submit(doc: Document, ctx: DocumentSession) -> None:
    """After the field checks, so values compare in their coerced form."""
    changed = _changed_fields(doc, _before(doc), allowed=True)
    if changed:
        raise UpdateAfterSubmitError(
            f"{doc.doctype} {doc.name!r} is submitted; these fields cannot change: {', '.join(changed.values())}",
            [FieldError(doc.doctype, name, label, f"{doc.doctype}: {label} cannot change once submitted",
                        doc.get(name), None, UpdateAfterSubmitError) for name, label in changed.items()],
        )


def _changed_fields(doc: Document, before: Document, *, allowed: bool) -> dict[str, str]:
    """Fields (and table fields) whose value differs from ``before``: field name -> label.

    ``allowed``: leave out the fields declared ``allow_on_submit``.
    """
    changed = {
        f.name: f.label for f in doc.meta.data_fields
        if not (allowed and f.allow_on_submit) and _differs(f, doc.get(f.name), before.get(f.name))
    }
    for f in doc.meta.table_fields:
        if not (allowed and f.allow_on_submit) and _rows_signature(doc, f.name) != _rows_signature(before, f.name):
            changed[f.name] = f.label
    return changed


def _differs(f: Field, new: Any, old: Any) -> bool:
    new_c, old_c = validation.comparable(new), validation.comparable(old)
    if new_c == old_c:
        return False
    coerce = f.fieldtype.coerce
    if coerce is None or new_c is None or f.type == "Password":
        return True
    try:
        return validation.comparable(coerce(new, f)) != old_c
    except ValueError:
        return True


def _rows_signature(doc: Document, tablefield: str) -> list[tuple[Any, ...]]:
    rows = doc.get(tablefield) or []
    return [
        (r.get("name"), *(_coerced(f, r.get(f.name)) for f in r.meta.data_fields)) for r in rows
    ]


def _coerced(f: Field, value: Any) -> Any:
    value = validation.comparable(value)
    coerce = f.fieldtype.coerce
    if value is None or coerce is None or f.type == "Password":
        return value
    try:
        return validation.comparable(coerce(value, f))
    except ValueError:
        return value


def _check_deletable(doc: Document, ctx: DocumentSession) -> None:
    if doc.is_new():
        raise DocstatusTransitionError(f"{doc.doctype}: the document is not saved yet")
    if doc.meta.is_submittable and _before(doc).docstatus == 1:
        raise DocstatusTransitionError(
            f"{doc.doctype} {doc.name!r} is submitted; cancel it before deleting"
        )


BUILTIN_STEPS: dict[str, Step] = {
    "check_new": _check_new,
    "check_draft": _check_draft,
    "check_submittable": _check_submittable,
    "check_cancellable": _check_cancellable,
    "check_submitted": _check_submitted,
    "check_allowed_on_submit": _check_allowed_on_submit,
    "check_deletable": _check_deletable,
    "set_name": _set_name,
    "coerce_values": validation.coerce_values,
    "check_fields": validation.check_document,
    "write_insert": writer.insert,
    "write_update": writer.update,
    "write_delete": writer.delete,
    "check_tree_delete": tree.check_delete,
    "check_links": links.check_not_linked,
    "record_version": versions.record,
}

_HOOKS = frozenset(HOOK_NAMES)


def check_lifecycle() -> None:
    """Every step is a hook or a built-in (asserted at import and by the tests)."""
    for op, steps in LIFECYCLE.items():
        for step in steps:
            if step not in _HOOKS and step not in BUILTIN_STEPS:
                raise RuntimeError(f"lifecycle {op!r}: unknown step {step!r}")


check_lifecycle()


def run(op: str, doc: Document, ctx: DocumentSession) -> None:
    """Run one operation's steps on ``doc`` in one transaction."""
    if doc.meta.is_child:
        raise InvalidValueError(f"{doc.doctype} rows are saved with their parent document")
    saved = {key: doc.get(key) for key in _RESTORED_ON_FAILURE}
    row_status = [(row, row.get("docstatus")) for _, rows in doc.children() for row in rows]
    try:
        with ctx.atomic():
            for step in LIFECYCLE[op]:
                if step in _HOOKS:
                    caller = ctx.hook_caller(doc.meta.name, step)
                    if caller is not None:
                        caller(doc=doc, ctx=ctx)
                elif step == "check_fields" and "validate" in LIFECYCLE[op]:
                    _check_fields_and_rules(doc, ctx)
                else:
                    BUILTIN_STEPS[step](doc, ctx)
            if op != "delete":
                doc.snapshot()
    except BaseException:
        # The transaction is rolled back; so is what it stamped on the document.
        for key, value in saved.items():
            doc.set(key, value)
        for row, status in row_status:
            row.docstatus = status
        doc.flags.pop("naming_errors", None)
        doc.flags.pop("coerce_errors", None)
        validation.restore_raw_values(doc)
        raise


def _check_fields_and_rules(doc: Document, ctx: DocumentSession) -> None:
    """The built-in checks; when they fail, the app's ``validate`` rules still run, so a form shows
    every problem at once (a sales team not totalling 100 beside an empty required field).

    The rules then see ``doc.flags.checks_failed`` (the built-in problems; values that did not
    convert are None): a ValidationError they raise is reported with the built-in problems, any
    other error of theirs is left out (it comes from the invalid values, which are reported).
    """
    try:
        validation.check_document(doc, ctx)
        return
    except ValidationError as exc:
        failed = exc
    caller = ctx.hook_caller(doc.meta.name, "validate")
    if caller is None:
        raise failed
    doc.flags.checks_failed = failed.errors
    try:
        caller(doc=doc, ctx=ctx)
    except ValidationError as rules:
        seen = {(e.doctype, e.row, e.field, e.message) for e in failed.errors}
        extra = [e for e in rules.errors if (e.doctype, e.row, e.field, e.message) not in seen]
        if extra:
            raise ValidationError.from_errors([*failed.errors, *extra]) from None
        if not rules.errors:  # a rule that raised a message without field errors
            raise ValidationError.from_errors([*failed.errors, FieldError(doc.meta.name, None, None,
                                                                          rules.message)]) from None
    except Exception:  # a rule tripping over the invalid values: those are what to report
        pass
    finally:
        doc.flags.pop("checks_failed", None)
    raise failed


_RESTORED_ON_FAILURE = ("name", "docstatus", "modified", "modified_by", "creation", "owner")

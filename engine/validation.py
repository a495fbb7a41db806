"""Built-in field checks, run before the application's ``validate`` hook.

Every problem of a document and its child rows is collected and raised together
as one ValidationError whose ``errors`` name each field. Values are coerced to
their canonical Python types in place, so hooks after this step see clean data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine import links, tree
from engine.errors import (
    CannotChangeConstantError,
    FieldError,
    InvalidValueError,
    MandatoryError,
    ValidationError,
)
from engine.expressions import compile_expression
from engine.meta import CHILD_COLUMNS, STANDARD_COLUMNS, TREE_PATH_COLUMN, DocType

if TYPE_CHECKING:
    from engine.document import Document
    from engine.meta import Field
    from engine.session import Session

PASSWORD_MASK = "*" * 8
_password_hasher = PasswordHasher()  # stateless; parameters only
_ALLOWED_KEYS = frozenset(STANDARD_COLUMNS + CHILD_COLUMNS + (TREE_PATH_COLUMN,))
_TEXT_TYPES = frozenset({"Data", "Small Text", "Text", "Long Text", "Select", "Link", "Dynamic Link",
                         "Read Only", "Password"})


def comparable(value: Any) -> Any:
    """A value in a form that compares equal across Decimal/float/int and empty/None."""
    if value == "" or value == []:
        return None
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value


def default_value(f: Field, user: str) -> Any:
    if f.default == "Today":
        return dt.date.today()
    if f.default == "Now":
        return dt.datetime.now().replace(microsecond=0)
    if f.default == "__user":
        return user
    return f.default


def apply_defaults(doc: Document, user: str) -> None:
    """Fill unset fields of a new document (or row) with their declared defaults."""
    data = doc._data
    for f in doc.meta.data_fields:
        if f.default is not None and data.get(f.name) is None:
            data[f.name] = default_value(f, user)


def hash_password(plain: str) -> str:
    return _password_hasher.hash(plain)


def verify_password(stored: str | None, plain: str) -> bool:
    if not stored:
        return False
    try:
        return _password_hasher.verify(stored, plain)
    except (VerificationError, InvalidHashError):
        return False


def check_document(doc: Document, ctx: Session) -> None:
    """The ``check_fields`` lifecycle step."""
    errors: list[FieldError] = []
    before = doc.get_doc_before_save()
    meta = doc.meta
    if before is None:
        apply_defaults(doc, ctx.user)
    _check_row(doc, meta, before, None, errors, ctx)
    for tf in meta.table_fields:
        rows = doc._data.get(tf.name) or []
        before_rows = {r.name: r for r in (before.get(tf.name) or [])} if before else {}
        for i, row in enumerate(rows, 1):
            row._data["idx"] = i
            old = before_rows.get(row.get("name"))
            if old is None:
                apply_defaults(row, ctx.user)
            _check_row(row, row.meta, old, i, errors, ctx, table_label=tf.label)
    links.check_links(doc, ctx, errors)
    if meta.is_tree:
        tree.check(doc, ctx, errors)
    if errors:
        raise ValidationError.from_errors(errors)


def _check_row(doc: Document, meta: DocType, before: Document | None, row: int | None,
               errors: list[FieldError], ctx: Session, table_label: str | None = None) -> None:
    data = doc._data
    where = f"{meta.name if row is None else doc.parenttype or meta.name}"
    prefix = f"{where}: " if row is None else f"{where}: row {row} of {table_label}: "

    def fail(f: Field | None, message: str, kind: type, value: Any = None) -> None:
        errors.append(FieldError(meta.name, f.name if f else None, f.label if f else None,
                                 prefix + message, value, row, kind))

    fields = meta.fields_by_name
    for key in data:
        if key not in fields and key not in _ALLOWED_KEYS and not key.startswith("__"):
            fail(None, f"unknown field {key!r}", InvalidValueError, data[key])
    empty_conditional: list[Field] = []
    for f in meta.data_fields:
        value = data.get(f.name)
        if isinstance(value, str) and f.type not in _TEXT_TYPES and not value.strip():
            value = None
        if value is None or value == "":
            data[f.name] = None if value is None or f.type not in _TEXT_TYPES else value
            if f.required:
                fail(f, f"{f.label} is required", MandatoryError)
            elif f.mandatory_depends_on:
                empty_conditional.append(f)
            if f.type == "Password" and before is not None:
                data[f.name] = before.get(f.name)
            continue
        if f.type == "Password" and before is not None and value in (PASSWORD_MASK, before.get(f.name)):
            data[f.name] = before.get(f.name)
            continue
        coerce = f.fieldtype.coerce
        try:
            value = coerce(value, f) if coerce is not None else value
        except ValueError as exc:
            fail(f, f"{f.label} {exc}", InvalidValueError, value)
            continue
        if f.non_negative and value < 0:
            fail(f, f"{f.label} cannot be negative ({value})", InvalidValueError, value)
            continue
        if (value is None or value == "") and f.required:
            fail(f, f"{f.label} is required", MandatoryError)
            continue
        if f.set_only_once and before is not None:
            old = before.get(f.name)
            if old not in (None, "") and comparable(old) != comparable(value):
                fail(f, f"{f.label} cannot be changed once set (was {old!r}, now {value!r})",
                     CannotChangeConstantError, value)
                continue
        if f.type == "Password":
            value = hash_password(value)
        data[f.name] = value
    for f in empty_conditional:  # after coercion, so conditions see clean values
        if _condition(f.mandatory_depends_on, data, ctx):  # type: ignore[arg-type]
            fail(f, f"{f.label} is required", MandatoryError)


def _condition(source: str, data: dict[str, Any], ctx: Session) -> bool:
    return compile_expression(source).evaluate(data, {"name": ctx.user})

"""Built-in field checks, run before the application's ``validate`` hook.

Every problem of a document and its child rows is collected and raised together
as one ValidationError whose ``errors`` name each field. Values are coerced to
their canonical Python types in place, so hooks after this step see clean data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.errors import (
    CannotChangeConstantError,
    FieldError,
    InvalidValueError,
    MandatoryError,
    UniqueValidationError,
    ValidationError,
)
from engine.metadata.doctype import CHILD_COLUMNS, STANDARD_COLUMNS, TREE_PATH_COLUMN, DocType
from engine.metadata.expressions import compile_expression
from engine.metadata.fieldtypes import shown
from engine.rules import links, tree

if TYPE_CHECKING:
    from engine.metadata.doctype import Field
    from engine.rules.record import Record
    from engine.storage.unit import UnitOfWork

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


def apply_defaults(doc: Record, user: str) -> None:
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


# Values already of a field type's Python type need no early coercion (bool is not an Int).
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "Int": (int,), "Float": (float,), "Percent": (float,), "Date": (dt.date,), "Datetime": (dt.datetime,),
    "Time": (dt.time,),
}


def coerce_values(doc: Record, ctx: UnitOfWork) -> None:
    """The ``coerce_values`` step, before any hook: values become their fields' types in place.

    Hooks (totals, due dates, defaults) compute on the values, so a client's ``qty: "abc"``
    or ``posting_date: "2026-13-45"`` must not reach them raw. A value that does not convert
    is set to None and its error kept for ``check_fields``, which reports it with every
    other problem of the document. Text in text fields is left to ``check_fields``.
    """
    errors: list[FieldError] = []
    raw: list[tuple[Record, str, Any]] = []
    _coerce_row(doc, doc.meta, None, None, errors, raw)
    for tf in doc.meta.table_fields:
        for i, row in enumerate(doc._data.get(tf.name) or (), 1):
            if hasattr(row, "_data"):
                _coerce_row(row, row.meta, i, tf.label, errors, raw)
    if errors:
        doc.flags.coerce_errors = errors
        doc.flags.coerce_raw = raw  # put back when the write fails: a form shows what the user typed


def restore_raw_values(doc: Record) -> None:
    """After a failed write: the values that did not convert, as they were sent."""
    for record, field, value in doc.flags.pop("coerce_raw", None) or ():
        record._data[field] = value


def _coerce_row(doc: Record, meta: DocType, row: int | None, table_label: str | None,
                errors: list[FieldError], raw: list[tuple[Record, str, Any]]) -> None:
    data = doc._data
    for f in meta.data_fields:
        value = data.get(f.name)
        if value is None or value == "" or f.type in ("Password", "JSON") or f.fieldtype.coerce is None:
            continue  # JSON text is parsed once, by check_fields
        if isinstance(value, str) and f.type in _TEXT_TYPES:
            continue
        kinds = _PYTHON_TYPES.get(f.type)
        if (kinds is not None and isinstance(value, kinds) and not isinstance(value, bool)
                and not (f.type == "Date" and isinstance(value, dt.datetime))):
            continue
        if isinstance(value, str) and not value.strip():
            continue  # empty: check_fields decides
        try:
            data[f.name] = f.fieldtype.coerce(value, f)
        except (ValueError, TypeError, ArithmeticError) as exc:
            errors.append(FieldError(meta.name, f.name, f.label, _row_prefix(doc, meta, row, table_label)
                                     + f"{f.label} {exc}", value, row, InvalidValueError))
            raw.append((doc, f.name, value))
            data[f.name] = None


def check_document(doc: Record, ctx: UnitOfWork) -> None:
    """The ``check_fields`` lifecycle step: every problem of the document, raised together."""
    errors: list[FieldError] = list(doc.flags.pop("naming_errors", None) or ())
    errors += doc.flags.pop("coerce_errors", None) or ()
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
            row_id = row.get("name")
            if row_id is not None and not isinstance(row_id, str):  # e.g. an object sent over the API
                errors.append(FieldError(row.meta.name, "name", "ID", f"{meta.name}: {tf.label} row {i}: the row ID "
                                         f"must be text, not {type(row_id).__name__}", row_id, i))
                row_id = None  # its other fields are still checked, as a new row's
            old = before_rows.get(row_id) if row_id is not None else None
            if old is None:
                apply_defaults(row, ctx.user)
            _check_row(row, row.meta, old, i, errors, ctx, table_label=tf.label)
    failed = {(e.doctype, e.row, e.field) for e in errors}
    links.check_links(doc, ctx, errors, skip=failed)
    check_unique(doc, ctx, errors, skip=failed)
    if meta.is_tree:
        tree.check(doc, ctx, errors)
    if errors:
        raise ValidationError.from_errors(_dedupe(errors))


def _dedupe(errors: list[FieldError]) -> list[FieldError]:
    """One error per field and row (a naming error and a required error say the same)."""
    seen: set[tuple[str, int | None, str]] = set()
    out = []
    for e in errors:
        if e.field is not None:
            key = (e.doctype, e.row, e.field)
            if key in seen:
                continue
            seen.add(key)
        out.append(e)
    return out


def _row_prefix(doc: Record, meta: DocType, row: int | None, table_label: str | None) -> str:
    if row is None:
        return f"{meta.name}: "
    return f"{doc.parenttype or meta.name}: row {row} of {table_label}: "


def _check_row(doc: Record, meta: DocType, before: Record | None, row: int | None,
               errors: list[FieldError], ctx: UnitOfWork, table_label: str | None = None) -> None:
    data = doc._data
    prefix = _row_prefix(doc, meta, row, table_label)

    def fail(f: Field | None, message: str, kind: type, value: Any = None, field: str | None = None) -> None:
        errors.append(FieldError(meta.name, f.name if f else field, f.label if f else None,
                                 prefix + message, value, row, kind))

    fields = meta.fields_by_name
    for key in data:
        f = fields.get(key)
        if f is None:
            if key not in _ALLOWED_KEYS and not key.startswith("__"):
                fail(None, f"unknown field {key!r}", InvalidValueError, data[key], field=key)
            elif key == "idx" and not isinstance(data[key], int):
                try:
                    data[key] = int(data[key] or 0)
                except (TypeError, ValueError):
                    fail(None, f"Index {shown(data[key])} is not a whole number", InvalidValueError, data[key],
                         field=key)
        elif not f.has_column and f.type != "Table" and data[key] not in (None, ""):
            fail(f, f"{f.label} is a layout field and holds no value (got {shown(data[key])})",
                 InvalidValueError, data[key])
    empty_conditional: list[Field] = []
    hashed: dict[str, str] = doc.flags.hashed_passwords or {}
    for f in meta.data_fields:
        value = data.get(f.name)
        if f.type == "Password":
            old = before.get(f.name) if before is not None else None
            if value == PASSWORD_MASK:  # a form sends back the mask it was shown: no new value
                value = None
            if value in (None, "") and old:
                value = old
            if value and value in (old, hashed.get(f.name)):
                data[f.name] = value  # already a hash: never hash a hash
                continue
        if isinstance(value, str) and f.type not in _TEXT_TYPES and not value.strip():
            value = None
        if value is not None and value != "":
            coerce = f.fieldtype.coerce
            try:
                value = coerce(value, f) if coerce is not None else value
            except ValueError as exc:
                fail(f, f"{f.label} {exc}", InvalidValueError, value)
                continue
        if value is None or value == "":
            data[f.name] = None if value is None or f.type not in _TEXT_TYPES or f.unique else value
            old = before.get(f.name) if before is not None and f.set_only_once else None
            if f.required:
                fail(f, f"{f.label} is required", MandatoryError)
            elif old not in (None, ""):
                fail(f, f"{f.label} cannot be changed once set (was {shown(old)}, now empty)",
                     CannotChangeConstantError, value)
            elif f.mandatory_depends_on:
                empty_conditional.append(f)
            continue
        if f.non_negative and value < 0:
            fail(f, f"{f.label} cannot be negative ({value})", InvalidValueError, value)
            continue
        if f.set_only_once and before is not None:
            old = before.get(f.name)
            if old not in (None, "") and comparable(old) != comparable(value):
                fail(f, f"{f.label} cannot be changed once set (was {shown(old)}, now {shown(value)})",
                     CannotChangeConstantError, value)
                continue
        if f.type == "Password":
            value = hash_password(value)
            hashed[f.name] = value
            doc.flags.hashed_passwords = hashed
        data[f.name] = value
    for f in empty_conditional:  # after coercion, so conditions see clean values
        if _condition(f.mandatory_depends_on, data, ctx):  # type: ignore[arg-type]
            fail(f, f"{f.label} is required", MandatoryError)


def check_unique(doc: Record, ctx: UnitOfWork, errors: list[FieldError],
                 skip: Collection[tuple[str, int | None, str | None]] = ()) -> None:
    """``unique`` fields: one query per doctype that has them, for new or changed values only.

    The database's unique index stays the last word under concurrency; this check
    lets the error be reported with all the others, before any hook writes.
    """
    before = doc.get_doc_before_save()
    ci = ctx.conn.dialect.name == "mysql"  # the _ci collation makes unique values case-insensitive
    groups: list[tuple[DocType, list[tuple[Record, int | None]], dict[Any, Record]]] = [
        (doc.meta, [(doc, None)], {None: before} if before is not None else {})]
    for tf in doc.meta.table_fields:
        old_rows = {r.name: r for r in (before.get(tf.name) or [])} if before is not None else {}
        rows = [(r, i) for i, r in enumerate(doc._data.get(tf.name) or [], 1)]
        groups.append((ctx.site.get_meta(tf.options), rows, old_rows))  # type: ignore[arg-type]
    wanted: dict[str, dict[str, dict[Any, list[tuple[Record, int | None, Any]]]]] = {}
    metas: dict[str, DocType] = {}
    for meta, rows, old_rows in groups:
        unique = [f for f in meta.data_fields if f.unique]
        for row, idx in rows if unique else ():
            old = old_rows.get(row.get("name") if meta.is_child else None)
            for f in unique:
                value = row._data.get(f.name)
                if value in (None, "") or (meta.name, idx, f.name) in skip:
                    continue
                if old is not None and comparable(old.get(f.name)) == comparable(value):
                    continue
                metas[meta.name] = meta
                by_value = wanted.setdefault(meta.name, {}).setdefault(f.name, {})
                by_value.setdefault(_unique_key(value, ci), []).append((row, idx, value))
    for doctype, by_field in wanted.items():
        meta = metas[doctype]
        t = ctx.site.table(doctype)
        cols = list(by_field)
        cond = sa.or_(*(t.c[c].in_([refs[0][2] for refs in values.values()]) for c, values in by_field.items()))
        if meta.is_child:
            if before is not None:
                cond = sa.and_(cond, sa.or_(t.c.parent != before.name, t.c.parenttype != doc.doctype))
            owner: tuple[Any, Any] = (t.c.parenttype, t.c.parent)
        else:
            if before is not None:
                cond = sa.and_(cond, t.c.name != before.name)
            owner = (sa.literal(doctype), t.c.name)
        taken: dict[tuple[str, Any], tuple[str, str]] = {}
        for r in ctx.conn.execute(sa.select(*owner, *(t.c[c] for c in cols)).where(cond)):
            for i, c in enumerate(cols, 2):
                taken.setdefault((c, _unique_key(r[i], ci)), (r[0], r[1]))
        for c, values in by_field.items():
            f = meta.fields_by_name[c]
            for key, refs in values.items():
                hit = taken.get((c, key))
                clashing = refs if hit is not None else refs[1:]
                where = f"{hit[0]} {hit[1]!r}" if hit is not None else f"another row of this {doc.doctype}"
                for row, idx, value in clashing:
                    prefix = _row_prefix(row, meta, idx, _table_label(doc, row))
                    errors.append(FieldError(doctype, c, f.label,
                                             f"{prefix}{f.label} {shown(value)} is already used by {where}",
                                             value, idx, UniqueValidationError))


def _unique_key(value: Any, ci: bool) -> Any:
    if isinstance(value, str):
        return value.lower() if ci else value
    return comparable(value)


def _table_label(doc: Record, row: Record) -> str | None:
    f = doc.meta.fields_by_name.get(row.get("parentfield") or "")
    return f.label if f else None


def _condition(source: str, data: dict[str, Any], ctx: UnitOfWork) -> bool:
    return compile_expression(source).evaluate(data, {"name": ctx.user})

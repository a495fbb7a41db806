"""Record-rule conditions checked against a doctype's fields (no database).

A record rule's condition (see :mod:`engine.rules.permissions`) compares fields with
literals, lists or the user's name, email and full name. Loading a doctype checks
each condition here: every field it names exists and can be compared that way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from engine.metadata.doctype import DocType
from engine.metadata.expressions import ExpressionError, compile_expression, rule_fields, rule_tree

_STANDARD_KINDS = {"name": "text", "owner": "text", "modified_by": "text", "creation": "datetime",
                   "modified": "datetime", "docstatus": "number", "idx": "number"}
_TEXT_TYPES = frozenset({"Data", "Small Text", "Text", "Long Text", "Select", "Link", "Dynamic Link", "Read Only"})
_KIND_OF_TYPE = {"Int": "number", "Float": "number", "Currency": "number", "Percent": "number", "Check": "number",
                 "Date": "date", "Datetime": "datetime", "Time": "time"}


def field_kind(meta: DocType, name: str) -> str | None:
    """How a field compares in record rules: text, number, date, datetime, time; None if it cannot."""
    if name in _STANDARD_KINDS:
        return _STANDARD_KINDS[name]
    f = meta.get_field(name)
    if f is None or not f.has_column:
        return None
    if f.type in _TEXT_TYPES:
        return "text"
    return _KIND_OF_TYPE.get(f.type)


def literal_value(kind: str, value: Any) -> Any:
    """``value`` as the field's kind binds it; raises ValueError when the two cannot be compared."""
    if value is None:
        return None
    if kind == "number":
        if isinstance(value, (bool, int, Decimal)):
            return int(value) if isinstance(value, bool) else value
    elif kind == "text":
        if isinstance(value, str):
            return value
    elif isinstance(value, str):
        try:
            if kind == "date" and len(value) == 10:
                return dt.date.fromisoformat(value)
            if kind == "datetime":
                parsed = dt.datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    return parsed
            if kind == "time":
                return dt.time.fromisoformat(value)
        except ValueError:
            pass
        example = {"date": "2024-01-31", "datetime": "2024-01-31 09:30:00", "time": "09:30:00"}[kind]
        raise ValueError(f"{value!r} is not a {kind} like {example!r}")
    raise ValueError(f"{value!r} cannot be compared with a {kind} field")


def rule_problems(meta: DocType, source: str, dropped: Iterable[str] = ()) -> list[tuple[str | None, str]]:
    """What is wrong with a record-rule condition of ``meta`` as (fieldname, message); empty if fine."""
    try:
        compile_expression(source)
        tree = rule_tree(source)
    except ExpressionError as exc:
        return [(None, str(exc))]
    skip = set(dropped)
    problems: list[tuple[str | None, str]] = []
    for name in sorted(rule_fields(tree) - skip):
        if name not in meta.column_names:
            problems.append((name, f"refers to unknown field {name!r}"))
        elif field_kind(meta, name) is None:
            problems.append((name, f"field {meta.label_of(name)} ({name}) of type "
                                   f"{meta.fields_by_name[name].type} cannot be used in record rules"))
    if problems:
        return problems

    def walk(node: tuple[Any, ...]) -> None:
        kind = node[0]
        if kind in ("or", "and"):
            for item in node[1]:
                walk(item)
        elif kind == "not":
            walk(node[1])
        elif kind == "cmp":
            _, name, op, (what, value) = node
            if name in skip:
                return
            fkind = field_kind(meta, name)
            label = f"{meta.label_of(name)} ({name})"
            if what == "user":
                if fkind != "text" or op not in ("==", "!="):
                    problems.append((name, f"user.{value} can only be compared with == or != to a text field, "
                                           f"not {op!r} to {label}"))
                return
            values = value if what == "list" else (value,)
            if value is None and op not in ("==", "!="):
                problems.append((name, f"{label} {op} null is never true; use == or != with null"))
            for v in values:
                try:
                    literal_value(fkind, v)  # type: ignore[arg-type]
                except ValueError as exc:
                    problems.append((name, f"{label}: {exc}"))

    walk(tree)
    return problems

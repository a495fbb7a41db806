"""The one list-query builder: lists, the API, reports, link search and export.

Every field, operator, function and sort key is resolved against the metadata;
user text only ever reaches SQL as a bound parameter. Filter forms follow
Frappe: ``{field: value}``, ``{field: [op, value]}``, ``[[field, op, value]]``
and ``[[doctype, field, op, value]]`` (a child doctype's field: "has a row
where..."). A malformed filter is a FilterError naming the field and the value.

Child fields (``rows.amount`` or ```tabChild Doctype`.amount``) selected in
``fields`` or ``group_by`` LEFT JOIN the child table, so each result row is one
(parent, child row) pair and filters on that child apply to the joined row, as
in Frappe. A filter on a child field that is not selected is an EXISTS test
instead, so the parent is listed once (and counts count parents).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import FieldError, FilterError
from engine.metadata.doctype import STANDARD_LABELS, DocType
from engine.metadata.doctype import Field as MetaField
from engine.metadata.fieldtypes import FIELD_TYPES
from engine.rules import timespan, tree
from engine.storage.schema import cached_alias

if TYPE_CHECKING:
    from engine.storage.unit import UnitOfWork

OPERATORS = frozenset({
    "=", "!=", ">", "<", ">=", "<=", "like", "not like", "in", "not in", "is", "between", "timespan",
    *tree.TREE_OPERATORS,
})
_OPERATOR_ALIASES = {"==": "=", "<>": "!=", "not_in": "not in", "not_like": "not like", "equals": "="}
_AGGREGATES = {"count": sa.func.count, "sum": sa.func.sum, "avg": sa.func.avg, "min": sa.func.min, "max": sa.func.max}
_NUMERIC = frozenset({"Int", "Float", "Currency", "Percent", "Check"})
_TEXT = frozenset({"Data", "Small Text", "Text", "Long Text", "Select", "Link", "Dynamic Link", "Read Only"})
_COERCED = frozenset({"Int", "Float", "Currency", "Percent", "Check", "Date", "Datetime", "Time"})
_STANDARD_TYPES = {"creation": "Datetime", "modified": "Datetime", "docstatus": "Int", "idx": "Int"}
_INT_RANGE = (-(2**63), 2**63 - 1)
_MAX_OFFSET = 2**62
MAX_LIMIT = 100_000
MAX_LABEL = 60

# A column reference: `field`, `tablefield.field`, `tabDoctype.field`, with `backtick` or "double" quotes.
_PART = r'(?:`[^`]+`|"[^"]+"|[^\s.`"(),]+)'
_REF = rf"{_PART}(?:\s*\.\s*{_PART})?"
_REF_RE = re.compile(rf"^\s*(?:(?P<left>{_PART})\s*\.\s*)?(?P<right>{_PART})\s*$")
_ALIAS = r"(?:\s+as\s+(?P<alias>[A-Za-z_][A-Za-z0-9_]*))?"
_FIELD_RE = re.compile(
    rf"^\s*(?:(?P<func>[A-Za-z_]+)\s*\(\s*(?P<distinct>distinct\s+)?(?P<arg>\*|{_REF})\s*\)|(?P<ref>{_REF})){_ALIAS}\s*$",
    re.IGNORECASE | re.ASCII,
)
_ORDER_RE = re.compile(
    rf"^\s*(?:(?P<func>[A-Za-z_]+)\s*\(\s*(?P<distinct>distinct\s+)?(?P<arg>\*|{_REF})\s*\)|(?P<ref>{_REF}))"
    r"(?:\s+(?P<dir>asc|desc))?\s*$",
    re.IGNORECASE | re.ASCII,
)


def _fail(doctype: str, message: str, fieldname: str | None = None, value: Any = None,
          label: str | None = None) -> FilterError:
    return FilterError(f"{doctype}: {message}", [FieldError(doctype, fieldname, label, message, value)])


def _unquote(part: str) -> str:
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] and part[0] in "`\"":
        return part[1:-1].strip()
    return part


@dataclass(frozen=True)
class _Col:
    """A resolved column reference."""

    expr: sa.ColumnElement[Any]
    meta: DocType  # the doctype owning the column (the parent, or a child doctype)
    field: MetaField | None  # None for standard columns
    name: str
    tablefield: str | None  # the parent's Table field when the column is in a child table

    @property
    def ftype(self) -> str:
        return self.field.type if self.field else _STANDARD_TYPES.get(self.name, "Data")

    @property
    def label(self) -> str:
        return self.field.label if self.field else STANDARD_LABELS.get(self.name, self.name)

    @property
    def key(self) -> tuple[str | None, str]:
        return self.tablefield, self.name


@dataclass
class _Builder:
    ctx: UnitOfWork
    meta: DocType
    table: sa.FromClause
    joins: dict[str, sa.FromClause] = field(default_factory=dict)  # table field -> joined child alias
    labels: dict[str, tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]] = field(default_factory=dict)
    aggregates: dict[str, sa.ColumnElement[Any]] = field(default_factory=dict)  # labels of aggregate columns
    plain: list[_Col] = field(default_factory=list)  # selected non-aggregate columns
    grouped: set[tuple[str | None, str]] = field(default_factory=set)

    def fail(self, message: str, fieldname: str | None = None, value: Any = None,
             label: str | None = None) -> FilterError:
        return _fail(self.meta.name, message, fieldname, value, label)

    # ----------------------------------------------------------- resolution
    def resolve(self, ref: str) -> tuple[MetaField | None, str, DocType]:
        """'field', 'tabDoctype.field' or 'tablefield.field' -> (table field or None, column name, owner meta)."""
        m = _REF_RE.match(ref) if isinstance(ref, str) else None
        if not m:
            raise self.fail(f"unknown field {ref!r}", str(ref), ref)
        left, name = m.group("left"), _unquote(m.group("right"))
        if left is None:
            return None, name, self.meta
        left = _unquote(left)
        if left.startswith("tab") and left[3:] in self.ctx.site.doctypes:
            target = left[3:]
            if target == self.meta.name:
                return None, name, self.meta
            tf = self.table_field_for(target, ref)
        else:
            tf = self.meta.fields_by_name.get(left)
            if tf is None or tf.type != "Table":
                raise self.fail(f"unknown field {ref!r}", ref, ref)
        return tf, name, self.ctx.site.get_meta(tf.options)  # type: ignore[arg-type]

    def table_field_for(self, child_doctype: str, ref: str) -> MetaField:
        tf = next((f for f in self.meta.table_fields if f.options == child_doctype), None)
        if tf is None:
            raise self.fail(f"{child_doctype!r} is not a child table of {self.meta.name}", ref, child_doctype)
        return tf

    def column_in(self, meta: DocType, table: sa.FromClause, name: str, ref: str,
                  tablefield: str | None) -> _Col:
        f = meta.fields_by_name.get(name)
        if f is not None and f.has_column:
            return _Col(table.c[name], meta, f, name, tablefield)
        if f is None and name in meta.column_names:
            return _Col(table.c[name], meta, None, name, tablefield)
        raise self.fail(f"unknown field {ref!r}", ref, ref)

    def column(self, ref: str, *, join: bool = True) -> _Col:
        """A column of the doctype or of a joined child table (joined on first use when ``join``)."""
        tf, name, meta = self.resolve(ref)
        if tf is None:
            return self.column_in(meta, self.table, name, ref, None)
        if tf.name not in self.joins and not join:
            raise self.fail(f"cannot sort by {ref!r}: a child field sorts only when it is also selected", ref, ref)
        return self.column_in(meta, self.join(tf), name, ref, tf.name)

    def join(self, tf: MetaField) -> sa.FromClause:
        if tf.name not in self.joins:
            self.joins[tf.name] = cached_alias(self.ctx.site.table(tf.options), f"child_{tf.name}")  # type: ignore[arg-type]
        return self.joins[tf.name]

    def from_clause(self) -> sa.FromClause:
        clause: sa.FromClause = self.table
        for tablefield, child in self.joins.items():
            clause = clause.outerjoin(child, sa.and_(
                child.c.parent == self.table.c.name,
                child.c.parenttype == self.meta.name,
                child.c.parentfield == tablefield,
            ))
        return clause

    # -------------------------------------------------------------- fields
    def select_fields(self, fields: Sequence[Any]) -> list[sa.ColumnElement[Any]]:
        """The selected columns; worked out once per doctype and field list (the metadata decides alone)."""
        if self.joins or self.labels or not all(isinstance(f, str) for f in fields):
            return self._select_fields(fields)

        def build() -> tuple[Any, ...]:
            fresh = _Builder(self.ctx, self.meta, self.table)
            out = fresh._select_fields(fields)
            return out, fresh.joins, fresh.labels, fresh.aggregates, fresh.plain

        out, joins, labels, aggregates, plain = self.ctx.site.shaped(("select", self.meta.name, tuple(fields)), build)
        self.joins, self.labels, self.aggregates = dict(joins), dict(labels), dict(aggregates)
        self.plain = list(plain)
        return list(out)

    def _select_fields(self, fields: Sequence[Any]) -> list[sa.ColumnElement[Any]]:
        out: list[sa.ColumnElement[Any]] = []
        for item in fields:
            if not isinstance(item, str):
                raise self.fail(f"field names must be text, got {item!r}", None, item)
            star = item.strip()
            if star == "*" or (star.endswith(".*") and _unquote(star[:-2]) == f"tab{self.meta.name}"):
                for name in self.meta.column_names:
                    col = self.column_in(self.meta, self.table, name, name, None)
                    if name != tree.TREE_PATH_COLUMN and col.ftype != "Password":
                        self.add(out, col.expr, name, col)
                continue
            m = _FIELD_RE.match(item)
            if not m:
                raise self.fail(f"invalid field {item!r}", item, item)
            alias = m.group("alias")
            if m.group("func"):
                expr, label = self.aggregate(m, item)
                label = alias or label
                self.aggregates[label] = self.add(out, expr, label, None)
            else:
                col = self.column(m.group("ref"))
                self.check_usable(col, "select")
                self.add(out, col.expr, alias or col.name, col)
        return out

    def add(self, out: list[sa.ColumnElement[Any]], expr: sa.ColumnElement[Any], label: str,
            col: _Col | None) -> sa.ColumnElement[Any]:
        if len(label) > MAX_LABEL:
            raise self.fail(f"column label {label!r} is too long; give it a shorter alias with 'as'", label, label)
        seen = self.labels.get(label)
        if seen is not None:
            if seen[0].compare(expr):
                return seen[1]
            raise self.fail(f"two fields would both be returned as {label!r}; give one an alias with 'as'",
                            label, label)
        if col is not None:
            self.plain.append(col)
        plain_column = col is not None and col.tablefield is None and label == col.name
        element = expr if plain_column else expr.label(label)
        self.labels[label] = (expr, element)
        out.append(element)
        return element

    def aggregate(self, m: re.Match[str], item: str) -> tuple[sa.ColumnElement[Any], str]:
        func = m.group("func").lower()
        fn = _AGGREGATES.get(func)
        if fn is None:
            raise self.fail(f"function {m.group('func')!r} is not allowed; use count, sum, avg, min or max",
                            item, item)
        arg, distinct = m.group("arg"), bool(m.group("distinct"))
        if arg == "*":
            if func != "count" or distinct:
                raise self.fail(f"{item!r}: only count(*) takes '*'", item, item)
            return sa.func.count(), "count(*)"
        col = self.column(arg)
        if func in ("sum", "avg") and col.ftype not in _NUMERIC:
            raise self.fail(f"{func}() needs a number field, and {col.label} is {col.ftype}", col.name, item,
                            col.label)
        if func != "count" or distinct:
            self.check_usable(col, func)
        elif col.ftype == "Password":
            raise self.fail(f"{col.label} is a password and cannot be queried", col.name, item, col.label)
        expr = fn(sa.distinct(col.expr)) if distinct else fn(col.expr)
        ref = f"{col.tablefield}.{col.name}" if col.tablefield else col.name
        return expr, f"{func}({'distinct ' if distinct else ''}{ref})"

    def check_usable(self, col: _Col, use: str) -> None:
        """Passwords are never read; JSON is selected and tested with 'is' only."""
        if col.ftype == "Password":
            raise self.fail(f"{col.label} is a password and cannot be queried", col.name, None, col.label)
        if col.ftype == "JSON" and use != "select":
            raise self.fail(f"{col.label} holds JSON: it can be selected or tested with 'is set', not used to {use}",
                            col.name, None, col.label)

    # ------------------------------------------------------------- filters
    def conditions(self, filters: Any) -> list[sa.ColumnElement[bool]]:
        return [self.condition(f) for f in normalize_filters(filters, self.meta.name)]

    def condition(self, flt: tuple[str | None, str, str, Any]) -> sa.ColumnElement[bool]:
        doctype, fieldname, op, value = flt
        if doctype and doctype != self.meta.name:
            if doctype not in self.ctx.site.doctypes:
                raise self.fail(f"unknown doctype {doctype!r} in filter", fieldname, doctype)
            tf = self.table_field_for(doctype, fieldname)
            if tf.name in self.joins:
                col = self.column_in(self.ctx.site.get_meta(doctype), self.joins[tf.name], fieldname, fieldname,
                                     tf.name)
                return self.field_condition(col, op, value)
            return self.exists(tf, fieldname, op, value, any_tablefield=True)
        tf, name, meta = self.resolve(fieldname)
        if tf is None:
            return self.field_condition(self.column_in(meta, self.table, name, fieldname, None), op, value)
        if tf.name in self.joins:
            return self.field_condition(self.column_in(meta, self.joins[tf.name], name, fieldname, tf.name), op, value)
        return self.exists(tf, name, op, value, any_tablefield=False)

    def exists(self, tf: MetaField, name: str, op: str, value: Any, any_tablefield: bool) -> sa.ColumnElement[bool]:
        """'Has a row where ...': the parent is listed (and counted) once however many rows match."""
        child_meta = self.ctx.site.get_meta(tf.options)  # type: ignore[arg-type]
        child = cached_alias(self.ctx.site.table(child_meta.name), f"flt_{tf.name}")
        sub = _Builder(self.ctx, child_meta, child)
        col = sub.column_in(child_meta, child, name, name, None)
        link = [child.c.parent == self.table.c.name, child.c.parenttype == self.meta.name]
        if not any_tablefield:
            link.append(child.c.parentfield == tf.name)
        return sa.exists().where(*link, sub.field_condition(col, op, value))

    def field_condition(self, col: _Col, op: str, value: Any) -> sa.ColumnElement[bool]:
        expr, ftype, label, name = col.expr, col.ftype, col.label, col.name
        if op in tree.TREE_OPERATORS:
            return self.tree_condition(col, op, value)
        if op == "is":
            text = str(value).strip().lower() if isinstance(value, str) else None
            if text not in ("set", "not set"):
                raise self.fail(f"{label}: 'is' takes 'set' or 'not set', not {value!r}", name, value, label)
            empty = self.empty(col)
            return sa.not_(empty) if text == "set" else empty
        self.check_usable(col, "filter")
        if op in ("in", "not in"):
            values = _as_list(value)
            coerced = [self.coerce(v, col) for v in values if v not in (None, "")]
            has_empty = any(v in (None, "") for v in values)
            if self.is_id(col) and coerced:
                cond = self.ctx.site.name_in(self.table, [v.lower() for v in coerced])
                return cond if op == "in" else sa.not_(cond)
            if op == "in":
                cond = expr.in_(coerced) if coerced else sa.false()
                return sa.or_(cond, self.empty(col)) if has_empty else cond
            cond = expr.not_in(coerced) if coerced else sa.true()
            return sa.and_(cond, sa.not_(self.empty(col))) if has_empty else sa.or_(cond, expr.is_(None))
        if op == "between":
            return self.between(col, value)
        if op == "timespan":
            if ftype not in ("Date", "Datetime"):
                raise self.fail(f"{label}: 'timespan' applies to dates, and {label} is {ftype}", name, value, label)
            span = timespan.date_range(value, self.ctx.now().date()) if isinstance(value, str) else None
            if span is None:
                raise self.fail(f"{label}: unknown timespan {value!r}; use one of {', '.join(timespan.TIMESPANS)}",
                                name, value, label)
            return self.between(col, list(span))
        if op in ("like", "not like"):
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise self.fail(f"{label}: 'like' takes text, not {value!r}", name, value, label)
            if ftype == "Currency":
                raise self.fail(f"{label}: 'like' does not apply to amounts; use > or <", name, value, label)
            pattern = self.text(str(value), col)
            if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
                pattern += "\\"  # a trailing lone escape character matches itself
            target = expr if ftype in _TEXT else sa.cast(expr, sa.String)
            cond = target.ilike(pattern, escape="\\")
            return cond if op == "like" else sa.or_(sa.not_(cond), expr.is_(None))
        if value is None or (value == "" and ftype in _TEXT and op in ("=", "!=")):
            if op == "=":
                return self.empty(col)
            if op == "!=":
                return sa.not_(self.empty(col))
            return sa.false()
        coerced = self.coerce(value, col)
        if op in ("=", "!=") and self.is_id(col):
            match = self.ctx.site.name_match(self.table, coerced)  # IDs match case-insensitively
            return match if op == "=" else sa.not_(match)
        if op == "=":
            return expr == coerced
        if op == "!=":
            return sa.or_(expr != coerced, expr.is_(None))
        return {">": expr > coerced, "<": expr < coerced, ">=": expr >= coerced, "<=": expr <= coerced}[op]

    def is_id(self, col: _Col) -> bool:
        return col.name == "name" and col.tablefield is None and col.expr.table is self.table \
            and not self.meta.is_child

    def empty(self, col: _Col) -> sa.ColumnElement[bool]:
        if col.ftype in _TEXT:
            if self.ctx.site.engine.dialect.name == "sqlite":
                # SQLite keeps no statistics of NULLs: for "IS NULL OR = ''" it may seek both ranges of the
                # column's index and sort every row found, though "not set" is rarely selective (most
                # customers work at no company). One expression leaves it the list's sort index to walk.
                # PostgreSQL and MariaDB estimate the OR from the column's null fraction and choose well.
                return sa.func.coalesce(col.expr, "") == ""
            return sa.or_(col.expr.is_(None), col.expr == "")
        if col.ftype == "JSON":  # None is stored as JSON null
            return sa.or_(col.expr.is_(None), sa.cast(col.expr, sa.Text) == "null")
        return col.expr.is_(None)

    def between(self, col: _Col, value: Any) -> sa.ColumnElement[bool]:
        values = _as_list(value)
        if len(values) != 2:
            raise self.fail(f"{col.label}: 'between' takes two values (from, to), not {value!r}", col.name, value,
                            col.label)
        low, high = (None if v in (None, "") else self.coerce(v, col) for v in values)
        conds = []
        if low is not None:
            conds.append(col.expr >= low)
        if high is not None:
            end = values[1]
            date_only = (isinstance(end, str) and len(end.strip()) <= 10) or \
                (isinstance(end, dt.date) and not isinstance(end, dt.datetime))
            if col.ftype == "Datetime" and date_only and high < dt.datetime.max - dt.timedelta(days=1):
                conds.append(col.expr < high + dt.timedelta(days=1))  # the whole end day
            else:
                conds.append(col.expr <= high)
        return sa.and_(*conds) if conds else sa.true()

    def tree_condition(self, col: _Col, op: str, value: Any) -> sa.ColumnElement[bool]:
        f = col.field
        target = f.options if f is not None and f.type == "Link" else (col.meta.name if col.name == "name" else None)
        site = self.ctx.site
        if not isinstance(target, str) or target not in site.doctypes or not site.get_meta(target).is_tree:
            raise self.fail(f"{op!r} needs a field linking to a tree doctype, and {col.label} does not",
                            col.name, value, col.label)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(f"{col.label}: {op!r} takes one {target} ID, not {value!r}", col.name, value, col.label)
        return tree.condition(self.ctx, target, col.expr, op, self.text(str(value), col))

    def text(self, value: str, col: _Col) -> str:
        if "\x00" in value:
            raise self.fail(f"{col.label}: {value!r} contains a NUL character", col.name, value, col.label)
        return value

    def coerce(self, value: Any, col: _Col) -> Any:
        if isinstance(value, (list, tuple, set, dict)):
            raise self.fail(f"{col.label}: {value!r} is not a single value", col.name, value, col.label)
        ftype = col.ftype
        if ftype not in _COERCED:
            return self.text(value if isinstance(value, str) else str(value), col)
        spec = _coerce_spec(col.name, ftype, col.label)
        try:
            out = FIELD_TYPES[ftype].coerce(value, spec)  # type: ignore[misc]
        except (ValueError, OverflowError) as exc:
            raise self.fail(f"{col.label} {exc}", col.name, value, col.label) from None
        if (ftype == "Int" and not _INT_RANGE[0] <= out <= _INT_RANGE[1]) or \
                (isinstance(out, float) and not math.isfinite(out)):
            raise self.fail(f"{col.label} {value!r} is out of range", col.name, value, col.label)
        return out

    # ------------------------------------------------------------ group/order
    def group(self, group_by: Any) -> list[sa.ColumnElement[Any]]:
        group_by = _parse_json(group_by, self.meta.name, "group_by")
        out = []
        for item in _as_list(group_by):
            if not isinstance(item, str):
                raise self.fail(f"group_by takes field names, not {item!r}", None, item)
            col = self.column(item)
            self.check_usable(col, "group")
            self.grouped.add(col.key)
            out.append(col.expr)
        return out

    def order(self, order_by: Any, aggregated: bool, distinct: bool) -> list[sa.ColumnElement[Any]]:
        if isinstance(order_by, str) and not (aggregated or distinct or self.joins or self.aggregates):
            # Plain sorts depend on the metadata alone: worked out once per doctype and order.
            key = ("order", self.meta.name, order_by)
            return list(self.ctx.site.shaped(key, lambda: self._order(order_by, False, False)))
        return self._order(order_by, aggregated, distinct)

    def _order(self, order_by: Any, aggregated: bool, distinct: bool) -> list[sa.ColumnElement[Any]]:
        order_by = _parse_order(order_by, self.meta.name)
        if order_by is None or order_by == "" or order_by == []:
            if aggregated:
                return []
            col = self.table.c.get(self.meta.sort_field, self.table.c.modified)
            if distinct and not any(c.expr is col for c in self.plain):
                return []
            return [col.desc() if self.meta.sort_order == "desc" else col.asc()]
        items = order_by.split(",") if isinstance(order_by, str) else order_by
        if not isinstance(items, (list, tuple)):
            raise self.fail(f"invalid order_by {order_by!r}", None, order_by)
        out = []
        for item in items:
            m = _ORDER_RE.match(item) if isinstance(item, str) else None
            if not m:
                raise self.fail(f"invalid order_by {item!r}: use 'field asc' or 'field desc'", None, item)
            desc = (m.group("dir") or "asc").lower() == "desc"
            ref = m.group("ref")
            if m.group("func"):
                if not aggregated:
                    raise self.fail(f"cannot sort by {item!r}: sort by an aggregate only with group_by", None, item)
                expr, _ = self.aggregate(m, item)
                if distinct and not any(seen.compare(expr) for seen, _ in self.labels.values()):
                    raise self.fail(f"cannot sort a distinct list by {item!r}: it is not selected", None, item)
            elif ref is not None and ref.strip() in self.aggregates:
                expr = self.aggregates[ref.strip()]
            else:
                col = self.column(ref, join=False)
                self.check_usable(col, "sort")
                if aggregated and col.key not in self.grouped:
                    raise self.fail(f"cannot sort by {col.label}: it is not in group_by", col.name, item, col.label)
                if distinct and not any(c.key == col.key for c in self.plain):
                    raise self.fail(f"cannot sort a distinct list by {col.label}: it is not selected",
                                    col.name, item, col.label)
                expr = col.expr
            out.append(expr.desc() if desc else expr.asc())
        return out


@functools.lru_cache(maxsize=4096)
def _coerce_spec(name: str, ftype: str, label: str) -> MetaField:
    """The field a filter value is coerced as; precision 6 keeps a filter's decimals (amounts are stored with 6)."""
    return MetaField(name, ftype, label, precision=6 if ftype == "Currency" else None)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",")] if value.strip() else []
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


def _parse_json(value: Any, doctype: str, what: str) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return None
        if value.lstrip()[:1] not in "[{\"" and what != "filters":
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _fail(doctype, f"{what} is not valid JSON: {value[:80]!r}", None, value) from None
    return value


def _parse_order(order_by: Any, doctype: str) -> Any:
    return _parse_json(order_by, doctype, "order_by")


def normalize_filters(filters: Any, doctype: str) -> list[tuple[str | None, str, str, Any]]:
    """Any Frappe filter form -> [(doctype or None, field, operator, value)]."""
    filters = _parse_json(filters, doctype, "filters")
    if not filters:
        return []
    out: list[tuple[Any, Any, str, Any]] = []
    if isinstance(filters, Mapping):
        for key, value in filters.items():
            if isinstance(value, (list, tuple)) and value and isinstance(value[0], str) \
                    and _norm_op(value[0]) in OPERATORS and len(value) <= 2:
                out.append((None, key, _norm_op(value[0]), value[1] if len(value) > 1 else None))
            else:
                out.append((None, key, "=", value))
        return [_checked(f, doctype) for f in out]
    if not isinstance(filters, (list, tuple)):
        raise _fail(doctype, f"filters must be a mapping or a list, not {type(filters).__name__}", None, filters)
    if filters and isinstance(filters[0], str):
        filters = [filters]  # a single [field, op, value]
    for item in filters:
        if isinstance(item, Mapping):
            out.extend(normalize_filters(item, doctype))
            continue
        if not isinstance(item, (list, tuple)) or not 2 <= len(item) <= 5:
            raise _fail(doctype, f"invalid filter {item!r}: use [field, operator, value]", None, item)
        if len(item) == 2:
            if isinstance(item[1], str) and _norm_op(item[1]) in OPERATORS:
                raise _fail(doctype, f"filter {list(item)!r} has an operator and no value: use "
                                     f"[field, operator, value]", item[0] if isinstance(item[0], str) else None, item)
            out.append((None, item[0], "=", item[1]))
        elif len(item) == 3:
            out.append((None, item[0], _norm_op(item[1]), item[2]))
        else:  # [doctype, field, op, value] (Frappe may append a 5th element)
            out.append((item[0], item[1], _norm_op(item[2]), item[3]))
    return [_checked(f, doctype) for f in out]


def _norm_op(op: Any) -> str:
    text = str(op).strip().lower()
    return _OPERATOR_ALIASES.get(text, text)


def _checked(flt: tuple[Any, Any, str, Any], doctype: str) -> tuple[str | None, str, str, Any]:
    dt_name, fieldname, op, value = flt
    if not isinstance(fieldname, str) or not fieldname:
        raise _fail(doctype, f"filter field must be a field name, not {fieldname!r}", None, fieldname)
    if dt_name is not None and not isinstance(dt_name, str):
        raise _fail(doctype, f"filter doctype must be text, not {dt_name!r}", fieldname, dt_name)
    if op not in OPERATORS:
        raise _fail(doctype, f"unknown operator {op!r} for {fieldname!r}; use one of {', '.join(sorted(OPERATORS))}",
                    fieldname, op)
    return dt_name, fieldname, op, value


def _field_list(fields: Any, doctype: str) -> list[Any]:
    fields = _parse_json(fields, doctype, "fields")
    if not fields:
        return ["name"]
    if isinstance(fields, str):
        fields = [f for f in fields.split(",") if f.strip()]
    if not isinstance(fields, (list, tuple)):
        raise _fail(doctype, f"fields must be a list of field names, not {fields!r}", None, fields)
    return list(fields) or ["name"]


def build_select(ctx: UnitOfWork, doctype: str, fields: Any = None, filters: Any = None, or_filters: Any = None,
                 order_by: Any = None, limit: Any = None, offset: Any = 0, group_by: Any = None,
                 extra: Sequence[sa.ColumnElement[bool]] = (), distinct: bool = False) -> sa.Select[Any]:
    """The SELECT for a list query; every name checked against the metadata."""
    meta = ctx.site.get_meta(doctype)
    b = _Builder(ctx, meta, ctx.site.table(doctype))
    columns = b.select_fields(_field_list(fields, doctype))
    groups = b.group(group_by) if group_by else []
    aggregated = bool(b.aggregates or groups)
    if aggregated:
        for col in b.plain:
            if col.key not in b.grouped:
                raise b.fail(f"{col.label} must be in group_by or inside count/sum/avg/min/max", col.name, None,
                             col.label)
    if distinct and not b.joins and any(c.key == (None, "name") for c in b.plain):
        distinct = False  # rows are distinct already
    if distinct:
        for col in b.plain:
            if col.ftype == "JSON":
                raise b.fail(f"{col.label} holds JSON and cannot be in a distinct list", col.name, None, col.label)
    where = b.conditions(filters) + list(extra)
    any_of = b.conditions(or_filters)
    stmt = sa.select(*columns)
    if distinct:
        stmt = stmt.distinct()
    if where:
        stmt = stmt.where(*where)
    if any_of:
        stmt = stmt.where(sa.or_(*any_of))
    if groups:
        stmt = stmt.group_by(*groups)
    stmt = stmt.order_by(*b.order(order_by, aggregated, distinct)).select_from(b.from_clause())
    limit_n, offset_n = _int_arg(limit, doctype, "limit"), _int_arg(offset, doctype, "offset")
    if limit_n:
        stmt = stmt.limit(min(limit_n, MAX_LIMIT))
    if offset_n:
        stmt = stmt.offset(offset_n)
    return stmt


def build_count(ctx: UnitOfWork, doctype: str, filters: Any = None, or_filters: Any = None,
                extra: Sequence[sa.ColumnElement[bool]] = (), distinct: bool = False) -> sa.Select[Any]:
    """SELECT count(*) of the documents matching; child filters are EXISTS, so parents count once."""
    meta = ctx.site.get_meta(doctype)
    b = _Builder(ctx, meta, ctx.site.table(doctype))
    where = b.conditions(filters) + list(extra)
    any_of = b.conditions(or_filters)
    count = sa.func.count(sa.distinct(b.table.c.name)) if b.joins or distinct else sa.func.count()
    stmt = sa.select(count)
    if where:
        stmt = stmt.where(*where)
    if any_of:
        stmt = stmt.where(sa.or_(*any_of))
    return stmt.select_from(b.from_clause())


def _int_arg(value: Any, doctype: str, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value.strip() if isinstance(value, str) else value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise _fail(doctype, f"{what} must be a whole number, not {value!r}", what, value) from None
    if number < 0:
        raise _fail(doctype, f"{what} cannot be negative ({number})", what, value)
    if number > _MAX_OFFSET:
        raise _fail(doctype, f"{what} is too large ({number})", what, value)
    return number

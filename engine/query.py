"""The one list-query builder: lists, the API, reports, link search and export.

Every field, operator, function and sort key is resolved against the metadata;
user text only ever reaches SQL as a bound parameter. Filter forms follow
Frappe: ``{field: value}``, ``{field: [op, value]}``, ``[[field, op, value]]``
and ``[[doctype, field, op, value]]`` (a child doctype's field: "has a row
where..."). A malformed filter is a FilterError naming the field and the value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine import tree
from engine.errors import FilterError
from engine.meta import STANDARD_COLUMNS, DocType
from engine.meta import Field as MetaField

if TYPE_CHECKING:
    from engine.session import Session

OPERATORS = frozenset({
    "=", "!=", ">", "<", ">=", "<=", "like", "not like", "in", "not in", "is", "between",
    *tree.TREE_OPERATORS,
})
_OPERATOR_ALIASES = {"==": "=", "<>": "!=", "not_in": "not in", "not_like": "not like", "equals": "="}
_AGGREGATES = {"count": sa.func.count, "sum": sa.func.sum, "avg": sa.func.avg, "min": sa.func.min, "max": sa.func.max}
_FIELD_RE = re.compile(
    r"^\s*(?:(?P<func>[A-Za-z_]+)\s*\(\s*(?P<distinct>distinct\s+)?(?P<arg>\*|[^()]*?)\s*\)|(?P<ref>[^\s()]+?))"
    r"(?:\s+as\s+(?P<alias>[A-Za-z_][A-Za-z0-9_]*))?\s*$",
    re.IGNORECASE,
)
_ORDER_RE = re.compile(r"^\s*(?P<ref>[^\s]+?)(?:\s+(?P<dir>asc|desc))?\s*$", re.IGNORECASE)
_CHILD_COLUMNS = (*STANDARD_COLUMNS, "parent", "parenttype", "parentfield")
MAX_LIMIT = 100_000


def _fail(doctype: str, message: str, fieldname: str | None = None, value: Any = None) -> FilterError:
    from engine.errors import FieldError

    return FilterError(f"{doctype}: {message}", [FieldError(doctype, fieldname, None, message, value)])


@dataclass
class _Builder:
    ctx: Session
    meta: DocType
    table: sa.Table
    joins: dict[str, sa.Table] = field(default_factory=dict)  # table field -> joined child alias

    # ----------------------------------------------------------- resolution
    def column(self, ref: str) -> tuple[sa.ColumnElement, DocType, MetaField | None]:
        """Resolve 'field', 'tabDoctype.field', '`tabDoctype`.`field`' or 'tablefield.field'."""
        text = ref.replace("`", "").replace('"', "").strip()
        meta, table = self.meta, self.table
        if "." in text:
            left, _, text = text.rpartition(".")
            if left.startswith("tab") and left[3:] in self.ctx.site.doctypes:
                target = left[3:]
                if target != self.meta.name:
                    tf = next((f for f in self.meta.table_fields if f.options == target), None)
                    if tf is None:
                        raise _fail(self.meta.name, f"{target!r} is not a child table of {self.meta.name}", ref)
                    meta, table = self.ctx.site.get_meta(target), self.join(tf)
            else:
                tf = self.meta.fields_by_name.get(left)
                if tf is None or tf.type != "Table":
                    raise _fail(self.meta.name, f"unknown field {ref!r}", ref)
                meta, table = self.ctx.site.get_meta(tf.options), self.join(tf)  # type: ignore[arg-type]
        f = meta.fields_by_name.get(text)
        if f is not None and f.has_column:
            return table.c[text], meta, f
        if text in meta.column_names:
            return table.c[text], meta, None
        raise _fail(self.meta.name, f"unknown field {ref!r}", ref)

    def join(self, tf: MetaField) -> sa.Table:
        if tf.name not in self.joins:
            child = self.ctx.site.table(tf.options).alias(f"child_{tf.name}")  # type: ignore[arg-type]
            self.joins[tf.name] = child
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
    def select_fields(self, fields: Sequence[str]) -> list[sa.ColumnElement]:
        out: list[sa.ColumnElement] = []
        for item in fields:
            if not isinstance(item, str):
                raise _fail(self.meta.name, f"field names must be text, got {item!r}")
            if item.strip() in ("*", f"`tab{self.meta.name}`.*", f"tab{self.meta.name}.*"):
                out.extend(self.table.c[c] for c in self.meta.column_names)
                continue
            m = _FIELD_RE.match(item)
            if not m:
                raise _fail(self.meta.name, f"invalid field {item!r}", item)
            alias = m.group("alias")
            if m.group("func"):
                fn = _AGGREGATES.get(m.group("func").lower())
                if fn is None:
                    raise _fail(self.meta.name, f"function {m.group('func')!r} is not allowed", item)
                arg = m.group("arg")
                if arg == "*":
                    expr: sa.ColumnElement = sa.func.count()
                else:
                    col = self.column(arg)[0]
                    expr = fn(sa.distinct(col)) if m.group("distinct") else fn(col)
                label = alias or f"{m.group('func').lower()}({arg.strip()})"
                out.append(expr.label(label))
            else:
                col, _, _ = self.column(m.group("ref"))
                label = alias or m.group("ref").replace("`", "").replace('"', "").rpartition(".")[2]
                out.append(col if label == col.key and col.table is self.table else col.label(label))
        return out

    # ------------------------------------------------------------- filters
    def conditions(self, filters: Any) -> list[sa.ColumnElement]:
        return [self.condition(f) for f in normalize_filters(filters, self.meta.name)]

    def condition(self, flt: tuple[str | None, str, str, Any]) -> sa.ColumnElement:
        doctype, fieldname, op, value = flt
        if doctype and doctype != self.meta.name:
            if doctype not in self.ctx.site.doctypes:
                raise _fail(self.meta.name, f"unknown doctype {doctype!r} in filter", fieldname, doctype)
            child_meta = self.ctx.site.get_meta(doctype)
            tf = next((f for f in self.meta.table_fields if f.options == doctype), None)
            if tf is None:
                raise _fail(self.meta.name, f"{doctype!r} is not a child table of {self.meta.name}", fieldname)
            child = self.ctx.site.table(doctype).alias(f"flt_{tf.name}")
            sub = _Builder(self.ctx, child_meta, child)
            inner = sub.field_condition(fieldname, op, value)
            return sa.exists().where(child.c.parent == self.table.c.name,
                                     child.c.parenttype == self.meta.name, inner)
        return self.field_condition(fieldname, op, value)

    def field_condition(self, fieldname: str, op: str, value: Any) -> sa.ColumnElement:
        col, meta, f = self.column(fieldname)
        ftype = f.type if f else _standard_type(fieldname)
        label = f.label if f else fieldname
        if op in tree.TREE_OPERATORS:
            target = f.options if f is not None and f.type == "Link" else (meta.name if fieldname == "name" else None)
            if not target or target not in self.ctx.site.doctypes or not self.ctx.site.get_meta(target).is_tree:
                raise _fail(self.meta.name, f"{op!r} needs a field linking to a tree doctype ({label})", fieldname)
            return tree.condition(self.ctx, target, col, op, str(value))
        if op == "is":
            text = str(value).lower()
            if text not in ("set", "not set"):
                raise _fail(self.meta.name, f"{label}: 'is' takes 'set' or 'not set', not {value!r}", fieldname, value)
            empty = col.is_(None) if not _is_text(ftype) else sa.or_(col.is_(None), col == "")
            return sa.not_(empty) if text == "set" else empty
        if op in ("in", "not in"):
            values = _as_list(value)
            coerced = [self.coerce(v, ftype, label, fieldname) for v in values if v not in (None, "")]
            has_empty = any(v in (None, "") for v in values)
            if op == "in":
                cond = col.in_(coerced) if coerced else sa.false()
                return sa.or_(cond, col.is_(None)) if has_empty else cond
            cond = col.not_in(coerced) if coerced else sa.true()
            return sa.and_(cond, col.is_not(None)) if has_empty else sa.or_(cond, col.is_(None))
        if op == "between":
            values = _as_list(value)
            if len(values) != 2:
                raise _fail(self.meta.name, f"{label}: 'between' takes two values", fieldname, value)
            low, high = (self.coerce(v, ftype, label, fieldname) for v in values)
            if ftype == "Datetime" and isinstance(high, dt.datetime) and high.time() == dt.time() \
                    and isinstance(values[1], str) and len(values[1].strip()) <= 10:
                high = high + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
            return col.between(low, high)
        if op in ("like", "not like"):
            if not isinstance(value, (str, int, float)):
                raise _fail(self.meta.name, f"{label}: 'like' takes text, not {value!r}", fieldname, value)
            cond = col.ilike(str(value)) if _is_text(ftype) else sa.cast(col, sa.String).ilike(str(value))
            return cond if op == "like" else sa.or_(sa.not_(cond), col.is_(None))
        if value is None:
            return col.is_(None) if op == "=" else col.is_not(None) if op == "!=" else sa.false()
        coerced = self.coerce(value, ftype, label, fieldname)
        if op == "=":
            return col == coerced
        if op == "!=":
            return sa.or_(col != coerced, col.is_(None))
        return {">": col > coerced, "<": col < coerced, ">=": col >= coerced, "<=": col <= coerced}[op]

    def coerce(self, value: Any, ftype: str, label: str, fieldname: str) -> Any:
        from engine.fieldtypes import FIELD_TYPES

        if isinstance(value, (list, dict)):
            raise _fail(self.meta.name, f"{label}: {value!r} is not a single value", fieldname, value)
        if ftype in ("Int", "Float", "Currency", "Percent", "Check", "Date", "Datetime", "Time"):
            spec = MetaField(fieldname, ftype, label)
            try:
                return FIELD_TYPES[ftype].coerce(value, spec)  # type: ignore[misc]
            except ValueError as exc:
                raise _fail(self.meta.name, f"{label} {exc}", fieldname, value) from None
        return value if isinstance(value, str) else str(value)

    # ------------------------------------------------------------ order by
    def order(self, order_by: str | Sequence[str] | None) -> list[sa.ColumnElement]:
        if order_by is None or order_by == "":
            col = self.table.c.get(self.meta.sort_field, self.table.c.modified)
            return [col.desc() if self.meta.sort_order == "desc" else col.asc()]
        items = order_by.split(",") if isinstance(order_by, str) else list(order_by)
        out = []
        for item in items:
            m = _ORDER_RE.match(str(item))
            if not m:
                raise _fail(self.meta.name, f"invalid order_by {item!r}", None, item)
            col = self.column(m.group("ref"))[0]
            out.append(col.desc() if (m.group("dir") or "asc").lower() == "desc" else col.asc())
        return out


def _standard_type(name: str) -> str:
    return {"creation": "Datetime", "modified": "Datetime", "docstatus": "Int", "idx": "Int"}.get(name, "Data")


def _is_text(ftype: str) -> bool:
    return ftype in ("Data", "Small Text", "Text", "Long Text", "Select", "Link", "Dynamic Link", "Read Only")


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
        try:
            return json.loads(value)
        except ValueError:
            raise _fail(doctype, f"{what} is not valid JSON: {value[:80]!r}") from None
    return value


def normalize_filters(filters: Any, doctype: str) -> list[tuple[str | None, str, str, Any]]:
    """Any Frappe filter form -> [(doctype or None, field, operator, value)]."""
    filters = _parse_json(filters, doctype, "filters")
    if not filters:
        return []
    out: list[tuple[str | None, str, str, Any]] = []
    if isinstance(filters, Mapping):
        for key, value in filters.items():
            if isinstance(value, (list, tuple)) and value and isinstance(value[0], str) \
                    and _norm_op(value[0]) in OPERATORS and len(value) <= 2:
                out.append((None, str(key), _norm_op(value[0]), value[1] if len(value) > 1 else None))
            else:
                out.append((None, str(key), "=", value))
        return [_checked(f, doctype) for f in out]
    if not isinstance(filters, (list, tuple)):
        raise _fail(doctype, f"filters must be a mapping or a list, not {type(filters).__name__}")
    for item in filters:
        if isinstance(item, Mapping):
            out.extend(normalize_filters(item, doctype))
            continue
        if not isinstance(item, (list, tuple)) or not 2 <= len(item) <= 5:
            raise _fail(doctype, f"invalid filter {item!r}: use [field, operator, value]", None, item)
        if len(item) == 2:
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


def build_select(ctx: Session, doctype: str, fields: Any = None, filters: Any = None, or_filters: Any = None,
                 order_by: Any = None, limit: Any = None, offset: Any = 0, group_by: Any = None,
                 extra: Sequence[sa.ColumnElement] = (), distinct: bool = False) -> sa.Select:
    """The SELECT for a list query; every name checked against the metadata."""
    meta = ctx.site.get_meta(doctype)
    b = _Builder(ctx, meta, ctx.site.table(doctype))
    fields = _parse_json(fields, doctype, "fields") or ["name"]
    if isinstance(fields, str):
        fields = [f for f in fields.split(",") if f.strip()]
    if not isinstance(fields, (list, tuple)):
        raise _fail(doctype, "fields must be a list of field names")
    columns = b.select_fields(fields)
    where = b.conditions(filters) + list(extra)
    any_of = b.conditions(or_filters)
    stmt = sa.select(*columns)
    if distinct:
        stmt = stmt.distinct()
    if where:
        stmt = stmt.where(*where)
    if any_of:
        stmt = stmt.where(sa.or_(*any_of))
    if group_by:
        stmt = stmt.group_by(*(b.column(g)[0] for g in _as_list(group_by)))
    has_aggregate = any(isinstance(c, sa.Label) and isinstance(c.element, sa.FunctionElement) for c in columns)
    if not (has_aggregate and not group_by and not order_by):
        stmt = stmt.order_by(*b.order(_parse_order(order_by)))
    stmt = stmt.select_from(b.from_clause())
    limit_n, offset_n = _int_arg(limit, doctype, "limit"), _int_arg(offset, doctype, "offset") or 0
    if limit_n:
        stmt = stmt.limit(min(limit_n, MAX_LIMIT))
    if offset_n:
        stmt = stmt.offset(offset_n)
    return stmt


def build_count(ctx: Session, doctype: str, filters: Any = None, or_filters: Any = None,
                extra: Sequence[sa.ColumnElement] = (), distinct: bool = False) -> sa.Select:
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


def _parse_order(order_by: Any) -> Any:
    if isinstance(order_by, str) and order_by.strip().startswith("["):
        return json.loads(order_by)
    return order_by


def _int_arg(value: Any, doctype: str, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _fail(doctype, f"{what} must be a whole number, not {value!r}", None, value) from None
    if number < 0:
        raise _fail(doctype, f"{what} cannot be negative ({number})", None, value)
    return number

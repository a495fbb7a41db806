"""Naming rules: how a new document gets its ID.

Counters (duplicate suffixes, series, autoincrement) live in one table of rows
keyed by doctype and base. A writer increments only its own key's row, so writers
of different names never wait for each other; writers of the same base queue on
that one row. A suffix is the next integer after the largest ever used for the
base (found once, by an anchored match, when the counter row is created), so
suffixes are never reused after a delete.

On PostgreSQL and MariaDB two writers may both find a base name free; the loser's
insert then hits the case-insensitive unique index, and :func:`claim_suffix`
gives it the next suffix (see :func:`engine.writer.insert`). SQLite serialises
writers, so there it never happens.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from engine.errors import FieldError, MandatoryError, NamingError

if TYPE_CHECKING:
    from engine.document import Document
    from engine.session import Session

MAX_NAME_LENGTH = 140
_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SERIES_DATE = {
    "YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d",
}


def normalize_name(value: Any) -> str:
    """Trim and collapse inner whitespace: '  Acme   Ltd ' -> 'Acme Ltd'."""
    return _WS.sub(" ", str(value)).strip()


def check_name(doctype: str, name: str) -> str:
    if not name:
        raise NamingError(f"{doctype}: the ID cannot be empty")
    if _CONTROL.search(name):
        raise NamingError(f"{doctype}: the ID {name!r} contains control characters")
    if len(name) > MAX_NAME_LENGTH:
        raise NamingError(f"{doctype}: the ID is too long ({len(name)} characters; at most {MAX_NAME_LENGTH})")
    return name


def set_name(doc: Document, ctx: Session) -> None:
    """The ``set_name`` lifecycle step."""
    meta = doc.meta
    rule = meta.naming
    doc.flags.name_suffixed = False
    current = doc.get("name")
    if current and rule.rule != "prompt":  # set by a before_naming/before_insert hook
        doc.name = check_name(meta.name, normalize_name(current))
        doc.flags.name_retry = "error"
        return
    if rule.rule == "prompt":
        if not current:
            raise NamingError(f"{meta.name}: enter an ID (name); this doctype is named by the user")
        doc.name = check_name(meta.name, normalize_name(current))
        doc.flags.name_retry = "error"
    elif rule.rule in ("field", "expression"):
        base = check_name(meta.name, _base(doc))
        doc.flags.name_base = base
        if rule.on_duplicate == "error":
            doc.name = base
            doc.flags.name_retry = "error"
        elif ctx.name_exists(meta, base):
            claim_suffix(doc, ctx)
        else:
            doc.name = base
            doc.flags.name_retry = "suffix"
    elif rule.rule == "series":
        doc.name = check_name(meta.name, _series(doc, ctx))
        doc.flags.name_retry = "error"
    elif rule.rule == "autoincrement":
        doc.name = str(next_counter(ctx, meta.name, "#", lambda: _max_int_name(ctx, doc)))
        doc.flags.name_retry = "error"
    else:  # hash
        doc.name = secrets.token_hex(5)
        doc.flags.name_retry = "hash"


def claim_suffix(doc: Document, ctx: Session) -> None:
    """Give ``doc`` the next free ``Base-N`` for its base name."""
    meta = doc.meta
    base: str = doc.flags.name_base
    sep = meta.naming.separator
    pattern = re.compile(re.escape(base + sep) + r"(\d+)", re.IGNORECASE)

    def largest_used() -> int:
        table = ctx.site.table(meta.name)
        names = ctx.conn.execute(
            sa.select(table.c.name).where(table.c.name.istartswith(base + sep, autoescape=True))
        ).scalars()
        return max((int(m.group(1)) for n in names if (m := pattern.fullmatch(n))), default=0)

    number = next_counter(ctx, meta.name, base.lower(), largest_used)
    doc.name = check_name(meta.name, f"{base}{sep}{number}")
    doc.flags.name_suffixed = True
    doc.flags.name_retry = "suffix"


def _base(doc: Document) -> str:
    rule = doc.meta.naming
    if rule.rule == "field":
        value = doc.get(rule.field)  # type: ignore[arg-type]
        base = normalize_name(value) if value is not None else ""
        if not base:
            f = doc.meta.fields_by_name[rule.field]  # type: ignore[index]
            raise MandatoryError.from_errors([FieldError(
                doc.doctype, f.name, f.label, f"{doc.doctype}: {f.label} is required (it names the record)",
                kind=MandatoryError,
            )])
        return base
    return normalize_name(render_expression(rule.pattern or "", doc))


def render_expression(pattern: str, doc: Document) -> str:
    """Format ``{field}`` references with the document's values; no attribute access."""
    out = []
    for literal, field, spec, conv in string.Formatter().parse(pattern):
        out.append(literal)
        if field is None:
            continue
        if not re.fullmatch(r"[a-z][a-z0-9_]*", field) or conv:
            raise NamingError(f"{doc.doctype}: naming pattern field {field!r} is not a plain field name")
        value = doc.get(field)
        if value is None or value == "":
            f = doc.meta.fields_by_name.get(field)
            label = f.label if f else field
            raise MandatoryError.from_errors([FieldError(
                doc.doctype, field, label, f"{doc.doctype}: {label} is required (it names the record)",
                kind=MandatoryError,
            )])
        if isinstance(value, (dt.date, dt.datetime)) and not spec:
            value = value.isoformat()
        elif isinstance(value, Decimal) and not spec:
            value = format(value, "f")
        out.append(format(value, spec or ""))
    return "".join(out)


def _series(doc: Document, ctx: Session) -> str:
    pattern = doc.meta.naming.pattern or ""
    today = dt.date.today()
    prefix, width, rest, after = [], 0, [], False
    for part in pattern.split("."):
        if part and set(part) == {"#"}:
            width, after = len(part), True
            continue
        if part in _SERIES_DATE:
            text = today.strftime(_SERIES_DATE[part])
        elif part.startswith("{") and part.endswith("}"):
            text = normalize_name(doc.get(part[1:-1]) or "")
        else:
            text = part
        (rest if after else prefix).append(text)
    key = "".join(prefix)
    number_re = re.compile(re.escape(key) + r"(\d+)" + re.escape("".join(rest)))
    table = ctx.site.table(doc.doctype)

    def largest_used() -> int:
        names = ctx.conn.execute(
            sa.select(table.c.name).where(table.c.name.startswith(key, autoescape=True))
        ).scalars()
        return max((int(m.group(1)) for n in names if (m := number_re.fullmatch(n))), default=0)

    number = next_counter(ctx, doc.doctype, key, largest_used)
    return f"{key}{number:0{width}d}{''.join(rest)}"


def _max_int_name(ctx: Session, doc: Document) -> int:
    table = ctx.site.table(doc.doctype)
    names = ctx.conn.execute(sa.select(table.c.name)).scalars()
    return max((int(n) for n in names if n.isdigit()), default=0)


def next_counter(ctx: Session, doctype: str, key: str, largest_used: Any) -> int:
    """Atomically take the next number of a counter, creating it from existing data."""
    conn = ctx.conn
    t = ctx.site.counter_table
    counter_key = f"{doctype}::{key}"[: t.c.name.type.length]  # type: ignore[attr-defined]
    bump = t.update().where(t.c.name == counter_key).values(current=t.c.current + 1)
    if conn.execute(bump).rowcount == 0:
        start = int(largest_used()) + 1
        conn.execute(_upsert_increment(conn.dialect.name, t, counter_key, start))
    return int(conn.execute(sa.select(t.c.current).where(t.c.name == counter_key)).scalar_one())


def _upsert_increment(dialect: str, t: sa.Table, key: str, start: int) -> sa.Executable:
    """Insert the counter at ``start``, or increment it if a concurrent writer created it.

    One statement taking an exclusive lock either way, so concurrent creators queue
    instead of deadlocking on a shared-to-exclusive lock upgrade (MariaDB).
    """
    values = {"name": key, "current": start}
    if dialect == "postgresql":
        stmt = postgresql.insert(t).values(values)
        return stmt.on_conflict_do_update(index_elements=[t.c.name], set_={"current": t.c.current + 1})
    if dialect in ("mysql", "mariadb"):
        stmt = mysql.insert(t).values(values)
        return stmt.on_duplicate_key_update(current=t.c.current + 1)
    stmt = sqlite.insert(t).values(values)
    return stmt.on_conflict_do_update(index_elements=[t.c.name], set_={"current": t.c.current + 1})

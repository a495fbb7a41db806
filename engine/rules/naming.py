"""Naming rules: how a new document gets its ID (SPEC 1.3).

Rules: ``field`` (a field's value, trimmed, inner whitespace collapsed),
``expression`` (a format string over fields), ``series`` (``INV-.YYYY.-.#####``),
``autoincrement``, ``hash`` (10 random characters) and ``prompt`` (the caller
supplies it). IDs are unique case-insensitively on every database.

Counters (duplicate suffixes, series, autoincrement) live in one table of rows
keyed by ``doctype::key``. A writer increments only its own key's row, so
writers of different names never wait for each other; writers of the same base
queue on that one row until they commit (which also makes series gap-free: the
counter is bumped inside the document's transaction, so a failed insert rolls
its number back).

A suffix is the next integer after the largest ever used for the base. That is
found once, when the counter row is created, by an anchored, exact match of
``Base<sep><digits>`` (a prefix query only narrows the candidates, so "Base Corp-7"
or "Basex-3" never count), and kept up to date when a document is named
``Base<sep>N`` directly. Counter rows are never deleted, so suffixes are never
reused after a delete.

Two writers may both find a base name free (on PostgreSQL and MariaDB; SQLite
serialises writers with ``BEGIN IMMEDIATE``). The loser's insert hits the
case-insensitive unique index, and :func:`engine.documents.writer.insert` calls
:func:`claim_suffix` for the next suffix, inside a savepoint. The same retry
skips a suffix that is taken by a name the counter did not know about.

MariaDB only: when a writer that already wrote a new ID (or created a counter row)
rolls back while two or more others wait for that row, InnoDB makes the waiters
deadlock (error 1213) and undoes one of them entirely; ``Session.run_lifecycle``
runs that operation again. Writers that commit never deadlock here.
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

from engine.errors import (
    DocframeError,
    DuplicateEntryError,
    FieldError,
    InvalidValueError,
    MandatoryError,
    NamingError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.rules.record import Record
    from engine.storage.unit import UnitOfWork

MAX_NAME_LENGTH = 140
HASH_LENGTH = 10
_HASH_ALPHABET = string.digits + string.ascii_lowercase  # lowercase: IDs are case-insensitive
_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # and lone surrogates: no driver can send them
_PLAIN_FIELD = re.compile(r"[a-z][a-z0-9_]*")
_MAX_SUFFIX_DIGITS = 18  # counters are BIGINT; longer digit runs are not suffixes
_SERIES_DATE = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}


def normalize_name(value: Any) -> str:
    """Trim and collapse inner whitespace: '  Acme   Ltd ' -> 'Acme Ltd'."""
    return _WS.sub(" ", str(value)).strip()


class _Invalid(Exception):
    """A value the ID comes from is unusable; ``error`` says which field and why."""

    def __init__(self, error: FieldError):
        super().__init__(error.message)
        self.error = error

    def public(self) -> Exception:
        kind = self.error.kind or NamingError
        return kind(self.error.message, [self.error])


def check_name(doctype: str, name: str, label: str = "ID", field: str = "name") -> str:
    """Refuse IDs that are empty, contain control characters or are too long (NamingError)."""
    try:
        return _checked(doctype, name, label, field)
    except _Invalid as problem:
        raise problem.public() from None


def _checked(doctype: str, name: str, label: str, field: str) -> str:
    def fail(message: str) -> _Invalid:
        return _Invalid(FieldError(doctype, field, label, message, name, None, NamingError))

    if not name:
        if field == "name":
            raise fail(f"{doctype}: enter an ID (name); this doctype is named by the user")
        raise fail(f"{doctype}: the ID cannot be empty")
    if m := _CONTROL.search(name):
        raise fail(f"{doctype}: {label} {name!r} cannot be an ID: it contains the control character "
                   f"U+{ord(m.group()):04X}")
    if len(name) > MAX_NAME_LENGTH:
        raise fail(f"{doctype}: {label} {name[:40]!r}... is too long to be an ID "
                   f"({len(name)} characters; at most {MAX_NAME_LENGTH})")
    return name


def set_name(doc: Record, ctx: UnitOfWork) -> None:
    """The ``set_name`` lifecycle step: give a new document its ID.

    Sets ``doc.flags.name_suffixed`` (True when a duplicate got ``-N``) and, for
    the field and expression rules, ``doc.flags.name_base`` (the unsuffixed ID).
    A name already set by a ``before_insert``/``before_naming`` hook is honoured
    (a caller-supplied name never gets here: ``check_new`` refuses it).

    A problem with the values the ID comes from (naming field empty, control
    characters, too long) does not raise here: it is put in
    ``doc.flags.naming_errors`` and the ``check_fields`` step reports it together
    with every other error of the document. The document then has no name.
    """
    meta = doc.meta
    rule = meta.naming
    doc.flags.name_suffixed = False
    doc.flags.name_base = None
    doc.flags.name_retry = "error"
    current = doc.get("name")
    if not current and rule.rule == "prompt" and rule.field:  # the ID defaults to a field (a User's email)
        current = doc.get(rule.field)
        current = current.strip() if isinstance(current, str) else current
    try:
        if current or rule.rule == "prompt":
            doc.name = _checked(meta.name, normalize_name(current if current is not None else ""), "ID", "name")
        elif rule.rule in ("field", "expression"):
            label, field = _naming_label(doc)
            base = _checked(meta.name, _base(doc), label, field)
            doc.flags.name_base = base
            if rule.on_duplicate == "error":
                doc.name = base
            elif ctx.name_exists(meta, base):
                claim_suffix(doc, ctx)
            else:
                doc.name = base
                doc.flags.name_retry = "suffix"
                _raise_suffix_floor(doc, ctx, base)
        elif rule.rule == "series":
            doc.name = _checked(meta.name, _series(doc, ctx), "ID", "name")
        elif rule.rule == "autoincrement":
            doc.name = str(next_counter(ctx, meta.name, "#", lambda: _max_int_name(ctx, doc)))
        else:  # hash
            doc.name = "".join(secrets.choice(_HASH_ALPHABET) for _ in range(HASH_LENGTH))
    except _Invalid as problem:
        doc.name = None
        doc.flags.naming_errors = [problem.error]


def prefetch(docs: list[Record], ctx: UnitOfWork) -> None:
    """Whether the IDs a batch's naming rule gives are taken: one query (inside ``ctx.memoized()``).

    Only the field and expression rules ask; :func:`set_name` of each document then
    finds the answer remembered.
    """
    if not docs:
        return
    meta = docs[0].meta
    memo = ctx.memo(meta.name)
    if memo is None or meta.naming.rule not in ("field", "expression"):
        return
    bases: set[str] = set()
    for doc in docs:
        if doc.get("name"):
            continue
        try:
            base = _base(doc)
        except (_Invalid, DocframeError):
            continue  # set_name reports it
        if base and ("exists", base.lower()) not in memo:
            bases.add(base.lower())
    if not bases:
        return
    site = ctx.site
    t = site.table(meta.name)
    column = t.c.name if site.ci_names else sa.func.lower(t.c.name)
    taken = {str(n).lower() for n in ctx.conn.execute(sa.select(t.c.name).where(column.in_(sorted(bases)))).scalars()}
    for base in bases:
        memo[("exists", base)] = base in taken


def claim_suffix(doc: Record, ctx: UnitOfWork) -> None:
    """Give ``doc`` the next ``Base<sep>N`` for its base name (``doc.flags.name_base``)."""
    meta = doc.meta
    base: str = doc.flags.name_base
    sep = meta.naming.separator
    pattern = _suffix_pattern(base, sep)

    def largest_used() -> int:
        names = _names_starting_with(ctx, meta.name, base + sep)
        return max((int(m.group(1)) for n in names if (m := pattern.fullmatch(n))), default=0)

    number = next_counter(ctx, meta.name, base.lower(), largest_used)
    name = f"{base}{sep}{number}"
    if len(name) > MAX_NAME_LENGTH:
        label, field = _naming_label(doc)
        message = (f"{meta.name} {base[:40]!r}... already exists, and with the suffix {sep}{number} the ID "
                   f"would be {len(name)} characters (at most {MAX_NAME_LENGTH}); shorten {label}")
        raise NamingError(message, [FieldError(meta.name, field, label, message, base, None, NamingError)])
    doc.name = check_name(meta.name, name)
    doc.flags.name_suffixed = True
    doc.flags.name_retry = "suffix"


def duplicate_error(doc: Record) -> DuplicateEntryError:
    """The error for an ID that is already taken (HTTP 409), naming the naming field if any."""
    meta = doc.meta
    label, field = _naming_label(doc) if doc.flags.name_base else ("ID", "name")
    message = f"{meta.name} {doc.name!r} already exists"
    if field != "name":
        message += f" ({label} must be unique)"
    return DuplicateEntryError(message, [FieldError(meta.name, field, label, message, doc.name)])


def _naming_label(doc: Record) -> tuple[str, str]:
    """(label, field) of the value the ID comes from: the naming field, or the ID itself."""
    rule = doc.meta.naming
    if rule.rule == "field" and rule.field in doc.meta.fields_by_name:
        f = doc.meta.fields_by_name[rule.field]  # type: ignore[index]
        return f.label or f.name, f.name
    return "ID", "name"


def _suffix_pattern(base: str, sep: str) -> re.Pattern[str]:
    return re.compile(re.escape(base + sep) + rf"(\d{{1,{_MAX_SUFFIX_DIGITS}}})", re.IGNORECASE)


def _raise_suffix_floor(doc: Record, ctx: UnitOfWork, name: str) -> None:
    """A document named ``Base<sep>N`` directly: later suffixes of Base start after N.

    Only touches an existing counter row (a missing one is created from the data),
    and takes its lock before the row is written, the same order as claim_suffix.
    """
    sep = doc.meta.naming.separator
    m = re.fullmatch(rf"(.+){re.escape(sep)}(\d{{1,{_MAX_SUFFIX_DIGITS}}})", name, re.DOTALL)
    if m is None:
        return
    number = int(m.group(2))
    t = ctx.site.counter_table
    key = _counter_key(t, doc.meta.name, m.group(1).lower())
    ctx.conn.execute(t.update().where(t.c.name == key, t.c.current < number).values(current=number))


def _base(doc: Record) -> str:
    rule = doc.meta.naming
    if rule.rule == "field":
        value = doc.get(rule.field)  # type: ignore[arg-type]
        base = normalize_name(value) if value is not None else ""
        if not base:
            _missing(doc, rule.field)  # type: ignore[arg-type]
        return base
    return normalize_name(_render(rule.pattern or "", doc))


def _missing(doc: Record, fieldname: str) -> None:
    f = doc.meta.fields_by_name.get(fieldname)
    label = f.label if f and f.label else fieldname
    raise _Invalid(FieldError(doc.doctype, fieldname, label,
                              f"{doc.doctype}: {label} is required (it names the record)", None, None,
                              MandatoryError))


def render_expression(pattern: str, doc: Record) -> str:
    """Format ``{field}`` / ``{field:spec}`` with the document's values.

    Only plain field names: no attribute access, indexing, conversions or nested
    fields (``{customer.__class__}`` is refused here as well as by the YAML loader).
    Values are coerced by their field type first, so a date is a date. Raises
    NamingError for a bad pattern, MandatoryError / InvalidValueError for a value.
    """
    try:
        return _render(pattern, doc)
    except _Invalid as problem:
        raise problem.public() from None


def _render(pattern: str, doc: Record) -> str:
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise NamingError(f"{doc.doctype}: invalid naming pattern {pattern!r}: {exc}") from None
    out = []
    for literal, field, spec, conv in parsed:
        out.append(literal)
        if field is None:
            continue
        if not _PLAIN_FIELD.fullmatch(field) or conv or "{" in (spec or ""):
            raise NamingError(f"{doc.doctype}: naming pattern {pattern!r}: {{{field}}} is not a plain field name")
        value = doc.get(field)
        if value is None or value == "":
            _missing(doc, field)
        f = doc.meta.fields_by_name.get(field)
        label = f.label if f and f.label else field
        if f is not None and f.fieldtype.coerce is not None:
            try:
                value = f.fieldtype.coerce(value, f)
            except ValueError as exc:
                raise _Invalid(FieldError(doc.doctype, field, label, f"{doc.doctype}: {label}: {exc}", value, None,
                                          InvalidValueError)) from None
        if not spec:
            if isinstance(value, (dt.date, dt.datetime, dt.time)):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = format(value, "f")
        try:
            out.append(format(value, spec or ""))
        except (ValueError, TypeError) as exc:
            raise NamingError(f"{doc.doctype}: naming pattern {pattern!r} cannot format {label} "
                              f"{value!r}: {exc}") from None
    return "".join(out)


def _series(doc: Record, ctx: UnitOfWork) -> str:
    pattern = doc.meta.naming.pattern or ""
    today = ctx.now().date()
    prefix: list[str] = []
    rest: list[str] = []
    width, after = 0, False
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
    key, tail = "".join(prefix), "".join(rest)
    number_re = re.compile(re.escape(key) + rf"(\d{{1,{_MAX_SUFFIX_DIGITS}}})" + re.escape(tail), re.IGNORECASE)

    def largest_used() -> int:
        names = _names_starting_with(ctx, doc.doctype, key)
        return max((int(m.group(1)) for n in names if (m := number_re.fullmatch(n))), default=0)

    number = next_counter(ctx, doc.doctype, key, largest_used)
    return f"{key}{number:0{width}d}{tail}"


def _names_starting_with(ctx: UnitOfWork, doctype: str, prefix: str) -> list[str]:
    """IDs starting with ``prefix`` case-insensitively (a superset; callers match exactly).

    SQLite answers from the lower(name) index with a range, MariaDB from the primary
    key with LIKE (its _ci collation ignores case); PostgreSQL scans lower(name).
    """
    t = ctx.site.table(doctype)
    dialect = ctx.conn.dialect.name
    low = prefix.lower()
    if dialect == "sqlite" and low:
        cond = sa.and_(sa.func.lower(t.c.name) >= low, sa.func.lower(t.c.name) < low[:-1] + chr(ord(low[-1]) + 1))
    elif dialect == "mysql":
        cond = t.c.name.startswith(prefix, autoescape=True)
    else:
        cond = t.c.name.istartswith(prefix, autoescape=True)
    return list(ctx.conn.execute(sa.select(t.c.name).where(cond)).scalars())


def _max_int_name(ctx: UnitOfWork, doc: Record) -> int:
    table = ctx.site.table(doc.doctype)
    names = ctx.conn.execute(sa.select(table.c.name)).scalars()
    return max((int(n) for n in names if n.isdigit() and len(n) <= _MAX_SUFFIX_DIGITS), default=0)


def _counter_key(t: sa.Table, doctype: str, key: str) -> str:
    return f"{doctype}::{key}"[: t.c.name.type.length]  # type: ignore[attr-defined]


def next_counter(ctx: UnitOfWork, doctype: str, key: str, largest_used: Callable[[], int]) -> int:
    """Atomically take the next number of a counter, creating it from existing data.

    The counter row stays locked until the document's transaction ends, so writers
    of the same key queue and a rolled-back insert gives its number back.
    """
    conn = ctx.conn
    t = ctx.site.counter_table
    counter_key = _counter_key(t, doctype, key)
    returning = conn.dialect.name != "mysql"  # MariaDB has no UPDATE ... RETURNING
    bump = ctx.site.statement(("counter_bump", returning), lambda: _bump_statement(t, returning))
    if returning:
        number = conn.execute(bump, {"key": counter_key}).scalar()
        if number is not None:
            return int(number)
    elif conn.execute(bump, {"key": counter_key}).rowcount:
        return int(conn.execute(sa.select(t.c.current).where(t.c.name == counter_key)).scalar_one())
    start = int(largest_used()) + 1
    upsert = _upsert_increment(conn.dialect.name, t, counter_key, start)
    if returning:
        return int(conn.execute(upsert.returning(t.c.current)).scalar_one())
    conn.execute(upsert)
    return int(conn.execute(sa.select(t.c.current).where(t.c.name == counter_key)).scalar_one())


def _bump_statement(t: sa.Table, returning: bool) -> Any:
    bump = t.update().where(t.c.name == sa.bindparam("key")).values(current=t.c.current + 1)
    return bump.returning(t.c.current) if returning else bump


def _upsert_increment(dialect: str, t: sa.Table, key: str, start: int) -> Any:
    """Insert the counter at ``start``, or increment it if a concurrent writer created it.

    One statement taking an exclusive lock either way, so concurrent creators queue
    instead of deadlocking on a shared-to-exclusive lock upgrade (MariaDB).
    """
    values = {"name": key, "current": start}
    if dialect == "postgresql":
        pg = postgresql.insert(t).values(values)
        return pg.on_conflict_do_update(index_elements=[t.c.name],
                                        set_={"current": sa.func.greatest(t.c.current + 1, pg.excluded.current)})
    if dialect in ("mysql", "mariadb"):
        my = mysql.insert(t).values(values)
        return my.on_duplicate_key_update(current=sa.func.greatest(t.c.current + 1, my.inserted.current))
    lite = sqlite.insert(t).values(values)
    return lite.on_conflict_do_update(index_elements=[t.c.name],
                                      set_={"current": sa.func.max(t.c.current + 1, lite.excluded.current)})

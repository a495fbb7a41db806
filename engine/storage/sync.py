"""Schema sync: diff the live database against the compiled tables, plan, apply.

The plan comes from Alembic's autogenerate comparison, with our own type
comparison (:func:`compare_type`) so that equivalent types reported differently
by each backend (BIGINT(20) vs BigInteger, DOUBLE vs Float(53), LONGTEXT vs JSON
on MariaDB, ...) are equal and real widening or narrowing is told apart.

Steps are applied with Alembic operations (batch mode on SQLite). Additive steps
(new tables, columns and indexes, widened types, dropped indexes, the empty column
of a removed field, a renamed field's column: see :mod:`engine.storage.renames`) are
safe and applied; a new field's fixed default is filled into
the records already there. Narrowing and type changes are unsafe: refused unless
forced, and even when forced refused if any value would not survive (be cut, rounded
or turned into something else). A removed field's column that still holds values is
kept, as are the tables of doctypes removed from the YAML, unless the caller asks for
removed columns to be dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import struct
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.operations import ops as alembic_ops

from engine.errors import SchemaSyncError
from engine.metadata.doctype import DocType, Field
from engine.metadata.fieldtypes import ExactDecimal
from engine.storage.db import begin_write
from engine.storage.renames import pair_renames
from engine.storage.sqltypes import TypeInfo, compare_type, relation, type_info

if TYPE_CHECKING:
    from engine.storage.store import Store

SAFE_KINDS = ("create_table", "rename_column", "add_column", "add_index", "drop_index", "widen", "drop_column")
UNSAFE_KINDS = ("narrow", "change_type")
_ORDER = {k: i for i, k in enumerate(
    ("create_table", "drop_index", "rename_column", "add_column", "widen", "narrow", "change_type", "drop_column",
     "add_index"))}
_EXAMPLES = 3


# ------------------------------------------------------------------ the plan

@dataclass
class Step:
    """One change the database needs to match the YAML."""

    kind: str  # see SAFE_KINDS and UNSAFE_KINDS
    table: str
    detail: str
    doctype: str | None = None
    column: str | None = None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def safe(self) -> bool:
        return self.kind in SAFE_KINDS

    @property
    def where(self) -> str:
        name = self.doctype or self.table
        return f"{name}.{self.column}" if self.column else name

    def __str__(self) -> str:
        mark = "" if self.safe else "  [unsafe: needs --force]"
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.kind.replace('_', ' '):<12} {self.where}{detail}{mark}"


@dataclass
class Plan:
    """The steps of a migration, plus tables kept although their doctype is gone."""

    steps: list[Step] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    kept_columns: list[Step] = field(default_factory=list)  # removed fields whose column still holds values
    applied: bool = False
    installed: list[Any] = field(default_factory=list)  # standard records (engine.site.fixtures.Installed), set by Site

    def __bool__(self) -> bool:
        return bool(self.steps)

    @property
    def unsafe(self) -> list[Step]:
        return [s for s in self.steps if not s.safe]

    def lines(self) -> list[str]:
        out = [str(s) for s in self.steps]
        out += [f"{'kept':<12} {name}: no longer defined; table and data kept" for name in self.kept]
        out += [f"{'kept':<12} {s.where}: no longer defined; column and its {s.args['values']} value(s) kept "
                f"(--drop-removed-columns drops it)" for s in self.kept_columns]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines()) if self else "\n".join(["Database is up to date.", *self.lines()])


# ------------------------------------------------------------------ planning

def plan(site: Store, conn: sa.Connection, *, drop_removed: bool = False) -> Plan:
    """Compare the live database with the site's compiled tables.

    A removed field's column is dropped when it is empty; one that still holds values is
    kept (``kept_columns``), as Frappe keeps them, unless ``drop_removed``.
    """
    by_table = {dt.table_name: dt for dt in site.doctypes.values()}
    ours = set(site.metadata.tables)

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "table" or name in ours or bool(name and name.startswith("tab_"))

    ctx = MigrationContext.configure(conn, opts={"compare_type": compare_type, "include_name": include_name})
    with warnings.catch_warnings():
        # Expression indexes (lower(name)) cannot be reflected on every backend; see _missing_indexes.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        diffs = compare_metadata(ctx, site.metadata)
    out = Plan()
    for diff in diffs:
        for d in diff if isinstance(diff, list) else [diff]:
            step = _step(d, by_table, conn.dialect, out)
            if step is not None:
                out.steps.append(step)
    _renames(out, by_table, conn.dialect)
    existing = set(sa.inspect(conn).get_table_names())
    for step in out.steps:
        if step.kind == "add_column" and step.table in existing:
            _default_for_existing_rows(site, step)
    planned = {s.args["index"].name for s in out.steps if s.kind == "add_index"}
    for ix in _missing_indexes(site.metadata, _index_names(conn), set(site.metadata.tables)):
        if ix.name not in planned:
            out.steps.append(_add_index_step(ix, by_table))
    for step in [s for s in out.steps if s.kind == "drop_column"]:
        values = _values_in(conn, step)
        step.args["values"] = values
        if values and not drop_removed:
            out.steps.remove(step)
            out.kept_columns.append(step)
        elif values:
            step.detail = f"no longer defined; its {values} value(s) are dropped with it"
    out.steps.sort(key=lambda s: (_ORDER[s.kind], s.where, s.detail))
    return out


def _renames(out: Plan, by_table: dict[str, DocType], dialect: sa.Dialect) -> None:
    """A dropped column and the added one whose field was renamed from it become one rename.

    A change of type comes on top of the rename as its own step, checked on the old column's values.
    """
    adds = {(s.table, s.column): s for s in out.steps if s.kind == "add_column"}
    drops = {(s.table, s.column): s for s in out.steps if s.kind == "drop_column"}
    pairs = pair_renames(by_table, adds, drops)  # type: ignore[arg-type]
    for (table, new), old in pairs.items():
        add, drop = adds[(table, new)], drops[(table, old)]
        out.steps.remove(add)
        out.steps.remove(drop)
        reflected: sa.Column = drop.args["reflected"]
        out.steps.append(Step("rename_column", table, f"renamed from {old}, values kept", add.doctype, new,
                              args={"old_column": old, "reflected": reflected}))
        declared: sa.Column = add.args["column"]
        old_info, new_info = type_info(reflected.type, dialect), type_info(declared.type, dialect)
        rel = relation(old_info, new_info, dialect)
        if rel != "same":
            out.steps.append(Step(rel, table, f"{old_info.label} -> {new_info.label}", add.doctype, new,
                                  args={"old": reflected.type, "new": declared.type, "old_info": old_info,
                                        "new_info": new_info, "existing_nullable": reflected.nullable,
                                        "existing_comment": reflected.comment}))


def _default_for_existing_rows(site: Store, step: Step) -> None:
    """A new field with a fixed default: the records already there get it too (as Frappe's column DEFAULT)."""
    f = _field_of(site, step)
    if f is None or f.default in (None, "") or f.default in ("Today", "Now", "__user") or f.fieldtype.coerce is None:
        return
    try:
        step.args["default"] = f.fieldtype.coerce(f.default, f)
    except (ValueError, TypeError):
        return  # the loader reports a default that does not fit
    step.detail += f", existing records get the default {_short(step.args['default'])}"


def _values_in(conn: sa.Connection, step: Step) -> int:
    """How many rows have a value (not NULL, not empty text) in the step's column."""
    t = sa.table(step.table, sa.column("name"), sa.column(step.column or ""))
    col = t.c[step.column or ""]
    has_value = col.is_not(None)
    if type_info(step.args["old_type"], conn.dialect).family == "text":
        has_value = sa.and_(has_value, col != "")
    return int(conn.execute(sa.select(sa.func.count()).where(has_value)).scalar() or 0)


def _doctype_of(table: str, by_table: dict[str, DocType]) -> str | None:
    dt = by_table.get(table)
    return dt.name if dt else None


def _add_index_step(ix: sa.Index, by_table: dict[str, DocType]) -> Step:
    table = ix.table.name  # type: ignore[union-attr]
    unique = "unique " if ix.unique else ""
    return Step("add_index", table, f"{unique}{ix.name}", _doctype_of(table, by_table), args={"index": ix})


def _step(d: Any, by_table: dict[str, DocType], dialect: sa.Dialect, out: Plan) -> Step | None:
    kind = d[0]
    if kind == "add_table":
        t: sa.Table = d[1]
        return Step("create_table", t.name, f"{len(t.columns)} columns", _doctype_of(t.name, by_table),
                    args={"table": t})
    if kind == "remove_table":
        t = d[1]
        if t.name.startswith("tab_"):
            out.kept.append(t.comment or t.name)
        return None
    if kind == "add_column":
        col: sa.Column = d[3]
        return Step("add_column", d[2], str(col.type.compile(dialect=dialect)), _doctype_of(d[2], by_table),
                    col.name, args={"column": col})
    if kind == "remove_column":
        col = d[3]
        return Step("drop_column", d[2], "no longer defined", _doctype_of(d[2], by_table), col.name,
                    args={"old_type": col.type, "reflected": col})
    if kind == "add_index":
        return _add_index_step(d[1], by_table)
    if kind == "remove_index":
        ix = d[1]
        if ix.table.name not in by_table:
            return None  # an index of a kept table (or of the engine's own tables)
        return Step("drop_index", ix.table.name, ix.name, _doctype_of(ix.table.name, by_table),
                    args={"index": ix})
    if kind == "modify_type":
        _, _, table, column, existing, old, new = d
        old_info, new_info = type_info(old, dialect), type_info(new, dialect)
        rel = relation(old_info, new_info, dialect)
        return Step(rel, table, f"{old_info.label} -> {new_info.label}", _doctype_of(table, by_table), column,
                    args={"old": old, "new": new, "old_info": old_info, "new_info": new_info, **existing})
    return None  # nullability, defaults and comments are not managed


def _index_names(conn: sa.Connection) -> dict[str, set[str]]:
    """Index names per table, expression indexes included (which Alembic cannot compare on SQLite)."""
    out: dict[str, set[str]] = {}
    if conn.dialect.name == "sqlite":
        master = sa.table("sqlite_master", sa.column("name"), sa.column("type"), sa.column("tbl_name"))
        for name, table in conn.execute(sa.select(master.c.name, master.c.tbl_name).where(master.c.type == "index")):
            out.setdefault(table, set()).add(name)
        return out
    insp = sa.inspect(conn)
    for multi in (insp.get_multi_indexes(), insp.get_multi_unique_constraints()):
        for (_, table), items in multi.items():
            out.setdefault(table, set()).update(i["name"] for i in items if i.get("name"))
    return out


def _missing_indexes(metadata: sa.MetaData, present: dict[str, set[str]], tables: set[str]) -> list[sa.Index]:
    """Indexes of the compiled existing tables absent from the database, by name."""
    return [ix for t in metadata.sorted_tables if t.name in tables
            for ix in sorted(t.indexes, key=lambda ix: str(ix.name)) if ix.name not in present.get(t.name, ())]


# ------------------------------------------------------------------ applying

def migrate(site: Store, *, dry_run: bool = False, force: bool = False, drop_removed: bool = False) -> Plan:
    """Plan, check and apply. Prints nothing; returns the Plan (``applied`` tells if it ran).

    ``drop_removed``: also drop the columns of removed fields that still hold values.
    """
    with site.engine.connect() as conn, begin_write(conn):
        p = plan(site, conn, drop_removed=drop_removed)
        if dry_run or not p:
            return p
        if p.unsafe and not force:
            raise SchemaSyncError(
                f"Refusing {len(p.unsafe)} unsafe schema change(s); review them and re-run with --force "
                "(applied only when no data would be lost):\n" + "\n".join(f"  {s}" for s in p.unsafe))
        checker = _Checker(site, conn, p.steps)
        problems = [msg for s in p.steps for msg in checker.check(s)]
        if problems:
            raise SchemaSyncError("Cannot migrate without losing data:\n" + "\n".join(f"  {m}" for m in problems))
        _Applier(site, conn).apply(p)
        p.applied = True
        return p


def _label(site: Store, step: Step) -> str:
    """'Customer, field Customer Name (customer_name)' for messages."""
    f = _field_of(site, step)
    where = step.doctype or step.table
    if f is not None:
        return f"{where}, field {f.label} ({f.name})"
    return f"{where}, column {step.column}" if step.column else where


def _field_of(site: Store, step: Step) -> Field | None:
    dt = site.doctypes.get(step.doctype or "")
    return dt.get_field(step.column or "") if dt else None


def _read_values(conn: sa.Connection, step: Step, type_: sa.types.TypeEngine,
                 column: str | None = None) -> Iterator[tuple[str, Any]]:
    """(name, value) of every row with a value in the step's column (or ``column``), read as ``type_``."""
    info = type_info(type_, conn.dialect)
    if info.family == "float":
        type_ = sa.Float(53)  # MariaDB reflects DOUBLE as a Decimal type
    elif info.family == "decimal" and conn.dialect.name == "sqlite":
        type_ = ExactDecimal()  # integers of millionths
    column = column or step.column or ""
    t = sa.table(step.table, sa.column("name", sa.String()), sa.column(column, type_))
    col = t.c[column]
    for row in conn.execute(sa.select(t.c.name, col).where(col.is_not(None)).order_by(t.c.name)):
        yield row[0], row[1]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Checker:
    """Looks at the data before an unsafe step; returns the problems that would lose data."""

    def __init__(self, site: Store, conn: sa.Connection, steps: list[Step]):
        self.site = site
        self.conn = conn
        self.dialect = conn.dialect
        # columns whose type this plan changes: a unique index on them is checked on the new values
        self.converted = {(s.table, s.column): s for s in steps if s.kind == "change_type"}
        # columns this plan renames: checked before the rename, so read under their old name
        self.renamed = {(s.table, s.column): s.args["old_column"] for s in steps if s.kind == "rename_column"}

    def source(self, table: str, column: str | None) -> str:
        """The column's name in the database as it is now."""
        return self.renamed.get((table, column), column or "")

    def check(self, step: Step) -> list[str]:
        if step.kind == "narrow":
            return self.check_narrow(step)
        if step.kind == "change_type":
            return self.check_change(step)
        if step.kind == "add_index" and step.args["index"].unique:
            return self.check_unique(step)
        return []

    def check_narrow(self, step: Step) -> list[str]:
        old: TypeInfo = step.args["old_info"]
        new: TypeInfo = step.args["new_info"]
        what = f"{_label(self.site, step)}: cannot narrow {old.label} to {new.label}"
        source = self.source(step.table, step.column)
        t = sa.table(step.table, sa.column("name"), sa.column(source))
        col = t.c[source]
        if new.family == "text":
            # MariaDB's TEXT types hold bytes (LENGTH); VARCHAR holds characters (CHAR_LENGTH).
            in_bytes = self.dialect.name == "mysql" and "TEXT" in new.label.upper()
            length = sa.func.length(col) if in_bytes or self.dialect.name == "sqlite" else sa.func.char_length(col)
            count, longest = self.conn.execute(
                sa.select(sa.func.count(), sa.func.max(length)).where(length > new.size)).one()
            if not count:
                return []
            example = self.conn.execute(
                sa.select(t.c.name).where(length == longest).order_by(t.c.name).limit(1)).scalar()
            return [f"{what}: {count} value(s) are longer than {new.size} characters "
                    f"(longest {longest}, in {example!r})"]
        if new.family == "int":
            f = _field_of(self.site, step)
            low, high = -(2 ** (new.size - 1)), 2 ** (new.size - 1) - 1
            if f is not None and f.type == "Check":
                low, high = 0, 1
            count, example = self.conn.execute(
                sa.select(sa.func.count(), sa.func.min(t.c.name)).where(sa.or_(col < low, col > high))).one()
            if not count:
                return []
            return [f"{what}: {count} value(s) are outside {low}..{high} (e.g. in {example!r})"]
        fits = _LOSSLESS.get(new.family)
        return self._scan(step, step.args["old"], what, lambda v: _must(fits is not None and fits(v, new)))

    def check_change(self, step: Step) -> list[str]:
        new: TypeInfo = step.args["new_info"]
        what = f"{_label(self.site, step)}: cannot change {step.args['old_info'].label} to {new.label}"
        f = _field_of(self.site, step)
        return self._scan(step, step.args["old"], what, lambda v: convert(v, f, new))

    def check_unique(self, step: Step) -> list[str]:
        ix: sa.Index = step.args["index"]
        insp = sa.inspect(self.conn)
        if not insp.has_table(step.table):
            return []
        cols = list(ix.columns)
        if not {self.source(step.table, c.name) for c in cols} <= {c["name"] for c in insp.get_columns(step.table)}:
            return []  # a column added by this plan: empty
        target = _label(self.site, dataclasses.replace(step, column=cols[0].name if cols else None))
        if any((step.table, c.name) in self.converted for c in cols):
            dups = self._converted_duplicates(step.table, [c.name for c in cols])
        else:
            exprs: list[Any] = list(ix.expressions)
            present: list[Any] = cols
            if any((step.table, c.name) in self.renamed for c in cols):
                t = sa.table(step.table, *[sa.column(self.source(step.table, c.name)) for c in cols])
                present = exprs = list(t.c)
            stmt = sa.select(*exprs, sa.func.count()).where(*[c.is_not(None) for c in present]).group_by(*exprs)
            dups = [(tuple(r[:-1]), r[-1]) for r in
                    self.conn.execute(stmt.having(sa.func.count() > 1).limit(_EXAMPLES)).all()]
        if not dups:
            return []
        values = ", ".join(f"{' / '.join(_short(v) for v in key)} ({n} records)" for key, n in dups)
        columns = f" on {' + '.join(c.name for c in cols)}" if len(cols) > 1 else ""
        return [f"{target}: cannot add unique index {ix.name}{columns}: duplicate values {values}"]

    def _converted_duplicates(self, table: str, columns: list[str]) -> list[tuple[tuple[Any, ...], int]]:
        """Duplicates among the values the columns will hold once this plan has converted them."""
        seen: dict[tuple[Any, ...], int] = {}
        rows: dict[str, dict[str, Any]] = {}
        for column in columns:
            step = self.converted.get((table, column))
            if step is None:
                continue
            f = _field_of(self.site, step)
            for name, value in _read_values(self.conn, step, step.args["old"], self.source(table, column)):
                try:
                    rows.setdefault(name, {})[column] = convert(value, f, step.args["new_info"])
                except (ValueError, TypeError, ArithmeticError):
                    pass  # reported by the type change's own check
        plain = [c for c in columns if (table, c) not in self.converted]
        t = sa.table(table, sa.column("name"), *[sa.column(self.source(table, c)) for c in plain])
        if plain:
            for row in self.conn.execute(sa.select(t.c.name, *[t.c[self.source(table, c)] for c in plain])):
                rows.setdefault(row[0], {}).update(zip(plain, row[1:], strict=True))
        for values in rows.values():
            key = tuple(values.get(c) for c in columns)
            if None not in key:
                seen[key] = seen.get(key, 0) + 1
        return [(key, n) for key, n in seen.items() if n > 1][:_EXAMPLES]

    def _scan(self, step: Step, type_: sa.types.TypeEngine, what: str, test: Callable[[Any], Any]) -> list[str]:
        bad: list[str] = []
        count = 0
        for name, value in _read_values(self.conn, step, type_, self.source(step.table, step.column)):
            try:
                test(value)
            except (ValueError, TypeError, ArithmeticError) as exc:
                count += 1
                if len(bad) < _EXAMPLES:
                    bad.append(f"{_short(value)} in {name!r} ({exc})")
        if not count:
            return []
        return [f"{what}: {count} value(s) do not fit: {'; '.join(bad)}"]


def _must(ok: bool) -> None:
    if not ok:
        raise ValueError("would lose precision")


def _fsp_ok(value: Any, new: TypeInfo) -> bool:
    micro = getattr(value, "microsecond", 0) or 0
    if isinstance(value, dt.timedelta):
        micro = value.microseconds
    return micro % (10 ** (6 - min(new.size, 6))) == 0


_LOSSLESS: dict[str, Callable[[Any, TypeInfo], bool]] = {
    "decimal": lambda v, new: (Decimal(v).quantize(Decimal(1).scaleb(-new.scale)) == Decimal(v)
                               and abs(Decimal(v)) < Decimal(10) ** new.size),
    "float": lambda v, new: new.size >= 64 or struct.unpack("f", struct.pack("f", float(v)))[0] == float(v),
    "datetime": _fsp_ok,
    "time": _fsp_ok,
}


def convert(value: Any, f: Field | None, new: TypeInfo) -> Any:
    """``value`` as the new field's type, or ValueError when it does not convert without loss."""
    if f is None or f.fieldtype.coerce is None:
        raise ValueError("no field to convert to")
    if isinstance(value, (dict, list)) and f.type != "JSON":
        value = json.dumps(value)
    if isinstance(value, dt.datetime) and f.type == "Date" and value.time() != dt.time():
        raise ValueError("a Date cannot hold the time of day")
    if isinstance(value, float) and f.fieldtype.is_text:
        value = repr(value)
    if isinstance(value, Decimal) and f.fieldtype.is_text:
        value = format(value.normalize(), "f")
    result = f.fieldtype.coerce(value, f)
    if _is_number(value) and _is_number(result) and Decimal(str(result)) != Decimal(str(value)):
        raise ValueError(f"it would become {_short(result)}")  # rounded to a precision, or not a 0/1 Check
    if new.family == "text" and isinstance(result, str) and len(result) > new.size:
        raise ValueError(f"longer than {new.size} characters")
    if new.family == "int" and isinstance(result, int) and not -(2 ** (new.size - 1)) <= result < 2 ** (new.size - 1):
        raise ValueError("out of range")
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and value == value  # not NaN


class _Applier:
    """Runs the steps with Alembic operations; batch mode for ALTERs on SQLite."""

    def __init__(self, site: Store, conn: sa.Connection):
        self.site = site
        self.conn = conn
        self.ops = Operations(MigrationContext.configure(conn))
        self.sqlite = conn.dialect.name == "sqlite"

    def apply(self, p: Plan) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            done: list[Step] = []
            for step in p.steps:
                try:
                    getattr(self, step.kind)(step)
                except sa.exc.DBAPIError as exc:
                    raise self.failed(step, exc, done) from None
                done.append(step)
            # Creates the planned indexes, and any that batch mode or a dropped column took away.
            tables = set(sa.inspect(self.conn).get_table_names())
            for ix in _missing_indexes(self.site.metadata, _index_names(self.conn), tables):
                self.ops.invoke(alembic_ops.CreateIndexOp.from_index(ix))

    def failed(self, step: Step, exc: sa.exc.DBAPIError, done: list[Step]) -> SchemaSyncError:
        """The database refused a step: say which, and (on MariaDB, whose DDL commits at once) what stays applied."""
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        message = f"{_label(self.site, step)}: the database refused '{step}': {reason}"
        if self.conn.dialect.name == "mysql" and done:
            message += ("\nMariaDB commits every schema change at once, so the steps before it stay applied:\n"
                        + "\n".join(f"  {s}" for s in done) + "\nFix the cause and run migrate again: it "
                        "plans only what is left.")
        else:
            message += "\nNothing was changed."
        return SchemaSyncError(message)

    def create_table(self, step: Step) -> None:
        self.ops.invoke(alembic_ops.CreateTableOp.from_table(step.args["table"]))

    def rename_column(self, step: Step) -> None:
        old: sa.Column = step.args["reflected"]
        kw = {"new_column_name": step.column, "existing_type": old.type, "existing_nullable": old.nullable,
              "existing_server_default": old.server_default, "existing_comment": old.comment}
        if self.sqlite:
            with self.ops.batch_alter_table(step.table) as batch:
                batch.alter_column(old.name, **kw)
        else:
            self.ops.alter_column(step.table, old.name, **kw)

    def add_column(self, step: Step) -> None:
        col: sa.Column = step.args["column"]
        self.ops.add_column(step.table, sa.Column(col.name, col.type, nullable=col.nullable,
                                                  server_default=col.server_default))
        if "default" in step.args:  # the new field's default, for the records already there
            t = sa.table(step.table, sa.column(col.name, col.type))
            self.conn.execute(t.update().where(t.c[col.name].is_(None)).values({col.name: step.args["default"]}))

    def add_index(self, step: Step) -> None:
        """Done after every step by the missing-index pass (it also restores indexes lost to batch mode)."""

    def drop_index(self, step: Step) -> None:
        self.ops.drop_index(step.args["index"].name, table_name=step.table)

    def widen(self, step: Step) -> None:
        self._alter_type(step)

    def narrow(self, step: Step) -> None:
        self._alter_type(step)

    def _alter_type(self, step: Step) -> None:
        a = step.args
        kw = {"type_": a["new"], "existing_type": a["old"], "existing_nullable": a.get("existing_nullable", True),
              "existing_server_default": a.get("existing_server_default") or None,
              "existing_comment": a.get("existing_comment")}
        if self.sqlite:
            with self.ops.batch_alter_table(step.table) as batch:
                batch.alter_column(step.column or "", **kw)
        else:
            if self.conn.dialect.name == "postgresql":
                kw["postgresql_using"] = self._cast_sql(step.column or "", a["new"])
            self.ops.alter_column(step.table, step.column or "", **kw)

    def _cast_sql(self, column: str, type_: sa.types.TypeEngine) -> str:
        return str(sa.cast(sa.column(column), type_).compile(dialect=self.conn.dialect))

    def change_type(self, step: Step) -> None:
        """Convert in Python through a temporary column, so every backend converts alike."""
        a = step.args
        column = step.column or ""
        f = _field_of(self.site, step)
        values = [(name, convert(v, f, a["new_info"])) for name, v in _read_values(self.conn, step, a["old"])]
        if not values:
            self._alter_type(step)
            return
        tmp = "df_tmp_" + hashlib.sha1(column.encode()).hexdigest()[:12]
        self.ops.add_column(step.table, sa.Column(tmp, a["new"], nullable=True))
        t = sa.table(step.table, sa.column("name", sa.String()), sa.column(tmp, a["new"]))
        stmt = t.update().where(t.c.name == sa.bindparam("_name")).values({tmp: sa.bindparam("_value")})
        self.conn.execute(stmt, [{"_name": n, "_value": v} for n, v in values])
        if self.sqlite:
            with self.ops.batch_alter_table(step.table) as batch:
                batch.drop_column(column)
                batch.alter_column(tmp, new_column_name=column)
        else:
            self.ops.drop_column(step.table, column)
            self.ops.alter_column(step.table, tmp, new_column_name=column, existing_type=a["new"],
                                  existing_nullable=True)

    def drop_column(self, step: Step) -> None:
        if self.sqlite:
            with self.ops.batch_alter_table(step.table) as batch:
                batch.drop_column(step.column or "")
        else:
            self.ops.drop_column(step.table, step.column or "")

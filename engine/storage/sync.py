"""Schema sync: diff the live database against the compiled tables, plan, apply.

The plan comes from Alembic's autogenerate comparison, with our own type
comparison (:func:`compare_type`) so that equivalent types reported differently
by each backend (BIGINT(20) vs BigInteger, DOUBLE vs Float(53), LONGTEXT vs JSON
on MariaDB, ...) are equal and real widening or narrowing is told apart.

Steps are applied with Alembic operations (batch mode on SQLite). Additive steps
(new tables, columns and indexes, widened types, dropped indexes) are safe and
applied. Narrowing, type changes and dropped columns are unsafe: refused unless
forced, and even when forced refused if the data would not survive. Tables of
doctypes removed from the YAML are never dropped.
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
from engine.storage.sqltypes import TypeInfo, compare_type, relation, type_info

if TYPE_CHECKING:
    from engine.storage.store import Store

SAFE_KINDS = ("create_table", "add_column", "add_index", "drop_index", "widen")
UNSAFE_KINDS = ("narrow", "change_type", "drop_column")
_ORDER = {k: i for i, k in enumerate(
    ("create_table", "drop_index", "add_column", "widen", "narrow", "change_type", "drop_column", "add_index"))}
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
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines()) if self else "\n".join(["Database is up to date.", *self.lines()])


# ------------------------------------------------------------------ planning

def plan(site: Store, conn: sa.Connection) -> Plan:
    """Compare the live database with the site's compiled tables."""
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
    planned = {s.args["index"].name for s in out.steps if s.kind == "add_index"}
    for ix in _missing_indexes(site.metadata, _index_names(conn), set(site.metadata.tables)):
        if ix.name not in planned:
            out.steps.append(_add_index_step(ix, by_table))
    out.steps.sort(key=lambda s: (_ORDER[s.kind], s.where, s.detail))
    return out


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
                    args={"old_type": col.type})
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

def migrate(site: Store, *, dry_run: bool = False, force: bool = False) -> Plan:
    """Plan, check and apply. Prints nothing; returns the Plan (``applied`` tells if it ran)."""
    with site.engine.connect() as conn, begin_write(conn):
        p = plan(site, conn)
        if dry_run or not p:
            return p
        if p.unsafe and not force:
            raise SchemaSyncError(
                f"Refusing {len(p.unsafe)} unsafe schema change(s); review them and re-run with --force "
                "(applied only when no data would be lost):\n" + "\n".join(f"  {s}" for s in p.unsafe))
        checker = _Checker(site, conn)
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


def _read_values(conn: sa.Connection, step: Step, type_: sa.types.TypeEngine) -> Iterator[tuple[str, Any]]:
    """(name, value) of every row with a value in the step's column, read as ``type_``."""
    info = type_info(type_, conn.dialect)
    if info.family == "float":
        type_ = sa.Float(53)  # MariaDB reflects DOUBLE as a Decimal type
    elif info.family == "decimal" and conn.dialect.name == "sqlite":
        type_ = ExactDecimal()  # integers of millionths
    t = sa.table(step.table, sa.column("name", sa.String()), sa.column(step.column or "", type_))
    col = t.c[step.column or ""]
    for row in conn.execute(sa.select(t.c.name, col).where(col.is_not(None)).order_by(t.c.name)):
        yield row[0], row[1]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Checker:
    """Looks at the data before an unsafe step; returns the problems that would lose data."""

    def __init__(self, site: Store, conn: sa.Connection):
        self.site = site
        self.conn = conn
        self.dialect = conn.dialect

    def check(self, step: Step) -> list[str]:
        if step.kind == "drop_column":
            return self.check_drop(step)
        if step.kind == "narrow":
            return self.check_narrow(step)
        if step.kind == "change_type":
            return self.check_change(step)
        if step.kind == "add_index" and step.args["index"].unique:
            return self.check_unique(step)
        return []

    def check_drop(self, step: Step) -> list[str]:
        t = sa.table(step.table, sa.column("name"), sa.column(step.column or ""))
        col = t.c[step.column or ""]
        info = type_info(step.args["old_type"], self.dialect)
        has_value = col.is_not(None)
        if info.family == "text":
            has_value = sa.and_(has_value, col != "")
        count, example = self.conn.execute(sa.select(sa.func.count(), sa.func.min(t.c.name)).where(has_value)).one()
        if not count:
            return []
        return [f"{_label(self.site, step)}: cannot drop the column: {count} record(s) have a value "
                f"(e.g. {example!r}); empty it first or keep the field"]

    def check_narrow(self, step: Step) -> list[str]:
        old: TypeInfo = step.args["old_info"]
        new: TypeInfo = step.args["new_info"]
        what = f"{_label(self.site, step)}: cannot narrow {old.label} to {new.label}"
        t = sa.table(step.table, sa.column("name"), sa.column(step.column or ""))
        col = t.c[step.column or ""]
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
            low, high = -(2 ** (new.size - 1)), 2 ** (new.size - 1) - 1
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
        if not {c.name for c in cols} <= {c["name"] for c in insp.get_columns(step.table)}:
            return []  # a column added by this plan: empty
        exprs = list(ix.expressions)
        stmt = sa.select(*exprs, sa.func.count()).where(*[c.is_not(None) for c in cols]).group_by(*exprs)
        dups = self.conn.execute(stmt.having(sa.func.count() > 1).limit(_EXAMPLES)).all()
        if not dups:
            return []
        values = ", ".join(f"{_short(r[0])} ({r[-1]} records)" for r in dups)
        target = _label(self.site, dataclasses.replace(step, column=cols[0].name if cols else None))
        return [f"{target}: cannot add unique index {ix.name}: duplicate values {values}"]

    def _scan(self, step: Step, type_: sa.types.TypeEngine, what: str, test: Callable[[Any], Any]) -> list[str]:
        bad: list[str] = []
        count = 0
        for name, value in _read_values(self.conn, step, type_):
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
    if new.family == "text" and isinstance(result, str) and len(result) > new.size:
        raise ValueError(f"longer than {new.size} characters")
    if new.family == "int" and isinstance(result, int) and not -(2 ** (new.size - 1)) <= result < 2 ** (new.size - 1):
        raise ValueError("out of range")
    return result


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
            for step in p.steps:
                getattr(self, step.kind)(step)
            # Creates the planned indexes, and any that batch mode or a dropped column took away.
            tables = set(sa.inspect(self.conn).get_table_names())
            for ix in _missing_indexes(self.site.metadata, _index_names(self.conn), tables):
                self.ops.invoke(alembic_ops.CreateIndexOp.from_index(ix))

    def create_table(self, step: Step) -> None:
        self.ops.invoke(alembic_ops.CreateTableOp.from_table(step.args["table"]))

    def add_column(self, step: Step) -> None:
        col: sa.Column = step.args["column"]
        self.ops.add_column(step.table, sa.Column(col.name, col.type, nullable=col.nullable,
                                                  server_default=col.server_default))

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

"""Schema sync: diff the live database against the compiled tables, plan, apply.

The plan is computed by Alembic's autogenerate comparison and applied with
Alembic operations (batch mode on SQLite). Additive steps (new tables, columns,
indexes, widened types) are applied; drops and narrowing are refused unless
forced, and even then only when no data would be lost.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations

from engine.errors import SchemaSyncError

if TYPE_CHECKING:
    from engine.site import Site


@dataclass
class Step:
    kind: str  # create_table, add_column, widen_column, add_index, drop_column, ...
    table: str
    detail: str
    safe: bool = True
    args: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        mark = "" if self.safe else " [needs --force]"
        return f"{self.kind:<14} {self.table}: {self.detail}{mark}"


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    applied: bool = False

    def __bool__(self) -> bool:
        return bool(self.steps)

    def __str__(self) -> str:
        return "\n".join(str(s) for s in self.steps) if self.steps else "Database is up to date."


def plan(site: Site, conn: sa.Connection) -> Plan:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    out = Plan()
    with warnings.catch_warnings():
        # Expression indexes (lower(name)) cannot be reflected on every backend.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        diffs_found = compare_metadata(ctx, site.metadata)
    for diff in diffs_found:
        diffs = diff if isinstance(diff, list) else [diff]
        for d in diffs:
            step = _step(d)
            if step is not None:
                out.steps.append(step)
    return out


def _step(d: Any) -> Step | None:
    kind = d[0]
    if kind == "add_table":
        t = d[1]
        return Step("create_table", t.name, f"{len(t.columns)} columns", args={"table": t})
    if kind == "add_column":
        col = d[3]
        return Step("add_column", d[2], f"{col.name} {col.type}", args={"column": col})
    if kind == "add_index":
        ix = d[1]
        return Step("add_index", ix.table.name, ix.name, args={"index": ix})
    if kind == "remove_table":
        return None  # doctypes removed from YAML keep their data; never dropped automatically
    if kind == "remove_column":
        return Step("drop_column", d[2], d[3].name, safe=False, args={"column": d[3]})
    if kind == "remove_index":
        ix = d[1]
        return Step("drop_index", ix.table.name, ix.name, args={"index": ix})
    if kind == "modify_type":
        _, _, table, column, _, old, new = d
        return Step("alter_type", table, f"{column}: {old} -> {new}", safe=False,
                    args={"column": column, "old": old, "new": new})
    return None


def migrate(site: Site, *, dry_run: bool = False, force: bool = False) -> Plan:
    with site.engine.begin() as conn:
        p = plan(site, conn)
        if dry_run or not p:
            return p
        unsafe = [s for s in p.steps if not s.safe]
        if unsafe and not force:
            raise SchemaSyncError(
                "refusing to apply steps that can lose data (use --force):\n"
                + "\n".join(str(s) for s in unsafe)
            )
        ops = Operations(MigrationContext.configure(conn))
        for step in p.steps:
            _apply(ops, step)
        p.applied = True
        return p


def _apply(ops: Operations, step: Step) -> None:
    a = step.args
    if step.kind == "create_table":
        table: sa.Table = a["table"]
        table.create(ops.get_bind())
    elif step.kind == "add_column":
        col: sa.Column = a["column"]
        ops.add_column(step.table, sa.Column(col.name, col.type, nullable=True,
                                             server_default=col.server_default))
    elif step.kind == "add_index":
        ix: sa.Index = a["index"]
        ix.create(ops.get_bind())
    elif step.kind == "drop_index":
        ops.drop_index(a["index"].name, table_name=step.table)
    else:
        raise SchemaSyncError(f"{step}: not supported yet")

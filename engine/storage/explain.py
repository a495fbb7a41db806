"""How the database runs a query: its own EXPLAIN, read into the same few facts on every backend.

``explain(conn, sql, parameters)`` runs EXPLAIN on a statement exactly as it was sent
(the SQL and DBAPI parameters a ``before_cursor_execute`` listener sees) and answers
with a :class:`QueryPlan`: how each table is read (a full scan, a walk of a whole
index in its order, an index range, a primary-key lookup) and whether the database
sorts rows itself. SQLite: ``EXPLAIN QUERY PLAN``; PostgreSQL: ``EXPLAIN (FORMAT
JSON)``; MariaDB: ``EXPLAIN``'s rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

FULL_SCAN = "full scan"
INDEX_WALK = "index walk"  # every entry of an index, in its order (fine with a LIMIT: it stops early)
INDEX_RANGE = "index range"
PRIMARY_KEY = "primary key"


@dataclass(frozen=True, slots=True)
class TableAccess:
    table: str
    how: str  # one of FULL_SCAN, INDEX_WALK, INDEX_RANGE, PRIMARY_KEY
    index: str | None = None


@dataclass
class QueryPlan:
    accesses: list[TableAccess] = field(default_factory=list)
    sorts: bool = False  # the database orders rows itself: no index gives the order
    text: str = ""  # the database's own words, for messages

    def of(self, table: str) -> list[TableAccess]:
        return [a for a in self.accesses if a.table == table]

    def full_scans(self) -> list[str]:
        return [a.table for a in self.accesses if a.how == FULL_SCAN]


def explain(conn: sa.Connection, sql: str, parameters: Any = None) -> QueryPlan:
    """The plan of ``sql`` (as sent to the driver, with its ``parameters``) on ``conn``'s database."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return _sqlite(conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, _params(parameters)).all())
    if dialect == "postgresql":
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, _params(parameters)).scalar()
        return _postgresql(json.loads(raw) if isinstance(raw, str) else raw)
    if dialect in ("mysql", "mariadb"):
        result = conn.exec_driver_sql("EXPLAIN " + sql, _params(parameters))
        return _mariadb([dict(zip(result.keys(), row, strict=True)) for row in result])
    raise NotImplementedError(f"EXPLAIN is not read for {dialect}")


def _params(parameters: Any) -> Any:
    if parameters is None:
        return ()
    return dict(parameters) if isinstance(parameters, Mapping) else tuple(parameters)


_SQLITE_ACCESS = re.compile(r"^(?P<verb>SCAN|SEARCH) (?P<table>\S+)(?: AS \S+)?(?P<rest>.*)$")
_SQLITE_INDEX = re.compile(r"USING (?:COVERING )?INDEX (?P<index>\S+)")


def _sqlite(rows: Sequence[Any]) -> QueryPlan:
    plan = QueryPlan(text="\n".join(str(r[-1]) for r in rows))
    for row in rows:
        detail = str(row[-1])
        if detail.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in detail:
            plan.sorts = True
        m = _SQLITE_ACCESS.match(detail)
        if not m or m.group("table") in ("CONSTANT", "SUBQUERY"):
            continue
        rest, index = m.group("rest"), _SQLITE_INDEX.search(m.group("rest"))
        if "PRIMARY KEY" in rest:
            how = PRIMARY_KEY
        elif m.group("verb") == "SEARCH":
            how = INDEX_RANGE
        else:
            how = INDEX_WALK if index else FULL_SCAN
        plan.accesses.append(TableAccess(m.group("table"), how, index.group("index") if index else None))
    return plan


def _pg_nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _pg_nodes(child)


def _postgresql(doc: Any) -> QueryPlan:
    root = doc[0]["Plan"]
    plan = QueryPlan(text=json.dumps(root, indent=1))
    bitmap_index: dict[int, str] = {}
    for node in _pg_nodes(root):
        kind = node["Node Type"]
        if kind in ("Sort", "Incremental Sort"):
            plan.sorts = True
        elif kind == "Seq Scan":
            plan.accesses.append(TableAccess(node["Relation Name"], FULL_SCAN))
        elif kind in ("Index Scan", "Index Only Scan"):
            how = INDEX_RANGE if node.get("Index Cond") else INDEX_WALK
            if node.get("Index Name", "").endswith("_pkey") and node.get("Index Cond"):
                how = PRIMARY_KEY
            plan.accesses.append(TableAccess(node["Relation Name"], how, node.get("Index Name")))
        elif kind == "Bitmap Heap Scan":
            inner = [n for n in _pg_nodes(node) if n["Node Type"] == "Bitmap Index Scan"]
            bitmap_index[id(node)] = inner[0]["Index Name"] if inner else ""
            plan.accesses.append(TableAccess(node["Relation Name"], INDEX_RANGE, bitmap_index[id(node)] or None))
    return plan


_MARIADB_RANGE = frozenset({"range", "ref", "ref_or_null", "index_merge", "fulltext", "index_subquery",
                            "unique_subquery"})


def _mariadb(rows: Sequence[Mapping[str, Any]]) -> QueryPlan:
    plan = QueryPlan(text="\n".join(" | ".join(f"{k}={v}" for k, v in r.items()) for r in rows))
    for r in rows:
        extra = str(r.get("Extra") or "")
        if "Using filesort" in extra:
            plan.sorts = True
        table, kind, key = r.get("table"), str(r.get("type") or ""), r.get("key")
        if not table or table.startswith("<"):
            continue  # derived tables and unions
        if kind == "ALL":
            how = FULL_SCAN
        elif kind == "index":
            how = INDEX_WALK
        elif kind in ("const", "eq_ref", "system") and key == "PRIMARY":
            how = PRIMARY_KEY
        elif kind in _MARIADB_RANGE or kind in ("const", "eq_ref"):
            how = INDEX_RANGE
        else:
            continue  # "Impossible WHERE" and other no-table rows
        plan.accesses.append(TableAccess(str(table), how, str(key) if key else None))
    return plan

"""Raw SQLAlchemy Core doing the same work by hand: the floor.

Same tables (docframe's compiled schema, created with ``create_all``), same SQLite
pragmas (WAL, synchronous=NORMAL). One transaction per document: name check
(case-insensitive, on the lower(name) index), a duplicate-suffix counter when the
name is taken, one link-existence query for the 3 links, the customer row, its
child rows in one executemany, and the account row.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite

from bench import workload
from bench.counting import StatementCounter
from bench.dataset import bench_metadata, seed_link_targets
from engine.storage.db import normalize_url

CUSTOMER_PARENTTYPE = "Bench Customer"


def core_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(normalize_url(url))
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    return engine


class CoreSide:
    name = "core"

    def __init__(self, url: str, list_url: str):
        self.engine = core_engine(url)
        self.md = bench_metadata(self.engine.dialect.name)
        with self.engine.begin() as conn:
            self.md.create_all(conn)
            seed_link_targets(conn, self.md)
        t = self.md.tables
        self.customer, self.contact = t["tab_bench_customer"], t["tab_bench_contact"]
        self.account = t["tab_bench_account"]
        self.links = {"territory": t["tab_bench_territory"], "customer_group": t["tab_bench_customer_group"],
                      "currency": t["tab_bench_currency"]}
        self.counter_table = t["tab_naming_counter"]
        self.conn = self.engine.connect()
        self.statements = StatementCounter(self.engine)
        self.list_engine = core_engine(list_url)
        self.list_conn = self.list_engine.connect()
        self.list_table = bench_metadata(self.list_engine.dialect.name).tables["tab_bench_customer"]
        self.names: list[str] = []

    def _next_suffix(self, base: str) -> int:
        key = f"Bench Customer::{base.lower()}"
        ins = (postgresql if self.engine.dialect.name == "postgresql" else sqlite).insert(self.counter_table)
        stmt = ins.values(name=key, current=1).on_conflict_do_update(
            index_elements=[self.counter_table.c.name], set_={"current": self.counter_table.c.current + 1},
        ).returning(self.counter_table.c.current)
        return int(self.conn.execute(stmt).scalar_one())

    def insert(self, v: dict[str, Any]) -> str:
        c, conn = self.customer, self.conn
        with conn.begin():
            base = v["customer_name"]
            name = base
            if conn.execute(sa.select(c.c.name).where(sa.func.lower(c.c.name) == base.lower())).first():
                name = f"{base}{workload.SUFFIX_SEPARATOR}{self._next_suffix(base)}"
            wanted = [(f, t) for f, t in self.links.items() if v.get(f)]
            if wanted:
                q = sa.union_all(*(sa.select(sa.literal(f).label("f"), t.c.name).where(t.c.name == v[f])
                                   for f, t in wanted))
                if len(conn.execute(q).all()) != len(wanted):
                    raise ValueError(f"{name}: a linked record does not exist")
            now = dt.datetime.now()
            std = {"owner": workload.USER, "creation": now, "modified": now, "modified_by": workload.USER,
                   "docstatus": 0}
            row = {k: v.get(k) for k in ("customer_name", "customer_type", "territory", "customer_group",
                                          "currency", "email", "phone", "credit_limit", "disabled")}
            conn.execute(c.insert(), {**std, "idx": 0, "name": name, **row})
            conn.execute(self.contact.insert(), [
                {**std, **r, "name": secrets.token_hex(5), "idx": i, "parent": name,
                 "parenttype": CUSTOMER_PARENTTYPE, "parentfield": "contacts"}
                for i, r in enumerate(v["contacts"], 1)
            ])
            account = name + workload.ACCOUNT_SUFFIX
            conn.execute(self.account.insert(), {**std, "idx": 0, "name": account, "account_name": account,
                                                 "customer": name, "account_type": "Receivable"})
        self.names.append(name)
        return name

    def count_insert(self, values: dict[str, Any]) -> list[str]:
        with self.statements.counting() as seen:
            self.insert(values)
        return list(seen)

    def get(self, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        c, ct, conn = self.customer, self.contact, self.conn
        parent = conn.execute(sa.select(c).where(c.c.name == name)).first()
        if parent is None:
            raise LookupError(name)
        rows = [dict(r) for r in conn.execute(
            sa.select(ct).where(ct.c.parent == name, ct.c.parenttype == CUSTOMER_PARENTTYPE)
            .order_by(ct.c.parentfield, ct.c.idx)).mappings()]
        conn.rollback()
        return dict(parent._mapping), rows

    def list(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        t = self.list_table
        stmt = (sa.select(*(t.c[f] for f in workload.LIST_FIELDS))
                .where(*(t.c[k] == v for k, v in filters.items()))
                .order_by(t.c.modified.desc()).limit(workload.LIST_LIMIT))
        rows = [dict(r) for r in self.list_conn.execute(stmt).mappings()]
        self.list_conn.rollback()
        return rows

    def list_scan(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        """The same list sorted by an expression no index can give: the plan every system had before
        issue 12 (read every matching row by the filter's index, then sort them), for the speed-up."""
        t = self.list_table
        stmt = (sa.select(*(t.c[f] for f in workload.LIST_FIELDS))
                .where(*(t.c[k] == v for k, v in filters.items()))
                .order_by(sa.func.coalesce(t.c.modified, t.c.modified).desc()).limit(workload.LIST_LIMIT))
        rows = [dict(r) for r in self.list_conn.execute(stmt).mappings()]
        self.list_conn.rollback()
        return rows

    def close(self) -> None:
        self.conn.close()
        self.list_conn.close()
        self.engine.dispose()
        self.list_engine.dispose()

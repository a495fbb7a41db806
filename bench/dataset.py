"""Setup (not measured): the big list table, written straight into docframe's table.

The tables come from docframe's own compiler (``compile_schema``), so docframe and
raw Core query the same table with the same indexes. SQLite files are cached in
``bench/.cache/`` keyed by row count and schema, so reruns skip the build.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable

from bench import workload
from engine.metadata.app import load_app_doctypes
from engine.storage.db import create_db_engine
from engine.storage.schema import compile_schema

APP_DIR = Path(__file__).resolve().parent / "app"
BATCH = 20_000
BASE_TIME = dt.datetime(2020, 1, 1)


def bench_metadata(dialect: str) -> sa.MetaData:
    return compile_schema(load_app_doctypes(APP_DIR), dialect)


def _rows(n: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, n, BATCH):
        yield [workload.list_row(i, BASE_TIME) for i in range(start, min(n, start + BATCH))]


def seed_link_targets(conn: sa.Connection, metadata: sa.MetaData) -> None:
    """The rows the customers' links point at (territories, groups, currencies)."""
    now = dt.datetime.now()
    std = {"owner": workload.USER, "creation": now, "modified": now, "modified_by": workload.USER,
           "docstatus": 0, "idx": 0}
    for table, field, values in (("tab_bench_territory", "territory_name", workload.TERRITORIES),
                                 ("tab_bench_customer_group", "customer_group_name", workload.GROUPS),
                                 ("tab_bench_currency", "currency_code", workload.CURRENCIES)):
        conn.execute(metadata.tables[table].insert(), [{**std, "name": v, field: v} for v in values])


def _fill(engine: sa.Engine, metadata: sa.MetaData, rows: int, log: Callable[[str], None]) -> None:
    customers = metadata.tables["tab_bench_customer"]
    with engine.begin() as conn:
        # The big table's secondary indexes are built after the load (much faster).
        metadata.create_all(conn, tables=[t for t in metadata.sorted_tables if t is not customers])
        conn.execute(CreateTable(customers))
        seed_link_targets(conn, metadata)
    started = time.perf_counter()
    done = 0
    for batch in _rows(rows):
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                _copy(conn, customers, batch)
            else:
                _executemany(conn, customers, batch)
        done += len(batch)
        if done % 200_000 == 0 or done == rows:
            log(f"  list table: {done:,} / {rows:,} rows ({time.perf_counter() - started:.0f} s)")
    with engine.begin() as conn:
        for ix in customers.indexes:
            ix.create(conn)
    log(f"  list table: indexed ({time.perf_counter() - started:.0f} s)")
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def _executemany(conn: sa.Connection, table: sa.Table, batch: list[dict[str, Any]]) -> None:
    """One driver-level executemany of plain tuples (Core's per-row parameter handling skipped)."""
    cols = list(batch[0])
    convert = [(i, _sqlite_datetime if isinstance(table.c[c].type, sa.DateTime) else p)
               for i, c in enumerate(cols)
               if (p := table.c[c].type._cached_bind_processor(conn.dialect)) is not None]
    rows = []
    for row in batch:
        values = list(row.values())
        for i, p in convert:
            values[i] = p(values[i])
        rows.append(tuple(values))
    sql = str(table.insert().compile(dialect=conn.dialect, column_keys=cols))
    conn.exec_driver_sql(sql, rows)


def _sqlite_datetime(value: dt.datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format, formatted in C."""
    return value.isoformat(" ", "microseconds")


def _copy(conn: sa.Connection, table: sa.Table, batch: list[dict[str, Any]]) -> None:
    """PostgreSQL COPY: the fastest bulk load (setup only)."""
    cols = list(batch[0])
    dbapi = conn.connection.dbapi_connection
    with dbapi.cursor() as cur, cur.copy(f'COPY {table.name} ({", ".join(cols)}) FROM STDIN') as copy:  # type: ignore[union-attr]
        for row in batch:
            copy.write_row([row[c] for c in cols])


def sqlite_list_file(cache_dir: Path, rows: int, log: Callable[[str], None]) -> Path:
    """The cached SQLite file holding ``rows`` customers, built if missing."""
    from bench.databases import schema_fingerprint

    metadata = bench_metadata("sqlite")
    key = schema_fingerprint(metadata, sqlite.dialect(), rows)
    path = cache_dir / f"list_{rows}_{key}.db"
    if path.exists():
        log(f"  list table: cached {path.name}")
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in cache_dir.glob(f"list_{rows}_*.db"):
        old.unlink()
    building = path.with_suffix(".building")
    for leftover in cache_dir.glob(building.name + "*"):
        leftover.unlink()
    log(f"  list table: building {rows:,} rows in {path.name} (cached for later runs)")
    engine = create_db_engine(f"sqlite:///{building}")
    try:
        _fill(engine, metadata, rows, log)
    finally:
        engine.dispose()
    building.rename(path)
    return path


def build_server_list(url: str, rows: int, log: Callable[[str], None]) -> None:
    """Fill the list schema on a server (rebuilt every run; the schema is dropped after)."""
    engine = create_db_engine(url)
    try:
        log(f"  list table: loading {rows:,} rows")
        _fill(engine, bench_metadata(engine.dialect.name), rows, log)
    finally:
        engine.dispose()

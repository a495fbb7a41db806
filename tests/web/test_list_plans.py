"""The database's own EXPLAIN of the main list pages: an index range or walk, never a full scan or a sort.

The statements are the ones the desk list and the REST API really send (captured
with their parameters), run through EXPLAIN on this run's database, over enough
rows (written with Core, then ANALYZE) that the planner's choice means something.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from engine.storage.explain import FULL_SCAN, INDEX_RANGE, QueryPlan, explain

CUSTOMERS = 6000
TERRITORIES = 60
GROUPS = 12
INVOICES = 6000


def _fill(site: Any) -> None:
    """Customers spread over territories and groups (one in 50 a contact person); 10 of them with 600 invoices each."""
    customers, invoices = site.table("Customer"), site.table("Sales Invoice")
    base = dt.datetime(2026, 1, 1)
    rows = [{
        "name": f"Plan Customer {i:05d}", "customer_name": f"Plan Customer {i:05d}", "customer_type": "Company",
        "territory": f"Plan Territory {i % TERRITORIES:02d}", "customer_group": f"Plan Group {i % GROUPS:02d}",
        "works_at": "Plan Customer 00000" if i % 50 == 49 else None, "disabled": 0,
        "creation": base + dt.timedelta(minutes=i), "modified": base + dt.timedelta(minutes=i),
        "owner": "Administrator", "modified_by": "Administrator", "docstatus": 0, "idx": 0,
    } for i in range(CUSTOMERS)]
    bills = [{
        "name": f"PLAN-SINV-{i:05d}", "customer": f"Plan Customer {i % 10:05d}", "company": "Plan Company",
        "posting_date": (base + dt.timedelta(days=i % 365)).date(), "due_date": (base + dt.timedelta(days=30)).date(),
        "currency": "EUR", "creation": base + dt.timedelta(minutes=i), "modified": base + dt.timedelta(minutes=i),
        "owner": "Administrator", "modified_by": "Administrator", "docstatus": 1, "idx": 0,
    } for i in range(INVOICES)]
    with site.engine.begin() as conn:
        conn.execute(customers.insert(), rows)
        conn.execute(invoices.insert(), bills)
    with site.engine.connect() as conn:
        backend = conn.dialect.name
        for table in (customers, invoices):
            if backend == "mysql":
                conn.exec_driver_sql(f"ANALYZE TABLE {table.name}").all()
            elif backend == "postgresql":
                conn.exec_driver_sql(f"ANALYZE {table.name}")
        if backend == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        conn.commit()


@contextmanager
def captured(site: Any) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    sa.event.listen(site.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(site.engine, "before_cursor_execute", record)


def plans_of(site: Any, statements: list[tuple[str, Any]], table: str) -> tuple[list[QueryPlan], list[QueryPlan]]:
    """(list queries, count queries) reading ``table``, explained."""
    lists, counts = [], []
    with site.engine.connect() as conn:
        for sql, params in statements:
            flat = " ".join(sql.split()).lower()
            bare = flat.replace('"', "").replace("`", "")
            if not flat.startswith("select") or not re.search(rf"from {table}\b", bare):  # not tab_customer_group
                continue
            if "count(" in flat:
                counts.append(explain(conn, sql, params))
            elif " limit " in flat:
                lists.append(explain(conn, sql, params))
        conn.rollback()
    return lists, counts


def assert_served(plan: QueryPlan, table: str, index: str | None) -> None:
    accesses = plan.of(table)
    assert accesses, f"{table} not read?\n{plan.text}"
    assert not any(a.how == FULL_SCAN for a in accesses), f"full scan of {table}:\n{plan.text}"
    assert not plan.sorts, f"the database sorts the rows of {table} itself:\n{plan.text}"
    if index is not None:
        assert any(a.how == INDEX_RANGE and a.index == index for a in accesses), f"not by {index}:\n{plan.text}"


@pytest.fixture
def filled(web: Any) -> Any:
    _fill(web.site)
    return web


@pytest.mark.parametrize(("query", "index"), [
    ("", None),  # the default list: contact persons left out, newest first
    ("?territory=Plan+Territory+07", "ix_tab_customer_territory_modified"),
    # One customer in 12 is in a group: walking the modified index until 20 match is as good a plan
    # (PostgreSQL picks it), so only "no full scan, no sort" is required here.
    ("?customer_group=Plan+Group+03", None),
])
def test_desk_customer_list_is_served_by_an_index(filled: Any, query: str, index: str | None) -> None:
    with captured(filled.site) as seen:
        page = filled.client.get(f"/app/customer{query}")
    assert page.status_code == 200
    lists, counts = plans_of(filled.site, seen, "tab_customer")
    assert len(lists) == 1, seen
    assert_served(lists[0], "tab_customer", index)
    if index is not None:  # the page's count of a filtered list reads the index range only
        assert counts and not counts[0].full_scans(), counts[0].text if counts else seen


def test_rest_list_filtered_by_a_link_is_served_by_its_index(filled: Any) -> None:
    filters = quote(json.dumps([["territory", "=", "Plan Territory 11"]]))
    fields = quote(json.dumps(["name", "customer_name", "territory"]))
    with captured(filled.site) as seen:
        answer = filled.client.get(f"/api/resource/Customer?filters={filters}&fields={fields}",
                                   headers=filled.token)
    assert answer.status_code == 200 and len(answer.get_json()["data"]) == 20
    lists, _ = plans_of(filled.site, seen, "tab_customer")
    assert len(lists) == 1
    assert_served(lists[0], "tab_customer", "ix_tab_customer_territory_modified")


def test_invoice_list_of_a_customer_is_served_in_posting_date_order(filled: Any) -> None:
    with captured(filled.site) as seen:
        page = filled.client.get("/app/sales-invoice?customer=Plan+Customer+00004")
    assert page.status_code == 200
    lists, _ = plans_of(filled.site, seen, "tab_sales_invoice")
    assert len(lists) == 1
    assert_served(lists[0], "tab_sales_invoice", "ix_tab_sales_invoice_customer_posting_date")


def test_explain_sees_a_full_scan_and_a_sort(filled: Any) -> None:
    """The check can fail: a filter on a column without an index, sorted by an expression, is caught."""
    t = filled.site.table("Customer")
    stmt = (sa.select(t.c.name).where(t.c.customer_name == "Nobody")
            .order_by(sa.func.coalesce(t.c.modified, t.c.creation).desc()).limit(20))
    with filled.site.engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect)
        params = compiled.params
        if conn.dialect.paramstyle == "qmark":
            params = tuple(params[k] for k in compiled.positiontup or ())
        plan = explain(conn, str(compiled), params)
    assert plan.full_scans() == ["tab_customer"] and plan.sorts, plan.text

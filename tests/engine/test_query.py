"""The list-query builder (SPEC 1.7) through Session.get_list / get_count / get_value."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import FilterError
from engine.rules.query import OPERATORS


def names(rows):
    return sorted(r["name"] for r in rows)


@pytest.fixture
def data(session):
    """A small tree of groups and five customers with child rows."""
    s = session
    s.insert("Test Group", group_name="All", is_group=1, default_rate="1.5")
    s.insert("Test Group", group_name="Europe", parent_test_group="All", is_group=1)
    s.insert("Test Group", group_name="Germany", parent_test_group="Europe")
    s.insert("Test Group", group_name="Asia", parent_test_group="All", is_group=1)
    s.insert("Test Group", group_name="Japan", parent_test_group="Asia")
    s.insert("Test Customer", customer_name="Acme", test_group="Germany", visits=3, credit_limit="100.25",
             score=1.5, is_frozen=1, since="2024-01-10", last_contact="2024-01-31 18:30:00",
             customer_number="C-1", settings={"a": 1},
             rows=[{"item": "bolt", "amount": 5, "group": "Japan"}, {"item": "nut", "amount": 7}])
    s.insert("Test Customer", customer_name="Beta", test_group="Japan", visits=10, credit_limit="50",
             since="2024-02-01", last_contact="2024-02-01 00:00:00", customer_type="Individual",
             first_name="Bea", rows=[{"item": "bolt", "amount": 1}])
    s.insert("Test Customer", customer_name="Gamma", test_group="Europe", visits=0, since="2023-12-31",
             notes="VIP customer")
    s.insert("Test Customer", customer_name="delta", test_group="All", visits=7, credit_limit="7.5",
             since="2024-03-01", customer_number="")
    s.insert("Test Customer", customer_name="Epsilon", since="2024-01-31")  # no group, no rows
    return s


def fl(s, filters, **kw):
    return names(s.get_list("Test Customer", ["name"], filters, **kw))


# ----------------------------------------------------------------- fields

def test_default_fields_star_alias_and_pluck(data):
    s = data
    assert s.get_list("Test Customer", filters={"name": "Acme"}) == [{"name": "Acme"}]
    row = s.get_list("Test Customer", ["*"], {"name": "Acme"})[0]
    assert row["visits"] == 3 and row["credit_limit"] == Decimal("100.25") and row["settings"] == {"a": 1}
    assert "api_secret" not in row and "tree_path" not in row  # passwords never, paths are internal
    assert s.get_list("Test Customer", ["customer_name as cn", "visits as v"], {"name": "Acme"}) == [
        {"cn": "Acme", "v": 3}]
    assert s.get_list("Test Customer", '["name", "visits"]', {"name": "Beta"}) == [{"name": "Beta", "visits": 10}]
    assert s.get_list("Test Customer", "name, visits as v", {"name": "Beta"}) == [{"name": "Beta", "v": 10}]
    assert s.get_list("Test Customer", pluck="name", filters={"visits": [">", 0]}, order_by="visits asc") == [
        "Acme", "delta", "Beta"]
    assert s.get_list("Test Customer", ["`tabTest Customer`.`visits`"], {"name": "Acme"}) == [{"visits": 3}]
    assert s.get_list("Test Customer", ["name", "*"], {"name": "Acme"})[0]["name"] == "Acme"


def test_aggregates_with_group_by(data):
    s = data
    assert s.get_list("Test Customer", ["count(name) as n"]) == [{"n": 5}]
    assert s.get_list("Test Customer", ["count(*)"]) == [{"count(*)": 5}]
    rows = s.get_list("Test Customer", ["customer_type", "count(name) as n", "sum(visits) as v", "max(visits)",
                                        "min(since) as first", "avg(visits) as a"],
                      group_by="customer_type", order_by="n desc")
    assert [(r["customer_type"], r["n"], int(r["v"]), r["max(visits)"], r["first"]) for r in rows] == [
        ("Company", 4, 10, 7, dt.date(2023, 12, 31)), ("Individual", 1, 10, 10, dt.date(2024, 2, 1))]
    assert float(rows[1]["a"]) == 10
    total = s.get_list("Test Customer", ["sum(credit_limit) as total"])[0]["total"]
    assert Decimal(total) == Decimal("157.75")
    # default order with group_by is none, explicit order by the group column or an aggregate works
    by_type = s.get_list("Test Customer", ["customer_type", "count(*) as n"], group_by="customer_type",
                         order_by="customer_type asc")
    assert [r["customer_type"] for r in by_type] == ["Company", "Individual"]
    by_count = s.get_list("Test Customer", ["customer_type"], group_by="customer_type", order_by="count(name) asc")
    assert [r["customer_type"] for r in by_count] == ["Individual", "Company"]


def test_aggregate_rules_are_filter_errors(data):
    s = data
    with pytest.raises(FilterError, match="Customer Name must be in group_by"):
        s.get_list("Test Customer", ["customer_name", "count(name)"])
    with pytest.raises(FilterError, match="not in group_by"):
        s.get_list("Test Customer", ["customer_type", "count(name) as n"], group_by="customer_type",
                   order_by="visits desc")
    with pytest.raises(FilterError, match="sum\\(\\) needs a number field"):
        s.get_list("Test Customer", ["sum(customer_name)"])
    with pytest.raises(FilterError, match="only count"):
        s.get_list("Test Customer", ["sum(*)"])
    with pytest.raises(FilterError, match="alias"):
        s.get_list("Test Customer", ["name", "customer_name as name"])


def test_child_fields_left_join_one_row_per_child(data):
    s = data
    rows = s.get_list("Test Customer", ["name", "rows.item", "`tabTest Customer Row`.amount as amt"],
                      order_by="name asc, rows.item asc")
    pairs = [(r["name"], r["item"], r["amt"]) for r in rows if r["name"] in ("Acme", "Beta", "Epsilon")]
    assert pairs == [("Acme", "bolt", Decimal(5)), ("Acme", "nut", Decimal(7)), ("Beta", "bolt", Decimal(1)),
                     ("Epsilon", None, None)]  # left join: a customer without rows is still listed
    # a filter on a selected child applies to the joined row
    assert s.get_list("Test Customer", ["name", "rows.item"], {"rows.amount": [">", 4]}, order_by="rows.item asc") \
        == [{"name": "Acme", "item": "bolt"}, {"name": "Acme", "item": "nut"}]
    sums = s.get_list("Test Customer", ["name", "sum(rows.amount) as total"], group_by="name",
                      filters={"name": ["in", ["Acme", "Beta"]]}, order_by="total desc")
    assert [(r["name"], Decimal(r["total"])) for r in sums] == [("Acme", Decimal(12)), ("Beta", Decimal(1))]


def test_child_filters_are_exists_and_count_parents_once(data):
    s = data
    assert fl(s, [["Test Customer Row", "item", "=", "bolt"]]) == ["Acme", "Beta"]
    assert fl(s, {"rows.amount": [">", 0]}) == ["Acme", "Beta"]  # Acme has two rows, listed once
    assert fl(s, [["`tabTest Customer Row`.item", "like", "n%"]]) == ["Acme"]
    assert s.get_count("Test Customer", {"rows.amount": [">", 0]}) == 2
    assert s.get_count("Test Customer", [["Test Customer Row", "amount", ">", 0]]) == 2
    assert fl(s, [["Test Customer Row", "group", "descendants of (inclusive)", "Asia"]]) == ["Acme"]
    with pytest.raises(FilterError, match="'Test Group' is not a child table of Test Customer"):
        s.get_list("Test Customer", filters=[["Test Group", "name", "=", "All"]])
    with pytest.raises(FilterError, match="unknown doctype"):
        s.get_list("Test Customer", filters=[["Nope", "name", "=", "All"]])
    with pytest.raises(FilterError, match="sorts only when it is also selected"):
        s.get_list("Test Customer", order_by="rows.amount desc")


# ---------------------------------------------------------------- filters

def test_every_filter_form(data):
    s = data
    assert fl(s, {"test_group": "Japan"}) == ["Beta"]
    assert fl(s, {"visits": [">", 5]}) == ["Beta", "delta"]
    assert fl(s, [["visits", ">", 5]]) == ["Beta", "delta"]
    assert fl(s, [["Test Customer", "visits", ">", 5]]) == ["Beta", "delta"]
    assert fl(s, [["Test Customer", "visits", ">", 5, False]]) == ["Beta", "delta"]  # Frappe's 5th element
    assert fl(s, json.dumps({"visits": [">", 5]})) == ["Beta", "delta"]
    assert fl(s, json.dumps([["visits", ">", 5], ["customer_type", "=", "Company"]])) == ["delta"]
    assert fl(s, [["visits", "<", 1]], or_filters=[["name", "=", "Acme"], ["name", "=", "Beta"]]) == []
    assert fl(s, None, or_filters={"name": "Acme", "visits": 10}) == ["Acme", "Beta"]
    assert fl(s, None, or_filters=json.dumps([["name", "=", "Acme"], ["visits", "=", 0]])) == ["Acme", "Gamma"]
    assert s.get_count("Test Customer", {"visits": [">", 5]}, or_filters={"name": "Beta", "since": "2024-03-01"}) == 2
    assert fl(s, [["test_group", "Japan"]]) == ["Beta"]  # [field, value]: equals
    for missing_value in ([["name", "like"]], ["name", "like"], [["visits", ">"]]):  # not a silent empty list
        with pytest.raises(FilterError, match="has an operator and no value"):
            fl(s, missing_value)


def test_timespan_is_a_named_period_as_in_frappe(data, monkeypatch):
    s = data
    monkeypatch.setattr(s, "now", lambda: dt.datetime(2024, 2, 15, 9, 0))  # a Thursday
    assert fl(s, [["since", "timespan", "last month"]]) == ["Acme", "Epsilon"]  # 2024-01-01 .. 2024-01-31
    assert fl(s, [["since", "Timespan", "this month"]]) == ["Beta"]
    assert fl(s, [["since", "timespan", "next month"]]) == ["delta"]
    assert fl(s, {"since": ["timespan", "this quarter"]}) == ["Acme", "Beta", "Epsilon", "delta"]
    assert fl(s, [["since", "timespan", "last year"]]) == ["Gamma"]
    assert fl(s, [["since", "timespan", "last_30_days"]]) == ["Beta", "Epsilon"]  # 2024-01-16 .. 2024-02-15
    assert fl(s, [["last_contact", "timespan", "last month"]]) == ["Acme"]  # a Datetime: the whole last day
    assert fl(s, [["last_contact", "timespan", "this week"]]) == []  # Monday 12th .. Sunday 18th
    with pytest.raises(FilterError, match="unknown timespan 'fortnight'; use one of yesterday, today"):
        fl(s, [["since", "timespan", "fortnight"]])
    with pytest.raises(FilterError, match="'timespan' applies to dates, and Visits is Int"):
        fl(s, [["visits", "timespan", "today"]])


def test_comparison_operators_and_null_semantics(data):
    s = data
    assert fl(s, {"visits": ["=", "3"]}) == ["Acme"]  # numbers as strings
    # != / not in / not like include rows where the field is empty (NULL), as in Frappe
    assert fl(s, {"test_group": ["!=", "Japan"]}) == ["Acme", "Epsilon", "Gamma", "delta"]
    assert fl(s, {"visits": ["!=", 3]}) == ["Beta", "Epsilon", "Gamma", "delta"]
    assert fl(s, {"visits": [">=", 7]}) == ["Beta", "delta"]
    assert fl(s, {"visits": ["<=", 0]}) == ["Gamma"]
    assert fl(s, {"visits": ["<", 3]}) == ["Gamma"]
    assert fl(s, {"credit_limit": [">", "50.1"]}) == ["Acme"]
    assert fl(s, {"score": [">", 1.4]}) == ["Acme"]
    assert fl(s, {"is_frozen": "1"}) == ["Acme"]
    assert fl(s, {"is_frozen": ["!=", 1]}) == ["Beta", "Epsilon", "Gamma", "delta"]
    assert fl(s, {"since": [">", "2024-01-31"]}) == ["Beta", "delta"]
    assert fl(s, {"since": dt.date(2024, 1, 31)}) == ["Epsilon"]
    assert fl(s, {"last_contact": [">=", "2024-02-01"]}) == ["Beta"]
    assert fl(s, {"test_group": None}) == ["Epsilon"]
    assert fl(s, {"customer_number": ""}) == ["Beta", "Epsilon", "Gamma", "delta"]  # '' or NULL
    assert fl(s, {"customer_number": ["!=", ""]}) == ["Acme"]


def test_like_is_case_insensitive_everywhere(data):
    s = data
    assert fl(s, {"customer_name": ["like", "%E%"]}) == ["Acme", "Beta", "Epsilon", "delta"]
    assert fl(s, {"customer_name": ["like", "%ELT%"]}) == ["delta"]
    assert fl(s, {"name": ["like", "a%"]}) == ["Acme"]
    assert fl(s, {"notes": ["like", "%vip%"]}) == ["Gamma"]
    assert fl(s, {"notes": ["not like", "%vip%"]}) == ["Acme", "Beta", "Epsilon", "delta"]  # NULL notes included
    assert fl(s, {"since": ["like", "2024-01%"]}) == ["Acme", "Epsilon"]
    assert fl(s, {"customer_name": ["like", "Ac_e"]}) == ["Acme"]
    assert fl(s, {"customer_name": ["like", "Acme\\"]}) == []  # a trailing escape is a literal, not an error
    with pytest.raises(FilterError, match="Credit Limit"):
        s.get_list("Test Customer", filters={"credit_limit": ["like", "1%"]})


def test_in_not_in_is(data):
    s = data
    assert fl(s, {"name": ["in", ["Acme", "Beta", "Nope"]]}) == ["Acme", "Beta"]
    assert fl(s, {"name": ["in", "Acme, Beta"]}) == ["Acme", "Beta"]
    assert fl(s, {"visits": ["in", "3,10"]}) == ["Acme", "Beta"]
    assert fl(s, {"name": ["in", []]}) == []
    assert fl(s, {"test_group": ["not in", ["Japan", "Germany"]]}) == ["Epsilon", "Gamma", "delta"]
    assert fl(s, {"test_group": ["not in", "Japan,Germany,"]}) == ["Gamma", "delta"]  # '' excludes the empty
    assert fl(s, {"test_group": ["in", ["Japan", ""]]}) == ["Beta", "Epsilon"]
    assert fl(s, {"test_group": ["is", "not set"]}) == ["Epsilon"]
    assert fl(s, {"test_group": ["is", "set"]}) == ["Acme", "Beta", "Gamma", "delta"]
    assert fl(s, {"customer_number": ["is", "set"]}) == ["Acme"]  # '' is not set
    assert fl(s, {"visits": ["is", "set"]}) == ["Acme", "Beta", "Gamma", "delta"]  # on a number column
    assert fl(s, {"last_contact": ["is", "not set"]}) == ["Epsilon", "Gamma", "delta"]
    assert fl(s, {"settings": ["is", "set"]}) == ["Acme"]
    assert fl(s, {"api_secret": ["is", "set"]}) == []
    with pytest.raises(FilterError, match="'is' takes 'set' or 'not set'"):
        s.get_list("Test Customer", filters={"visits": ["is", "3"]})


def test_between(data):
    s = data
    assert fl(s, {"since": ["between", ["2024-01-01", "2024-01-31"]]}) == ["Acme", "Epsilon"]
    assert fl(s, {"visits": ["between", [3, "7"]]}) == ["Acme", "delta"]
    # a Datetime column with a date-only end bound includes the whole end day
    assert fl(s, {"last_contact": ["between", ["2024-01-01", "2024-01-31"]]}) == ["Acme"]
    assert fl(s, {"last_contact": ["between", [dt.date(2024, 1, 31), dt.date(2024, 2, 1)]]}) == ["Acme", "Beta"]
    assert fl(s, {"last_contact": ["between", ["2024-01-01", "2024-01-31 12:00:00"]]}) == []
    assert fl(s, {"since": ["between", ["2024-02-01", None]]}) == ["Beta", "delta"]
    with pytest.raises(FilterError, match="two values"):
        s.get_list("Test Customer", filters={"since": ["between", ["2024-01-01"]]})


def test_tree_operators(data):
    s = data
    assert fl(s, {"test_group": ["descendants of", "Europe"]}) == ["Acme"]
    assert fl(s, {"test_group": ["descendants of (inclusive)", "europe"]}) == ["Acme", "Gamma"]
    assert fl(s, {"test_group": ["descendants of", "All"]}) == ["Acme", "Beta", "Gamma"]
    assert fl(s, {"test_group": ["not descendants of", "Europe"]}) == ["Beta", "Epsilon", "Gamma", "delta"]
    assert fl(s, {"test_group": ["ancestors of", "Germany"]}) == ["Gamma", "delta"]
    assert fl(s, {"test_group": ["ancestors of (inclusive)", "Germany"]}) == ["Acme", "Gamma", "delta"]
    assert fl(s, {"test_group": ["not ancestors of", "Germany"]}) == ["Acme", "Beta", "Epsilon"]
    assert fl(s, {"test_group": ["descendants of", "Nowhere"]}) == []

    def groups(op, value):
        return names(s.get_list("Test Group", ["name"], {"name": [op, value]}))

    assert groups("descendants of", "All") == ["Asia", "Europe", "Germany", "Japan"]
    assert groups("descendants of (inclusive)", "Asia") == ["Asia", "Japan"]
    assert groups("ancestors of", "Germany") == ["All", "Europe"]
    assert groups("ancestors of (inclusive)", "Germany") == ["All", "Europe", "Germany"]
    assert groups("not descendants of", "Europe") == ["All", "Asia", "Europe", "Japan"]
    assert groups("not ancestors of", "Japan") == ["Europe", "Germany", "Japan"]
    assert names(s.get_list("Test Group", ["name"], {"parent_test_group": ["descendants of (inclusive)", "Europe"]})) \
        == ["Germany"]
    with pytest.raises(FilterError, match="needs a field linking to a tree doctype, and Customer Name"):
        s.get_list("Test Customer", filters={"customer_name": ["descendants of", "All"]})


def test_tree_operator_is_one_statement(data, site):
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(site.engine, "before_cursor_execute", record)
    try:
        data.get_list("Test Customer", ["name"], {"test_group": ["descendants of", "All"]})
        data.get_count("Test Customer", {"test_group": ["not ancestors of", "Germany"]})
    finally:
        sa.event.remove(site.engine, "before_cursor_execute", record)
    selects = [x for x in statements if x.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2


def test_values_are_coerced_and_bad_values_name_the_field(data):
    s = data
    with pytest.raises(FilterError, match="Visits 'many' is not a whole number") as exc:
        s.get_list("Test Customer", filters={"visits": [">", "many"]})
    assert exc.value.status == 417 and exc.value.errors[0].field == "visits"
    assert exc.value.errors[0].label == "Visits" and exc.value.errors[0].value == "many"
    with pytest.raises(FilterError, match="Customer Since 'yesterday' is not a date"):
        s.get_list("Test Customer", filters={"since": "yesterday"})
    with pytest.raises(FilterError, match="Is Frozen"):
        s.get_list("Test Customer", filters={"is_frozen": "maybe"})
    with pytest.raises(FilterError, match="Visits 1000000000000000000000000000000"):
        s.get_list("Test Customer", filters={"visits": 10**30})
    with pytest.raises(FilterError, match="Score '1e400'"):
        s.get_list("Test Customer", filters={"score": "1e400"})
    with pytest.raises(FilterError, match="not a single value"):
        s.get_list("Test Customer", filters={"visits": [">", [1, 2]]})
    with pytest.raises(FilterError, match="NUL"):
        s.get_list("Test Customer", filters={"customer_name": "a\x00b"})


# --------------------------------------------------------- order and limits

def test_order_by_forms_and_default_sort(data):
    s = data
    assert s.get_list("Test Customer", pluck="name", filters={"visits": ["is", "set"]},
                      order_by="visits desc, name asc") == ["Beta", "delta", "Acme", "Gamma"]
    assert s.get_list("Test Customer", pluck="name", order_by="customer_type desc, visits asc")[0] == "Beta"
    assert s.get_list("Test Customer", pluck="name", order_by="`tabTest Customer`.`modified` desc")[0] == "Epsilon"
    assert s.get_list("Test Customer", pluck="name", order_by='["visits asc"]', filters={"visits": [">=", 0]},
                      limit=1) == ["Gamma"]
    assert s.get_list("Test Customer", pluck="name")[0] == "Epsilon"  # default: modified desc
    assert s.get_list("Version", pluck="docname", filters={"docname": "Acme"}) == ["Acme"]  # sort_field creation


def test_limit_and_offset(data):
    s = data
    everything = s.get_list("Test Customer", pluck="name", order_by="visits desc, name asc")
    assert len(everything) == 5
    assert s.get_list("Test Customer", pluck="name", order_by="visits desc, name asc", limit=2) == everything[:2]
    assert s.get_list("Test Customer", pluck="name", order_by="visits desc, name asc", limit="2", offset="1") == \
        everything[1:3]
    assert s.get_list("Test Customer", pluck="name", order_by="visits desc, name asc", offset=4) == everything[4:]
    for bad in (-1, "-5", "ten", 1.5, [1]):
        with pytest.raises(FilterError, match="limit"):
            s.get_list("Test Customer", limit=bad)
        with pytest.raises(FilterError, match="offset"):
            s.get_list("Test Customer", offset=bad)


def test_get_value_and_get_count(data):
    s = data
    assert s.get_value("Test Customer", "acme", "visits") == 3
    assert s.get_value("Test Customer", {"visits": [">", 5]}, ["name", "visits"]) in (
        {"name": "Beta", "visits": 10}, {"name": "delta", "visits": 7})
    assert s.get_value("Test Customer", {"visits": 99}) is None
    assert s.get_count("Test Customer") == 5
    assert s.get_count("Test Customer", '{"customer_type": "Company"}') == 4


# ---------------------------------------------------------------- injection

INJECTED_FIELDS = [
    "name; drop table x", "name) from x --", "sleep(1)", "1=1", "version()", "name as x; drop",
    "count(name) from x", "`name`; select 1", "name as `x`", "tabNope.name", "rows.nope", "api_secret",
    "customer_name || 'x'", "(select 1)", "customer_name as a b", "sum(*)", "count(distinct *)", "rows",
    "group_concat(name)", "`tabTest Group`.name", "*, name from x",
]
INJECTED_ORDER = ["name; delete", "name desc limit 1", "1", "name desc, (select 1)", "sleep(1)", "nope desc",
                  "name desc nulls first", "name)", "[", "count(name) desc", "settings asc"]


@pytest.mark.parametrize("bad", INJECTED_FIELDS)
def test_injection_in_fields_is_a_filter_error(session, bad):
    with pytest.raises(FilterError) as exc:
        session.get_list("Test Customer", [bad])
    assert exc.value.status == 417


@pytest.mark.parametrize("bad", INJECTED_ORDER)
def test_injection_in_order_by_is_a_filter_error(session, bad):
    with pytest.raises(FilterError):
        session.get_list("Test Customer", order_by=bad)


@pytest.mark.parametrize("filters", [
    {"nope": 1}, {"name; drop table x": 1}, [["name", "= 1 or 1=1", "x"]], [["name", "==", "x", "y", "z", "w"]],
    [["Test Group", "name", "=", "All"]], {"name": ["sleep", 1]}, "not json", "5", [["name"]],
    [[1, "=", 1]], {"settings": {"a": 1}}, {"api_secret": "x"}, [["name", "like", ["%"]]],
])
def test_bad_filters_are_filter_errors(session, filters):
    with pytest.raises(FilterError):
        session.get_list("Test Customer", filters=filters)
    with pytest.raises(FilterError):
        session.get_count("Test Customer", filters)


def test_injected_values_stay_values(data):
    s = data
    assert fl(s, {"name": "Acme' OR '1'='1"}) == []
    assert fl(s, {"customer_name": ["like", "%' OR 1=1 --"]}) == []
    assert fl(s, {"test_group": ["descendants of", "x') OR 1=1 --"]}) == []
    assert s.get_count("Test Customer") == 5


_text = st.text(max_size=30)
_FIELDS = ["name", "visits", "rows.amount", "`tabTest Customer Row`.item", "customer_type", "*", "settings",
           "since", "test_group", "last_contact", "credit_limit", "is_frozen", "notes", "score", "call_time"]
_AGGS = ["count(name)", "count(*)", "sum(visits) as s", "max(since) as m", "avg(credit_limit)",
         "count(distinct rows.item)", "min(customer_name) as first"]
_OPS = sorted(OPERATORS)
_fieldish = st.one_of(st.sampled_from(_FIELDS), _text)
_value = st.one_of(_text, st.integers(), st.floats(allow_nan=True), st.none(), st.booleans(),
                   st.sampled_from(["2024-01-31", "2024-01-31 10:00", "10:30", "1", "All", "Europe", "%a%", "",
                                   "0001-01-01", "9999-12-31", "9999-12-31 23:59:59.999999", "-1", "1e308", "9" * 25,
                                   "24:00", "\\", "%\\", "2024-02-30", "1.5", "0.0000001", "true"]),
                   st.lists(st.one_of(_text, st.integers(), st.sampled_from(["2024-01-01", "Asia"])), max_size=3))
_quick = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _result_or_filter_error(call):
    """Never a database error (sqlalchemy DBAPIError) or any other exception."""
    try:
        rows = call()
    except FilterError as exc:
        assert exc.status == 417
        return None
    assert isinstance(rows, (list, int))
    return rows


@_quick
@given(fields=st.lists(st.one_of(_fieldish, st.sampled_from(_AGGS)), min_size=1, max_size=3),
       order=st.one_of(st.none(), _fieldish, st.sampled_from(["visits desc, name", "m desc", "count(name) asc"])),
       group=st.one_of(st.none(), st.sampled_from(["customer_type", "test_group", "rows.item"]), _text),
       limit=st.one_of(st.none(), st.integers(-5, 10**20), _text), distinct=st.booleans())
def test_random_fields_order_and_group_give_rows_or_filter_errors(data, fields, order, group, limit, distinct):
    _result_or_filter_error(lambda: data.get_list("Test Customer", fields, order_by=order, group_by=group,
                                                  limit=limit, distinct=distinct))


@_quick
@given(fieldname=st.one_of(st.sampled_from([*_FIELDS, "rows.group", "`tabTest Customer Row`.qty"]), _text),
       op=st.one_of(st.sampled_from(_OPS), _text), value=_value, child=st.booleans())
def test_random_filters_give_rows_or_filter_errors(data, fieldname, op, value, child):
    flt = [["Test Customer Row", fieldname, op, value]] if child else [[fieldname, op, value]]
    _result_or_filter_error(lambda: data.get_list("Test Customer", ["name", "rows.item"], flt))
    _result_or_filter_error(lambda: data.get_count("Test Customer", flt, or_filters={fieldname: [op, value]}))


# -------------------------------------------------------------- performance

def test_same_query_shape_hits_the_compiled_cache(data, site):
    hits = []

    def record(conn, cursor, statement, parameters, context, executemany):
        hits.append(context.cache_hit)

    data.get_list("Test Customer", ["name", "rows.item"], {"visits": [">", 1], "test_group": ["descendants of", "A"]},
                  order_by="name desc", limit=5)
    sa.event.listen(site.engine, "before_cursor_execute", record)
    try:
        data.get_list("Test Customer", ["name", "rows.item"],
                      {"visits": [">", 2], "test_group": ["descendants of", "Europe"]}, order_by="name desc", limit=9)
    finally:
        sa.event.remove(site.engine, "before_cursor_execute", record)
    assert hits and hits[-1] == context_cache_hit(site)


def context_cache_hit(site):
    return site.engine.dialect.CACHE_HIT

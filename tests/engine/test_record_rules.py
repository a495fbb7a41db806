"""Record rules: who sees which records, in lists, counts and get_doc; SQL and Python agree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Site
from engine.errors import MetaError, PermissionError
from engine.metadata.app import load_app_doctypes
from engine.metadata.expressions import compile_expression
from engine.rules.permissions import can_read, rule_sql

CASE = """\
name: Rule Case
naming: {rule: hash}
fields:
  - {name: title, type: Data}
  - {name: manager, type: Link, options: User}
  - {name: status, type: Select, options: [Open, Closed]}
  - {name: qty, type: Int}
  - {name: amount, type: Currency}
  - {name: ratio, type: Float}
  - {name: flag, type: Check}
  - {name: due, type: Date}
  - {name: at, type: Datetime}
  - {name: note, type: Small Text}
"""

VISIT = """\
name: Visit
naming: {rule: prompt}
fields:
  - {name: manager, type: Link, options: User, label: Manager}
  - {name: region, type: Data, label: Region}
permissions:
  Boss: [read]
  Agent: [read, write]
  Auditor: [read]
record_rules:
  - {roles: [Agent], condition: "manager == user.name", description: Agents see the visits they manage.}
  - {roles: [Auditor], condition: "region in ['north', 'east']"}
"""

USERS = {  # user -> roles
    "agent@x.com": ["Agent"],
    "auditor@x.com": ["Auditor"],
    "both@x.com": ["Agent", "Auditor"],
    "boss@x.com": ["Agent", "Boss"],  # Boss is in permissions and in no rule: unrestricted
    "plain@x.com": [],  # no role named by a rule: unrestricted
    "other@x.com": ["Stranger"],
}
VISITS = {  # name -> (manager, region)
    "v1": ("agent@x.com", "south"),
    "v2": ("both@x.com", "south"),
    "v3": (None, "north"),
    "v4": ("agent@x.com", "east"),
    "v5": ("boss@x.com", None),
}
EXPECTED = {
    "agent@x.com": {"v1", "v4"},
    "auditor@x.com": {"v3", "v4"},
    "both@x.com": {"v2", "v3", "v4"},
    "boss@x.com": set(VISITS),
    "plain@x.com": None,  # no role with read permission (role permissions): PermissionError
    "other@x.com": None,
    "Administrator": set(VISITS),
    "ghost@x.com": None,  # no User record: no roles
}


def write_app(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


@pytest.fixture(scope="module")
def rsite(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    app = write_app(tmp_path_factory.mktemp("rules_app"),
                    {"doctypes/rule_case.yaml": CASE, "doctypes/visit.yaml": VISIT})
    site = Site(databases.new(), app)
    site.migrate()
    with site.session() as s, s.atomic():
        for role in ("Agent", "Auditor", "Boss", "Stranger"):
            s.insert("Role", name=role)
        for user, roles in USERS.items():
            s.insert("User", name=user, email=user, full_name=user.split("@")[0].title(),
                     roles=[{"role": r} for r in roles])
        for name, (manager, region) in VISITS.items():
            s.insert("Visit", name=name, manager=manager, region=region)
        for row in CASE_ROWS:
            s.insert("Rule Case", row)
    yield site
    site.dispose()


# ------------------------------------------------------------------ semantics

@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_each_user_sees_exactly_the_records_their_rules_allow(rsite: Site, user: str) -> None:
    with rsite.session(user) as s:
        if EXPECTED[user] is None:
            with pytest.raises(PermissionError):
                s.get_list("Visit", pluck="name")
            return
        assert set(s.get_list("Visit", pluck="name")) == EXPECTED[user]
        assert s.get_count("Visit") == len(EXPECTED[user])
        assert set(s.get_list("Visit", pluck="name", filters={"region": "south"})) == \
            EXPECTED[user] & {"v1", "v2"}
        for name in VISITS:
            assert can_read(s, s.get_doc("Visit", name) if name in EXPECTED[user] else _admin_doc(rsite, name)) \
                == (name in EXPECTED[user])


def _admin_doc(site: Site, name: str) -> Any:
    with site.session() as s:
        return s.get_doc("Visit", name)


def test_get_doc_of_a_hidden_record_is_permission_error_not_missing(rsite: Site) -> None:
    with rsite.session("agent@x.com") as s:
        assert s.get_doc("Visit", "V1").name == "v1"  # IDs still match case-insensitively
        with pytest.raises(PermissionError) as err:
            s.get_doc("Visit", "v3")
        assert err.value.status == 403
        assert "Visit 'v3'" in err.value.message and "agent@x.com" in err.value.message
        assert "Agents see the visits they manage." in err.value.message
        assert s.get_value("Visit", "v3", "region") is None  # invisible to queries too
        assert s.roles() == frozenset({"Agent"})


def test_ignore_permissions_session_is_not_restricted(rsite: Site) -> None:
    with rsite.session("agent@x.com", ignore_permissions=True) as s:
        assert s.get_count("Visit") == len(VISITS)
        assert s.get_doc("Visit", "v3").region == "north"


def test_roles_are_read_once_per_session(rsite: Site) -> None:
    with rsite.session("auditor@x.com") as s:
        assert s.get_count("Visit") == 2
        with rsite.session() as admin:
            user = admin.get_doc("User", "auditor@x.com")
            user.roles = []
            user.save()
        try:
            assert s.get_count("Visit") == 2  # cached for this session
            with rsite.session("auditor@x.com") as fresh, pytest.raises(PermissionError):  # no role any more
                fresh.get_count("Visit")
        finally:
            with rsite.session() as admin:
                user = admin.get_doc("User", "auditor@x.com")
                user.append("roles", {"role": "Auditor"})
                user.save()


# ------------------------------------------------------------- SQL == Python

CASE_ROWS: list[dict[str, Any]] = [
    {"title": "alpha", "manager": "agent@x.com", "status": "Open", "qty": 5, "amount": Decimal("10.50"),
     "ratio": 2.5, "flag": 1, "due": dt.date(2024, 1, 31), "at": dt.datetime(2024, 1, 31, 9, 30), "note": "x"},
    {"title": "beta", "manager": "both@x.com", "status": "Closed", "qty": 0, "amount": Decimal("0"),
     "ratio": 0.0, "flag": 0, "due": dt.date(2023, 12, 1), "at": dt.datetime(2023, 12, 1, 0, 0), "note": ""},
    {"title": "", "manager": None, "status": None, "qty": None, "amount": None, "ratio": None, "flag": 0,
     "due": None, "at": None, "note": None},
    {"title": "gamma", "manager": "boss@x.com", "status": "Open", "qty": -3, "amount": Decimal("99.99"),
     "ratio": -1.25, "flag": 1, "due": dt.date(2024, 6, 15), "at": dt.datetime(2024, 6, 15, 18, 0), "note": "n"},
]

CONDITIONS = [
    "manager == user.name", "manager != user.name", "user.name == manager", "manager == user.full_name",
    "manager != user.full_name", "manager == user.email or status == 'Closed'",
    "status == 'Open'", "status != 'Open'", "status == null", "status != null", "not status",
    "qty > 0", "qty >= 0", "qty < 1", "0 < qty", "qty != 5", "not (qty > 0)", "qty == -3",
    "amount >= 10.5", "amount == 0", "amount != 99.99", "ratio > 1", "ratio == 2.5", "ratio <= 0",
    "flag", "not flag", "flag == true", "flag == 1 and qty > 1", "flag != false",
    "title", "not title", "note", "title in ['alpha', 'beta']", "title not in ['alpha', '']",
    "status in ['Open', null]", "status not in ['Open', null]", "qty in [0, 5]", "qty not in []",
    "due > '2024-01-01'", "due == '2024-01-31'", "due != '2024-01-31'", "due", "not due",
    "at >= '2024-01-31 09:30:00'", "at < '2024-01-01'", "at == '2023-12-01'",
    "name != ''", "owner == 'Administrator'", "docstatus == 0",
    "true", "false", "not (status == 'Open' or qty == 0) and title != 'x'",
    "(status == 'Open' and flag) or (manager == user.name and not due)",
]

USERS_FOR_AGREEMENT = [
    {"name": "agent@x.com", "email": "agent@x.com", "full_name": "Agent"},
    {"name": "boss@x.com", "email": None, "full_name": None},
]


def _agree(site: Site, condition: str, user: dict[str, Any]) -> None:
    meta, table = site.get_meta("Rule Case"), site.table("Rule Case")
    with site.session() as s:
        via_sql = set(s.conn.execute(sa.select(table.c.name).where(rule_sql(condition, meta, table, user)))
                      .scalars())
        s.conn.rollback()
        expression = compile_expression(condition)
        via_python = set()
        for name in s.get_list("Rule Case", pluck="name"):
            doc = s.get_doc("Rule Case", name)
            if expression.evaluate({c: doc.get(c) for c in meta.column_names}, user):
                via_python.add(name)
    assert via_sql == via_python, f"{condition!r} for {user['name']}: SQL {via_sql} != Python {via_python}"


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("user", USERS_FOR_AGREEMENT, ids=lambda u: u["name"])
def test_sql_and_python_agree(rsite: Site, condition: str, user: dict[str, Any]) -> None:
    _agree(rsite, condition, user)


_FIELD_VALUES = {
    "title": st.sampled_from(["'alpha'", "'beta'", "''", "null", "user.name", "user.full_name"]),
    "manager": st.sampled_from(["'agent@x.com'", "null", "user.name", "user.email"]),
    "qty": st.sampled_from(["0", "5", "-3", "1", "null"]),
    "amount": st.sampled_from(["0", "10.5", "10.50", "99.99", "null"]),
    "flag": st.sampled_from(["0", "1", "true", "false"]),
    "due": st.sampled_from(["'2024-01-31'", "'2023-12-01'", "null"]),
}


@st.composite
def _comparison(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(sorted(_FIELD_VALUES)))
    if draw(st.integers(0, 5)) == 0:
        return field
    value = draw(_FIELD_VALUES[field])
    ops = ["==", "!="] if value.startswith("user.") or value == "null" else ["==", "!=", "<", "<=", ">", ">="]
    if field in ("manager", "title") and not value.startswith("user.") and draw(st.booleans()):
        items = draw(st.lists(_FIELD_VALUES[field].filter(lambda v: not v.startswith("user.")), max_size=3))
        return f"{field} {draw(st.sampled_from(['in', 'not in']))} [{', '.join(items)}]"
    return f"{field} {draw(st.sampled_from(ops))} {value}"


_conditions = st.recursive(
    _comparison(),
    lambda inner: st.one_of(
        inner.map(lambda c: f"not ({c})"),
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
    ),
    max_leaves=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(condition=_conditions, user=st.sampled_from(USERS_FOR_AGREEMENT))
def test_sql_and_python_agree_on_generated_conditions(rsite: Site, condition: str, user: dict[str, Any]) -> None:
    _agree(rsite, condition, user)


# ------------------------------------------------------------------ loading

@pytest.mark.parametrize("rules, message", [
    ('[{roles: [A], condition: "manager == region"}]', "comparing two document fields is not supported"),
    ('[{roles: [A], condition: "region in \'north\'"}]', "is not supported in record rules"),
    ('[{roles: [A], condition: "manager == user.roles"}]', "user.roles (use user.name, user.email, user.full_name)"),
    ('[{roles: [A], condition: "managr == user.name"}]', "refers to unknown field 'managr'"),
    ('[{roles: [A], condition: "qty == \'abc\'"}]', "'abc' cannot be compared with a number field"),
    ('[{roles: [A], condition: "due > \'soon\'"}]', "'soon' is not a date like '2024-01-31'"),
    ('[{roles: [A], condition: "qty == user.name"}]', "user.name can only be compared with == or != to a text field"),
    ('[{roles: [A], condition: "manager == = 1"}]', "record_rules[1]"),
    ('[{roles: [], condition: "qty > 1"}]', "should be non-empty"),
    ('[{roles: [A]}]', "'condition' is required"),
])
def test_bad_record_rules_are_meta_errors(tmp_path: Path, rules: str, message: str) -> None:
    write_app(tmp_path, {"doctypes/thing.yaml": (
        "name: Thing\nfields:\n  - {name: manager, type: Link, options: User}\n  - {name: region, type: Data}\n"
        f"  - {{name: qty, type: Int}}\n  - {{name: due, type: Date}}\nrecord_rules: {rules}\n")})
    with pytest.raises(MetaError) as err:
        load_app_doctypes(tmp_path)
    text = str(err.value)
    assert message in text and "Thing" in text, text


def test_child_doctype_cannot_have_record_rules(tmp_path: Path) -> None:
    write_app(tmp_path, {"doctypes/row.yaml": (
        "name: Row\nis_child: true\nfields:\n  - {name: a, type: Data}\n"
        "record_rules: [{roles: [A], condition: a}]\n")})
    with pytest.raises(MetaError, match="a child doctype cannot have record_rules"):
        load_app_doctypes(tmp_path)


def test_record_rules_are_loaded_into_the_metadata(rsite: Site) -> None:
    rules = rsite.get_meta("Visit").record_rules
    assert [(r.roles, r.condition) for r in rules] == [
        (("Agent",), "manager == user.name"), (("Auditor",), "region in ['north', 'east']")]
    assert rules[0].description == "Agents see the visits they manage."

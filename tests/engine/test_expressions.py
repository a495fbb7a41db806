"""Tests for the safe expression language in engine/metadata/expressions.py."""

from __future__ import annotations

import pickle
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.metadata.expressions import Expression, ExpressionError, compile_expression


def ev(source: str, doc: dict | None = None, user: dict | None = None) -> bool:
    return compile_expression(source).evaluate(doc or {}, user)


# ------------------------------------------------------------------ literals


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true", True),
        ("false", False),
        ("null", False),
        ("1", True),
        ("0", False),
        ("0.0", False),
        ("2.5", True),
        ("-1", True),
        ("'x'", True),
        ('""', False),
        ("''", False),
        ("[]", False),
        ("[0]", True),
        ("[1, 'a']", True),
        ("[1, 'a',]", True),
        ("'it\\'s' == \"it's\"", True),
        ('"say \\"hi\\"" == \'say "hi"\'', True),
        ("'a\\\\b' == x", True),
        ("'line\\nbreak' == y", True),
        ("2.5 == 2.50", True),
        ("-2.5 < -2", True),
        ("- - 3 == 3", True),
        ("-(1) == -1", True),
        ("[1, 'a'] == [1, 'a']", True),
        ("[1, 'a'] == [1, 'b']", False),
        ("[1, 2] == [1]", False),
    ],
)
def test_literals(source: str, expected: bool) -> None:
    assert ev(source, {"x": "a\\b", "y": "line\nbreak"}) is expected


def test_evaluate_always_returns_bool() -> None:
    for source in ("1", "'x'", "[1]", "a", "a or b", "a and b", "not a"):
        result = ev(source, {"a": "yes", "b": 5})
        assert type(result) is bool


# ---------------------------------------------------------------- precedence


@pytest.mark.parametrize(
    ("a", "b", "c"),
    [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)],
)
def test_or_binds_looser_than_and(a: int, b: int, c: int) -> None:
    doc = {"a": a, "b": b, "c": c}
    assert ev("a or b and c", doc) is bool(a or (b and c))
    assert ev("a and b or c", doc) is bool((a and b) or c)
    assert ev("(a or b) and c", doc) is bool((a or b) and c)
    assert ev("not a or b", doc) is bool((not a) or b)
    assert ev("not (a or b)", doc) is bool(not (a or b))


def test_not_binds_looser_than_comparison() -> None:
    assert ev("not x == 1", {"x": 2}) is True
    assert ev("not x == 1", {"x": 1}) is False
    assert ev("not not x", {"x": 3}) is True
    assert ev("not x in [1, 2]", {"x": 3}) is True


def test_unary_minus_binds_tighter_than_comparison() -> None:
    assert ev("-x < 0", {"x": 5}) is True
    assert ev("-x == -5", {"x": 5}) is True
    assert ev("-x", {"x": "text"}) is False  # minus of a non-number is null
    assert ev("-x == null", {"x": None}) is True


def test_and_or_short_circuit() -> None:
    class Exploding(dict):
        def get(self, key, default=None):
            if key == "boom":
                raise AssertionError("should not be evaluated")
            return super().get(key, default)

    assert compile_expression("a or boom").evaluate(Exploding(a=1)) is True
    assert compile_expression("a and boom").evaluate(Exploding(a=0)) is False


def test_maximum_nesting_still_evaluates() -> None:
    assert ev("(" * 50 + "x" + ")" * 50, {"x": 1}) is True
    assert ev("[" * 50 + "x" + "]" * 50, {"x": 0}) is True
    assert ev("not " * 50 + "x", {"x": 0}) is False
    assert ev("(not " * 25 + "x" + ")" * 25, {"x": 1}) is False  # odd number of nots
    assert ev("- " * 50 + "x == x", {"x": 2}) is True


def test_long_chains_do_not_nest() -> None:
    source = " or ".join(f"f{i}" for i in range(2000))
    assert ev(source, {"f1999": 1}) is True
    assert ev(source.replace(" or ", " and "), {f"f{i}": 1 for i in range(2000)}) is True


# ------------------------------------------------------------------ in / not in


def test_in_list() -> None:
    assert ev("status in ['Open', 'Draft']", {"status": "Open"}) is True
    assert ev("status in ['Open', 'Draft']", {"status": "Closed"}) is False
    assert ev("status not in ['Open', 'Draft']", {"status": "Closed"}) is True
    assert ev("status in []", {"status": "Open"}) is False
    assert ev("qty in [1, 2.5]", {"qty": Decimal("2.5")}) is True
    assert ev("qty in [1, 2.5]", {"qty": 2.5}) is True
    assert ev("null in [null]", {}) is True
    assert ev("x in [a, b]", {"x": 3, "a": 1, "b": 3}) is True


def test_in_string() -> None:
    assert ev("'bc' in name", {"name": "abcd"}) is True
    assert ev("'xy' in name", {"name": "abcd"}) is False
    assert ev("'xy' not in name", {"name": "abcd"}) is True
    assert ev("1 in name", {"name": "123"}) is False  # non-string needle


def test_in_other_containers() -> None:
    assert ev("'x' in missing", {}) is False
    assert ev("'x' not in missing", {}) is True
    assert ev("'x' in n", {"n": 5}) is False
    assert ev("2 in s", {"s": {1, 2}}) is True


# ------------------------------------------------------------------- null handling


def test_null_handling() -> None:
    assert ev("missing == null", {}) is True
    assert ev("missing != null", {}) is False
    assert ev("x == null", {"x": None}) is True
    assert ev("x != null", {"x": 0}) is True
    assert ev("x == 0", {"x": None}) is False
    assert ev("x == ''", {"x": None}) is False
    assert ev("missing", {}) is False
    assert ev("not missing", {}) is True
    for op in ("<", "<=", ">", ">="):
        assert ev(f"x {op} 1", {"x": None}) is False
        assert ev(f"1 {op} x", {"x": None}) is False
        assert ev(f"null {op} null", {}) is False


def test_truthiness_of_fields() -> None:
    for falsy in (None, 0, 0.0, Decimal(0), "", [], False):
        assert ev("is_group", {"is_group": falsy}) is False
    for truthy in (1, -1, 0.5, "0", [0], True):
        assert ev("is_group", {"is_group": truthy}) is True


# ------------------------------------------------------------- type mismatches


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
@pytest.mark.parametrize(
    ("left", "right"),
    [("10", 5), (5, "10"), ([1], 1), (date(2024, 1, 1), 5), ("abc", date(2024, 1, 1))],
)
def test_mismatched_ordering_is_false(op: str, left: object, right: object) -> None:
    assert ev(f"a {op} b", {"a": left, "b": right}) is False


def test_mismatched_equality() -> None:
    assert ev("a == b", {"a": "1", "b": 1}) is False
    assert ev("a != b", {"a": "1", "b": 1}) is True
    assert ev("a == b", {"a": [1], "b": 1}) is False


def test_numbers_compare_numerically() -> None:
    assert ev("a == b", {"a": 1, "b": 1.0}) is True
    assert ev("a == b", {"a": Decimal("0.1"), "b": 0.1}) is True
    assert ev("a < b", {"a": Decimal("2.5"), "b": 3}) is True
    assert ev("a >= 2.5", {"a": 2.5}) is True
    assert ev("a > 2.5", {"a": Decimal("2.51")}) is True
    assert ev("10 > 9", {}) is True
    assert ev("'10' > '9'", {}) is False  # strings compare as strings
    assert ev("is_group == true", {"is_group": 1}) is True


def test_nan_never_raises() -> None:
    for value in (float("nan"), Decimal("NaN"), Decimal("sNaN")):
        assert ev("x < 1", {"x": value}) is False
        assert ev("x == 1", {"x": value}) is False
        assert ev("-x", {"x": value}) in (True, False)


# ----------------------------------------------------------------------- dates


def test_dates_compare_with_iso_strings() -> None:
    doc = {"posting_date": date(2024, 1, 31)}
    assert ev("posting_date == '2024-01-31'", doc) is True
    assert ev("'2024-01-31' == posting_date", doc) is True
    assert ev("posting_date < '2024-02-01'", doc) is True
    assert ev("posting_date >= '2024-01-31'", doc) is True
    assert ev("posting_date > '2024-01-31'", doc) is False
    assert ev("posting_date < 'not a date'", doc) is False
    assert ev("posting_date == 'not a date'", doc) is False
    assert ev("posting_date in ['2024-01-30', '2024-01-31']", doc) is True


def test_dates_and_datetimes_compare() -> None:
    doc = {"d": date(2024, 1, 31), "dt": datetime(2024, 1, 31, 10, 30), "t": time(9, 0)}
    assert ev("d < dt", doc) is True
    assert ev("d == dt", doc) is False
    assert ev("dt > '2024-01-31'", doc) is True
    assert ev("dt == '2024-01-31 10:30:00'", doc) is True
    assert ev("d < '2024-01-31 00:00:01'", doc) is True
    assert ev("t < '10:00'", doc) is True
    assert ev("t == '09:00:00'", doc) is True
    assert ev("d == dt", {"d": date(2024, 1, 31), "dt": datetime(2024, 1, 31)}) is True


# ----------------------------------------------------------------- prefixes


def test_doc_prefix() -> None:
    doc = {"customer_type": "Company"}
    assert ev("doc.customer_type == 'Company'", doc) is True
    assert ev("customer_type == 'Company'", doc) is True
    assert ev("doc . customer_type == 'Company'", doc) is True
    assert ev("doc.missing", doc) is False
    assert ev("doc", {"doc": 1}) is True  # a bare "doc" is just a field named doc


def test_user_prefix() -> None:
    user = {"name": "jane@example.com", "roles": ["Sales User", "Accounts User"]}
    doc = {"owner": "jane@example.com"}
    assert ev("owner == user.name", doc, user) is True
    assert ev("'Sales User' in user.roles", doc, user) is True
    assert ev("'System Manager' in user.roles", doc, user) is False
    assert ev("'System Manager' not in user.roles", doc, user) is True
    assert ev("user.name == null", doc) is True  # no user given
    assert ev("user", {"user": "x"}, user) is True  # bare "user" is a doc field


def test_eval_prefix() -> None:
    doc = {"customer_type": "Company"}
    assert ev("eval:doc.customer_type=='Company'", doc) is True
    assert ev("  eval: doc.customer_type == 'Individual'", doc) is False
    with pytest.raises(ExpressionError, match="column 11"):
        compile_expression("eval:doc.x=1")
    with pytest.raises(ExpressionError, match="empty expression"):
        compile_expression("eval:")


# ---------------------------------------------------------------------- API


def test_fields() -> None:
    expr = compile_expression("doc.a == 1 and b in [c, user.d] or not doc.e and user.f")
    assert expr.fields() == frozenset({"a", "b", "c", "e"})
    assert compile_expression("true").fields() == frozenset()
    assert compile_expression("eval:doc.is_group").fields() == frozenset({"is_group"})


def test_compile_is_cached_and_expression_is_hashable() -> None:
    first = compile_expression("a == 1")
    assert compile_expression("a == 1") is first
    assert Expression("a == 1") == first
    assert {first, Expression("a == 1")} == {first}
    assert first.source == "a == 1"
    assert "a == 1" in repr(first)


def test_expression_is_reusable_and_picklable() -> None:
    expr = compile_expression("qty > 10")
    assert [expr.evaluate({"qty": q}) for q in (5, 11, None, 10)] == [False, True, False, False]
    clone = pickle.loads(pickle.dumps(expr))
    assert clone == expr and clone.evaluate({"qty": 11}) is True


def test_error_is_value_error_with_column() -> None:
    with pytest.raises(ValueError) as info:
        compile_expression("a == (b or )")
    err = info.value
    assert isinstance(err, ExpressionError)
    assert err.column == 12 and err.source == "a == (b or )"
    assert str(err) == "unexpected token ')' at column 12 in: a == (b or )"
    clone = pickle.loads(pickle.dumps(err))
    assert str(clone) == str(err) and clone.column == 12


def test_non_string_source() -> None:
    with pytest.raises(TypeError):
        Expression(5)  # type: ignore[arg-type]


# --------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("__import__('os')", 1),
        ("a.b.c", 2),
        ("doc.a.b", 6),
        ("x(1)", 2),
        ("doc.x(1)", 6),
        ("1 +", 3),
        ("a + 1", 3),
        ("'unterminated", 1),
        ('x == "unterminated', 6),
        ("'trailing backslash\\", 1),
        ("'bad \\q escape'", 6),
        ("a = 1", 3),
        ("doc.__class__", 5),
        ("user.__dict__", 6),
        ("doc.__class__.__bases__", 5),
        ("lambda: 1", 7),
        ("lambda x: x", 8),
        ("", 1),
        ("   ", 4),
        ("a == ", 6),
        ("(a", 3),
        ("a)", 2),
        ("[1, 2", 6),
        ("[1 2]", 4),
        ("a < b < c", 7),
        ("a == b != c", 8),
        ("a not b", 7),
        ("not", 4),
        ("and a", 1),
        ("a or", 5),
        ("1e5", 1),
        ("1.5.2", 1),
        ("3.x", 1),
        (".5", 1),
        ("a && b", 3),
        ("a || b", 3),
        ("!a", 1),
        ("x == True", 6),
        ("x is None", 3),
        ("a[0]", 2),
        ("doc['a']", 4),
        ("doc.", 5),
        ("user.1", 6),
        ("other.name", 6),
        ("a # comment", 3),
        ("café", 4),
        ("9" * 5000, 1),
        ("(" * 100 + "1" + ")" * 100, 51),
        ("not " * 100 + "a", 201),
        ("- " * 100 + "a", 101),
    ],
)
def test_rejected(source: str, column: int) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(source)
    assert info.value.column == column
    assert f"at column {column} in: " in str(info.value)


def test_error_messages_say_what_is_wrong() -> None:
    cases = {
        "__import__('os')": "names starting with '__' are not allowed",
        "a.b.c": "only 'doc.' and 'user.'",
        "x(1)": "function calls are not allowed",
        "'abc": "unterminated string",
        "a = 1": "unexpected character '=' (use '==')",
        "a < b < c": "chained comparison",
        "": "empty expression",
        "a ==": "unexpected end of expression",
        "x == True": "use 'true'",
        "((((((((" * 10: "nested too deeply",
    }
    for source, message in cases.items():
        with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
            compile_expression(source)


# ------------------------------------------------------------------ properties

_ALPHABET = "abdoceulrsnt_01 .'\"\\()[],=!<>-:"


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=_ALPHABET, max_size=40)))
def test_random_text_only_raises_expression_error(source: str) -> None:
    try:
        expr = compile_expression(source)
    except ExpressionError as err:
        assert 1 <= err.column <= len(source) + 1
        return
    assert isinstance(expr.evaluate({}), bool)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(max_size=5),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=3),
)
_OPERAND = st.sampled_from(["a", "b", "doc.a", "user.r", "1", "2.5", "'x'", "null", "[1, 'x']"])
_OPERATOR = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_OPERAND, _OPERATOR), max_size=4),
    _OPERAND,
    st.dictionaries(st.sampled_from(["a", "b"]), _VALUES),
    st.dictionaries(st.just("r"), _VALUES),
)
def test_evaluation_never_raises(
    parts: list[tuple[str, str]], last: str, doc: dict, user: dict
) -> None:
    # comparisons cannot chain, so join comparison pairs with and/or
    tokens: list[str] = []
    for index, (operand, op) in enumerate(parts):
        tokens += [operand, op if index % 2 == 0 else "and"]
    source = " ".join([*tokens, last])
    try:
        expr = compile_expression(source)
    except ExpressionError:
        return
    assert isinstance(expr.evaluate(doc, user), bool)

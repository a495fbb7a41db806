"""Price lists and item prices, due dates from payment terms, credit limits per company."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import ModuleType

import pytest
import sqlalchemy as sa

from engine.errors import ValidationError
from engine.site.session import Session


def rows_of(cm: Session, doctype: str) -> int:
    return cm.conn.execute(sa.select(sa.func.count()).select_from(cm.site.table(doctype))).scalar()


def price_lists(cm: Session, *names: str, **values: object) -> None:
    for n in names:
        cm.insert("Price List", {"price_list_name": n, **values})


def items(cm: Session, *codes: str) -> None:
    for code in codes:
        cm.insert("Item", item_code=code, item_group="All Item Groups")


def pl_rows(*names: str) -> list[dict[str, str]]:
    return [{"price_list": n} for n in names]


def refused_save(cm: Session, doc: object, *words: str) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        doc.save()  # type: ignore[attr-defined]
    for w in words:
        assert w in exc.value.message, (w, exc.value.message)
    return exc.value


# ------------------------------------------------------------------ price lists
def test_customer_takes_up_to_three_distinct_selling_enabled_lists(cm: Session) -> None:
    price_lists(cm, "A", "B", "C", "D")
    price_lists(cm, "Buying Only", selling=0, buying=1)
    price_lists(cm, "Old", enabled=0)
    c = cm.insert("Customer", customer_name="Acme", price_lists=pl_rows("A", "B", "C"))
    assert [r.price_list for r in c.price_lists] == ["A", "B", "C"]
    before = rows_of(cm, "Customer Price List")
    cases = [
        (pl_rows("A", "B", "C", "D"), ["Price Lists has 4 rows", "at most 3"]),
        (pl_rows("A", "A"), ["Price List 'A' is listed twice"]),
        (pl_rows("Buying Only"), ["Price List 'Buying Only' is not a selling price list"]),
        (pl_rows("Old"), ["Price List 'Old' is disabled"]),
    ]
    for value, words in cases:
        c.price_lists = value
        refused_save(cm, c, *words)
    assert rows_of(cm, "Customer Price List") == before
    assert [r.price_list for r in cm.get_doc("Customer", "Acme").price_lists] == ["A", "B", "C"]


def test_customer_group_takes_up_to_five_lists(cm: Session) -> None:
    price_lists(cm, "A", "B", "C", "D", "E", "F")
    g = cm.insert("Customer Group", customer_group_name="Retail", parent_customer_group="All Customer Groups",
                  price_lists=pl_rows("A", "B", "C", "D", "E"))
    assert len(g.price_lists) == 5
    g.price_lists = pl_rows("A", "B", "C", "D", "E", "F")
    refused_save(cm, g, "Customer Group", "Price Lists has 6 rows", "at most 5")
    g.price_lists = pl_rows("A", "B", "B")
    refused_save(cm, g, "Price List 'B' is listed twice")
    assert len(cm.get_doc("Customer Group", "Retail").price_lists) == 5


def test_price_list_chain_customer_then_groups_nearest_first_then_system(cm: Session, selling: ModuleType) -> None:
    price_lists(cm, "Cust", "Retail", "Europe Retail", "Top", "Off")
    cm.insert("Customer Group", customer_group_name="Top Group", parent_customer_group="All Customer Groups",
              is_group=1, price_lists=pl_rows("Top", "Off"))
    cm.insert("Customer Group", customer_group_name="Retail", parent_customer_group="Top Group",
              price_lists=pl_rows("Retail", "Europe Retail", "Cust"))
    cm.insert("Customer", customer_name="Acme", customer_group="Retail", price_lists=pl_rows("Cust"))
    off = cm.get_doc("Price List", "Off")
    off.enabled = 0
    off.save()  # disabled later: skipped in the chain
    assert selling.price_list_chain(cm, "Acme") == [
        ("Cust", "customer"), ("Retail", "customer_group:Retail"), ("Europe Retail", "customer_group:Retail"),
        ("Top", "customer_group:Top Group"), ("Standard Selling", "system")]
    plain = cm.insert("Customer", customer_name="Plain")
    assert selling.price_list_chain(cm, plain.name) == [("Standard Selling", "system")]


def test_price_for_item_is_the_first_list_in_the_chain_with_a_price(cm: Session, selling: ModuleType) -> None:
    price_lists(cm, "Cust", "Group List")
    cm.insert("Customer Group", customer_group_name="Retail", parent_customer_group="All Customer Groups",
              price_lists=pl_rows("Group List"))
    cm.insert("Customer", customer_name="Acme", customer_group="Retail", price_lists=pl_rows("Cust"))
    items(cm, "WIDGET", "GADGET", "BOLT")
    cm.insert("Item Price", item_code="WIDGET", price_list="Cust", price_list_rate=9)
    cm.insert("Item Price", item_code="WIDGET", price_list="Group List", price_list_rate=10)
    cm.insert("Item Price", item_code="GADGET", price_list="Group List", price_list_rate=20)
    cm.insert("Item Price", item_code="BOLT", price_list="Standard Selling", price_list_rate=1)
    assert selling.price_list_for_item(cm, "Acme", "WIDGET") == ("Cust", "customer")
    assert selling.price_list_for_item(cm, "Acme", "GADGET") == ("Group List", "customer_group:Retail")
    assert selling.price_list_for_item(cm, "Acme", "BOLT") == ("Standard Selling", "system")
    assert selling.price_list_for_item(cm, "Acme", "NOTHING") is None


def test_one_item_price_per_item_and_list(cm: Session) -> None:
    price_lists(cm, "Cust")
    items(cm, "WIDGET", "NUT")
    p = cm.insert("Item Price", item_code="WIDGET", price_list="Cust", price_list_rate=9)
    with pytest.raises(ValidationError, match="Item Code 'WIDGET' already has a price in Price List 'Cust'"):
        cm.insert("Item Price", item_code="WIDGET", price_list="Cust", price_list_rate=8)
    assert cm.get_count("Item Price") == 1
    p.price_list_rate = 11
    p.save()  # the price itself may change
    cm.insert("Item Price", item_code="WIDGET", price_list="Standard Selling", price_list_rate=12)
    with pytest.raises(ValidationError, match="Rate"):
        cm.insert("Item Price", item_code="NUT", price_list="Cust", price_list_rate=-1)


# ------------------------------------------------------------------ due dates
def test_due_date_from_customer_deadline(cm: Session, selling: ModuleType) -> None:
    cm.insert("Customer", customer_name="Fixed", payment_deadline="Fixed days", credit_days=30)
    cm.insert("Customer", customer_name="Eonm", payment_deadline="Last day of next month")
    cm.insert("Customer", customer_name="Cash")
    assert selling.due_date(cm, "Fixed", date(2026, 1, 15)) == (date(2026, 2, 14), "customer")
    assert selling.due_date(cm, "Eonm", "2026-01-15") == (date(2026, 2, 28), "customer")
    assert selling.due_date(cm, "Eonm", date(2026, 12, 3)) == (date(2027, 1, 31), "customer")
    assert selling.due_date(cm, "Cash", date(2026, 1, 15)) == (date(2026, 1, 15), "system")
    with pytest.raises(ValidationError, match="Credit Days"):
        cm.insert("Customer", customer_name="Neg", payment_deadline="Fixed days", credit_days=-1)


def test_due_date_from_payment_terms_template_then_group(cm: Session, selling: ModuleType) -> None:
    cm.insert("Payment Terms Template", template_name="Net 30", credit_days=30)
    cm.insert("Payment Terms Template", template_name="EOM + 10",
              credit_days_based_on="Day(s) after the end of the invoice month", credit_days=10)
    cm.insert("Payment Terms Template", template_name="End of next month",
              credit_days_based_on="Last day of the next month")
    cm.insert("Customer Group", customer_group_name="Wholesale", parent_customer_group="All Customer Groups",
              is_group=1, payment_terms="EOM + 10")
    cm.insert("Customer Group", customer_group_name="Dealers", parent_customer_group="Wholesale")
    cm.insert("Customer", customer_name="T", payment_terms="Net 30", payment_deadline="Fixed days", credit_days=5)
    cm.insert("Customer", customer_name="G", customer_group="Dealers")
    cm.insert("Customer", customer_name="N", payment_terms="End of next month")
    posting = date(2026, 1, 20)
    assert selling.due_date(cm, "T", posting) == (date(2026, 2, 19), "payment_terms:Net 30")
    assert selling.due_date(cm, "G", posting) == (date(2026, 2, 10), "customer_group:Wholesale")
    assert selling.due_date(cm, "N", posting) == (date(2026, 2, 28), "payment_terms:End of next month")


# ------------------------------------------------------------------ credit limits
def make_company(cm: Session, name: str, abbr: str, limit: float | None = None) -> str:
    if not cm.exists("Currency", "EUR"):
        cm.insert("Currency", name="EUR", currency_name="Euro")
    return cm.insert("Company", company_name=name, abbr=abbr, default_currency="EUR", credit_limit=limit).name


def test_credit_limit_customer_then_group_up_the_tree_then_company(cm: Session, selling: ModuleType) -> None:
    a, b, c = make_company(cm, "Alpha", "AL", 1000), make_company(cm, "Beta", "BE"), make_company(cm, "Gamma", "GA")
    cm.insert("Customer Group", customer_group_name="Wholesale", parent_customer_group="All Customer Groups",
              is_group=1, credit_limits=[{"company": b, "credit_limit": 7000}])
    cm.insert("Customer Group", customer_group_name="Dealers", parent_customer_group="Wholesale",
              credit_limits=[{"company": a, "credit_limit": 5000}])
    cm.insert("Customer", customer_name="Acme", customer_group="Dealers",
              credit_limits=[{"company": c, "credit_limit": 0, "bypass_credit_limit_check": 1}])
    cm.insert("Customer", customer_name="Plain")
    assert selling.credit_limit(cm, "Acme", c) == (Decimal(0), "customer")
    assert selling.credit_limit(cm, "Acme", a) == (Decimal(5000), "customer_group:Dealers")
    assert selling.credit_limit(cm, "Acme", b) == (Decimal(7000), "customer_group:Wholesale")
    assert selling.credit_limit(cm, "Plain", a) == (Decimal(1000), "company")
    assert selling.credit_limit(cm, "Plain", b) == (None, "none")


def test_one_credit_limit_row_per_company_and_non_negative(cm: Session) -> None:
    a = make_company(cm, "Alpha", "AL")
    before = rows_of(cm, "Customer Credit Limit")
    with pytest.raises(ValidationError, match="Credit Limits has two rows for Company 'Alpha'"):
        cm.insert("Customer", customer_name="Acme", credit_limits=[{"company": a, "credit_limit": 1},
                                                                   {"company": a, "credit_limit": 2}])
    with pytest.raises(ValidationError, match="Credit Limits has two rows for Company 'Alpha'"):
        cm.insert("Customer Group", customer_group_name="X", parent_customer_group="All Customer Groups",
                  credit_limits=[{"company": a}, {"company": a}])
    with pytest.raises(ValidationError, match="Credit Limit"):
        cm.insert("Customer", customer_name="Acme", credit_limits=[{"company": a, "credit_limit": -5}])
    with pytest.raises(ValidationError, match="Company"):
        cm.insert("Customer", customer_name="Acme", credit_limits=[{"credit_limit": 5}])
    assert rows_of(cm, "Customer Credit Limit") == before and cm.get_count("Customer") == 0

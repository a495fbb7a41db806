"""RawSelect (get_doc's one statement on the driver's cursor) reads every type exactly as SQLAlchemy does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine.site.session import _children_statement
from engine.storage.rawselect import RawSelect
from tests.sqltrace import statements


def test_every_field_type_reads_back_as_through_sqlalchemy(site, session) -> None:
    session.insert("Test Group", group_name="G1")
    session.insert("Test Customer", {
        "customer_name": "Every Type", "customer_number": "N-1", "test_group": "G1", "email": "a@example.com",
        "notes": "small ✓", "description": "text", "long_notes": "long " * 100, "visits": 2 ** 40,
        "score": 1.125, "credit_limit": Decimal("1234.56"), "discount": 12.5, "is_frozen": 1,
        "since": dt.date(2024, 2, 29), "last_contact": dt.datetime(2024, 2, 29, 23, 59, 58, 123456),
        "call_time": dt.time(9, 30, 15), "api_secret": "s3cret", "settings": {"a": [1, 2], "b": None},
        "display": "shown", "legal_form": "GmbH",
        "rows": [{"item": "first", "group": "G1", "amount": Decimal("0.01"), "qty": 3},
                 {"item": "second", "amount": Decimal("99999.99"), "qty": 0}],
    })
    meta = site.get_meta("Test Customer")
    stmt, _ = _children_statement(site, meta, with_parent=True)
    raw = RawSelect(stmt, site.engine.dialect)
    with site.engine.connect() as conn:
        expected = [tuple(r) for r in conn.execute(stmt, {"parent": "Every Type"})]
        conn.rollback()
        with statements(site) as seen:
            for _ in range(2):  # the second run uses the processors kept from the first
                assert sorted(raw.rows(conn, {"parent": "Every Type"}), key=repr) == sorted(expected, key=repr)
    assert len(expected) == 3 and seen == [raw.sql, raw.sql]  # listeners see each statement

    doc = session.get_doc("Test Customer", "every type")  # case-insensitive: the second path
    again = session.get_doc("Test Customer", "Every Type")
    assert doc.as_dict() == again.as_dict()
    assert again.credit_limit == Decimal("1234.56") and again.settings == {"a": [1, 2], "b": None}
    assert again.call_time == dt.time(9, 30, 15) and again.visits == 2 ** 40
    assert [(r.item, r.amount, r.idx) for r in again.rows] == [("first", Decimal("0.01"), 1),
                                                                ("second", Decimal("99999.99"), 2)]


def test_no_document_and_a_document_without_rows(site, session) -> None:
    session.insert("Test Customer", customer_name="No Rows")
    assert session.get_doc("Test Customer", "No Rows").rows == []
    meta = site.get_meta("Test Customer")
    stmt, _ = _children_statement(site, meta, with_parent=True)
    with site.engine.connect() as conn:
        assert RawSelect(stmt, site.engine.dialect).rows(conn, {"parent": "Nobody"}) == []

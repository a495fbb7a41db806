from decimal import Decimal


def test_insert_get_roundtrip(session):
    session.insert("Test Group", group_name="All", is_group=1)
    doc = session.insert("Test Customer", {"customer_name": "Acme", "test_group": "All",
                                           "credit_limit": "10.50", "rows": [{"item": "a", "amount": 2}]})
    loaded = session.get_doc("Test Customer", "acme")
    assert loaded.name == doc.name == "Acme"
    assert loaded.credit_limit == Decimal("10.50")
    assert [r.item for r in loaded.rows] == ["a"]

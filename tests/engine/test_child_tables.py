"""Child tables: ordered rows, reconciled on save, statements per save independent of the row count."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqltrace import statements

from engine.errors import InvalidValueError


def _stored_rows(site, parent):
    t = site.table("Test Customer Row")
    with site.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(t.c.item, t.c.idx, t.c.parentfield).where(t.c.parent == parent).order_by(t.c.idx))]


def _items(doc, table="rows"):
    return [r.item for r in doc.get(table) or []]


def test_rows_keep_their_order(site, session):
    items = [f"item {i}" for i in (3, 1, 2, 10, 0)]
    session.insert("Test Customer", customer_name="Acme", rows=[{"item": i} for i in items])
    loaded = session.get_doc("Test Customer", "Acme")
    assert _items(loaded) == items
    assert [r.idx for r in loaded.rows] == [1, 2, 3, 4, 5]
    assert _stored_rows(site, "Acme") == [(item, i, "rows") for i, item in enumerate(items, 1)]


def test_append_returns_the_row(session):
    doc = session.new_doc("Test Customer", customer_name="Acme")
    row = doc.append("rows", {"item": "a"})
    assert row.parent_doc is doc and row.idx == 1 and row.doctype == "Test Customer Row"
    row.amount = "2.5"
    doc.insert()
    assert session.get_doc("Test Customer", "Acme").rows[0].amount == 2.5
    with pytest.raises(InvalidValueError, match="has no table field 'visits'"):
        doc.append("visits", {})


def test_save_reconciles_rows(site, session):
    doc = session.insert("Test Customer", customer_name="Acme",
                         rows=[{"item": "a", "qty": 1}, {"item": "b", "qty": 2}, {"item": "c", "qty": 3}])
    names = {r.item: r.name for r in doc.rows}
    doc = session.get_doc("Test Customer", "Acme")
    _a, b, c = doc.rows
    b.qty = 20  # update
    doc.rows = [c, b, {"item": "d"}]  # delete a, reorder, insert d
    doc.save()
    loaded = session.get_doc("Test Customer", "Acme")
    assert [(r.item, r.qty, r.idx) for r in loaded.rows] == [("c", 3, 1), ("b", 20, 2), ("d", 1, 3)]
    assert loaded.rows[0].name == names["c"] and loaded.rows[1].name == names["b"]
    assert loaded.rows[2].name not in names.values()
    assert _stored_rows(site, "Acme") == [("c", 1, "rows"), ("b", 2, "rows"), ("d", 3, "rows")]
    t = site.table("Test Customer Row")
    with site.engine.connect() as conn:
        assert conn.execute(sa.select(t.c.name).where(t.c.name == names["a"])).first() is None


def test_rows_sent_as_dicts_update_by_name(session):
    doc = session.insert("Test Customer", customer_name="Acme", rows=[{"item": "a"}, {"item": "b"}])
    sent = doc.as_dict()
    sent["rows"][1]["item"] = "B"
    sent["rows"].reverse()
    form = session.get_doc("Test Customer", "Acme")
    form.update({"rows": sent["rows"]})
    form.save()
    loaded = session.get_doc("Test Customer", "Acme")
    assert _items(loaded) == ["B", "a"]
    assert [r.name for r in loaded.rows] == [doc.rows[1].name, doc.rows[0].name]


def test_clearing_a_table_deletes_its_rows(site, session):
    doc = session.insert("Test Customer", customer_name="Acme", rows=[{"item": "a"}, {"item": "b"}])
    doc.rows = []
    doc.save()
    assert session.get_doc("Test Customer", "Acme").rows == []
    assert _stored_rows(site, "Acme") == []


def test_a_row_id_from_another_document_does_not_move_that_row(site, session):
    other = session.insert("Test Customer", customer_name="Other", rows=[{"item": "theirs"}])
    stolen = other.rows[0].name
    doc = session.insert("Test Customer", customer_name="Acme", rows=[{"item": "mine"}])
    doc.rows = [{"name": stolen, "item": "taken?"}]
    doc.save()
    assert _items(session.get_doc("Test Customer", "Other")) == ["theirs"]
    assert _items(session.get_doc("Test Customer", "Acme")) == ["taken?"]
    again = session.insert("Test Customer", customer_name="Third", rows=[{"name": stolen, "item": "x"}])
    assert again.rows[0].name != stolen
    assert _items(session.get_doc("Test Customer", "Other")) == ["theirs"]


def test_rows_of_two_tables_are_not_mixed(session):
    session.insert("Test Customer", customer_name="Acme")
    note = session.insert("Test Note", title="n", links=[
        {"link_doctype": "Test Customer", "link_name": "Acme"},
        {"link_doctype": "Test Tag", "link_name": "x"} if False else {"link_doctype": "Test Customer",
                                                                       "link_name": "Acme"},
    ])
    inv = session.insert("Test Invoice", customer="Acme", items=[{"item": "i1", "amount": 1}])
    customer = session.get_doc("Test Customer", "Acme")
    customer.append("rows", {"item": "r1"})
    customer.save()
    assert [r.item for r in session.get_doc("Test Invoice", inv.name).items] == ["i1"]
    assert _items(session.get_doc("Test Customer", "Acme")) == ["r1"]
    assert len(session.get_doc("Test Note", note.name).links) == 2


def test_child_rows_cannot_be_inserted_on_their_own(session):
    with pytest.raises(InvalidValueError, match="Test Customer Row rows are saved with their parent document"):
        session.insert("Test Customer Row", item="a", parent="Acme", parenttype="Test Customer",
                       parentfield="rows")
    assert session.get_count("Test Customer Row") == 0


def test_deleting_the_parent_deletes_its_rows(site, session):
    doc = session.insert("Test Customer", customer_name="Acme", rows=[{"item": "a"}, {"item": "b"}])
    session.insert("Test Customer", customer_name="Other", rows=[{"item": "c"}])
    doc.delete()
    assert session.get_count("Test Customer Row") == 1


def test_statements_per_write_do_not_grow_with_rows(site, session):
    session.insert("Test Group", group_name="All", is_group=1)

    def counts(n: int, name: str) -> tuple[int, int]:
        rows = [{"item": f"i{i}", "group": "All", "amount": i} for i in range(n)]
        with statements(site) as inserted:
            doc = session.insert("Test Customer", customer_name=name, test_group="All", rows=rows)
        for i, row in enumerate(doc.rows):
            row.qty = i + 5
        doc.append("rows", {"item": "new", "group": "All"})
        doc.visits = 1
        with statements(site) as saved:
            doc.save()
        return len(inserted), len(saved)

    one = counts(1, "One")
    twenty = counts(20, "Twenty")
    assert one == twenty
    print(f"statements per insert: {one[0]}, per save: {one[1]} (1 row and 20 rows alike)")


def test_statements_for_removed_rows_do_not_grow(site, session):
    def removal(n: int, name: str) -> int:
        doc = session.insert("Test Customer", customer_name=name, rows=[{"item": f"i{i}"} for i in range(n + 1)])
        doc.rows = doc.rows[:1]
        with statements(site) as seen:
            doc.save()
        return len(seen)

    assert removal(1, "One") == removal(20, "Twenty")

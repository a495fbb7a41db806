"""Links: batched checks with case correction, and delete refused while anything links here."""

from __future__ import annotations

import pytest
from sqltrace import statements

from engine.errors import LinkExistsError, LinkValidationError


def _selects(seen):
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


@pytest.fixture
def groups(session):
    session.insert("Test Group", group_name="All", is_group=1, default_rate="3")
    session.insert("Test Group", group_name="Retail", parent_test_group="All")
    session.insert("Test Group", group_name="Wholesale", parent_test_group="All")


# ------------------------------------------------------------------ link checks

def test_link_value_case_is_corrected(session, groups):
    doc = session.insert("Test Customer", customer_name="Acme", test_group="all",
                         rows=[{"item": "a", "group": "RETAIL"}])
    assert doc.test_group == "All" and doc.rows[0].group == "Retail"
    loaded = session.get_doc("Test Customer", "Acme")
    assert loaded.test_group == "All" and loaded.rows[0].group == "Retail"
    assert session.get_list("Test Customer", filters={"test_group": "All"}, pluck="name") == ["Acme"]


def test_broken_links_in_parent_and_rows_reported_together(site, session, groups):
    with pytest.raises(LinkValidationError) as exc:
        session.insert("Test Customer", customer_name="Acme", test_group="Nope",
                       rows=[{"item": "a", "group": "Retail"}, {"item": "b", "group": "Gone"}])
    errors = {(e.row, e.field): e.message for e in exc.value.errors}
    assert errors == {
        (None, "test_group"): "Test Customer: Group: Test Group 'Nope' does not exist",
        (2, "group"): "Test Customer: row 2 of Rows: Group: Test Group 'Gone' does not exist",
    }
    assert session.get_count("Test Customer") == 0


def test_dynamic_links_are_checked(session, groups):
    session.insert("Test Customer", customer_name="Acme")
    note = session.insert("Test Note", title="n", link_doctype="Test Customer", link_name="acme",
                          links=[{"link_doctype": "Test Group", "link_name": "retail"}])
    assert note.link_name == "Acme" and note.links[0].link_name == "Retail"
    with pytest.raises(LinkValidationError) as exc:
        session.insert("Test Note", title="n", link_doctype="Test Customer", link_name="Nobody",
                       links=[{"link_doctype": "No Such Type", "link_name": "x"}])
    messages = sorted(e.message for e in exc.value.errors)
    assert messages == [
        "Test Note: Link Name: Test Customer 'Nobody' does not exist",
        "Test Note: row 1 of Links: Link Document Type: 'No Such Type' is not a document type",
    ]
    with pytest.raises(LinkValidationError, match="Link Name 'x' has no document type set"):
        session.insert("Test Note", title="n", link_name="x")


def test_link_check_is_one_query(site, session, groups):
    session.insert("Test Customer", customer_name="Acme")
    session.insert("Test Invoice", customer="Acme")

    def insert_note(links):
        with statements(site) as seen:
            session.insert("Test Note", title="n", link_doctype="Test Customer", link_name="Acme", links=links)
        return _selects(seen)

    one = insert_note([{"link_doctype": "Test Group", "link_name": "All"}])
    many = insert_note([{"link_doctype": "Test Group", "link_name": "All"},
                        {"link_doctype": "Test Group", "link_name": "Retail"},
                        {"link_doctype": "Test Customer", "link_name": "Acme"},
                        {"link_doctype": "Test Invoice", "link_name": session.get_list("Test Invoice",
                                                                                       pluck="name")[0]},
                        {"link_doctype": "Test Group", "link_name": "Wholesale"}])
    assert len(one) == len(many)
    union = [s for s in many if "UNION ALL" in s.upper()]
    assert len(union) == 1
    for table in ("tab_test_group", "tab_test_customer", "tab_test_invoice"):
        assert table in union[0]
        assert sum(table in s for s in many) == 1, table


def test_link_check_for_parent_and_row_links_is_one_query(site, session, groups):
    with statements(site) as seen:
        session.insert("Test Customer", customer_name="Acme", test_group="All",
                       rows=[{"item": "a", "group": "Retail"}, {"item": "b", "group": "Wholesale"}])
    link_checks = [s for s in _selects(seen) if "tab_test_group" in s and "docstatus" in s]
    assert len(link_checks) == 1


def test_cannot_link_to_a_cancelled_document(session):
    session.insert("Test Customer", customer_name="Acme")
    inv = session.insert("Test Invoice", customer="Acme")
    inv.submit()
    inv.cancel()
    with pytest.raises(LinkValidationError, match=f"Test Invoice '{inv.name}' is cancelled"):
        session.insert("Test Note", title="n", link_doctype="Test Invoice", link_name=inv.name)


# ------------------------------------------------------------------ delete refused while linked

def test_delete_refused_while_linked_from_another_doctype(site, session):
    session.insert("Test Customer", customer_name="Acme")
    inv = session.insert("Test Invoice", customer="Acme")
    with pytest.raises(LinkExistsError) as exc:
        session.get_doc("Test Customer", "Acme").delete()
    assert f"Test Invoice '{inv.name}'" in str(exc.value)
    assert "Cannot delete Test Customer 'Acme'" in str(exc.value)
    assert exc.value.status == 417
    assert session.exists("Test Customer", "Acme")
    inv.delete()
    session.get_doc("Test Customer", "Acme").delete()
    assert not session.exists("Test Customer", "Acme")


def test_delete_refused_names_the_parent_of_a_linking_row(session, groups):
    session.insert("Test Customer", customer_name="Acme", rows=[{"item": "a", "group": "Retail"}])
    with pytest.raises(LinkExistsError) as exc:
        session.get_doc("Test Group", "Retail").delete()
    assert "Test Customer 'Acme'" in str(exc.value)
    assert "Test Customer Row" not in str(exc.value)


def test_dynamic_links_block_delete(session, groups):
    session.insert("Test Customer", customer_name="Acme")
    note = session.insert("Test Note", title="n", link_doctype="Test Customer", link_name="Acme")
    with pytest.raises(LinkExistsError, match=f"Test Note '{note.name}'"):
        session.get_doc("Test Customer", "Acme").delete()
    note.delete()
    other = session.insert("Test Note", title="rows", links=[{"link_doctype": "Test Group", "link_name": "Retail"}])
    with pytest.raises(LinkExistsError, match=f"Test Note '{other.name}'"):
        session.get_doc("Test Group", "Retail").delete()
    # A Dynamic Link to another doctype with the same ID does not block.
    session.insert("Test Tag", name="Wholesale")
    session.insert("Test Note", title="tag", link_doctype="Test Tag", link_name="Wholesale")
    session.get_doc("Test Group", "Wholesale").delete()


def test_own_rows_do_not_block_delete(site, session):
    note = session.insert("Test Note", title="self")
    note.append("links", {"link_doctype": "Test Note", "link_name": note.name})
    note.link_doctype, note.link_name = "Test Note", note.name
    note.save()
    note.delete()
    assert session.get_count("Test Note") == 0 and session.get_count("Test Dynamic Link") == 0


def test_cancelled_documents_do_not_block_delete(session):
    session.insert("Test Customer", customer_name="Acme")
    inv = session.insert("Test Invoice", customer="Acme", items=[{"item": "a", "amount": 1}])
    inv.submit()
    with pytest.raises(LinkExistsError):
        session.get_doc("Test Customer", "Acme").delete()
    inv.cancel()
    session.get_doc("Test Customer", "Acme").delete()


def test_many_linking_documents_are_listed_briefly(session):
    session.insert("Test Customer", customer_name="Acme")
    for _ in range(12):
        session.insert("Test Invoice", customer="Acme")
    with pytest.raises(LinkExistsError) as exc:
        session.get_doc("Test Customer", "Acme").delete()
    assert 1 <= len(exc.value.errors) <= 10

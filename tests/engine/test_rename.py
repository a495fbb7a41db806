"""Renaming a document renames every reference to it, in one transaction."""

import pytest

from engine import DuplicateEntryError, hookimpl
from engine.errors import DoesNotExistError


@pytest.fixture
def groups(session):
    session.insert("Test Group", group_name="All", is_group=1)
    session.insert("Test Group", group_name="Europe", parent_test_group="All", is_group=1)
    session.insert("Test Group", group_name="Germany", parent_test_group="Europe")
    return session


def test_rename_updates_links_child_rows_dynamic_links_and_versions(groups):
    s = groups
    s.insert("Test Customer", {"customer_name": "Acme", "test_group": "Germany",
                               "rows": [{"item": "a", "group": "Germany"}]})
    s.insert("Test Invoice", {"customer": "Acme", "items": [{"item": "x", "amount": 1}]})
    s.insert("Test Note", {"title": "n", "link_doctype": "Test Customer", "link_name": "Acme",
                           "links": [{"link_doctype": "Test Customer", "link_name": "Acme"}]})

    renamed = s.rename_doc("Test Customer", "acme", "Acme Corp")

    assert renamed.name == "Acme Corp"
    assert [r.item for r in renamed.rows] == ["a"]
    assert s.get_list("Test Invoice", ["customer"]) == [{"customer": "Acme Corp"}]
    note = s.get_list("Test Note", ["link_name"])[0]
    assert note["link_name"] == "Acme Corp"
    assert s.get_list("Test Note", ["links.link_name as ln"]) == [{"ln": "Acme Corp"}]
    assert not s.exists("Test Customer", "Acme")
    history = s.get_list("Version", ["data"], {"docname": "Acme Corp"}, order_by="creation asc")
    assert history[-1]["data"] == {"renamed": ["Acme", "Acme Corp"]}
    assert len(history) == 2  # the creation record moved with the document


def test_rename_tree_node_keeps_subtree_queries_working(groups):
    s = groups
    s.insert("Test Customer", {"customer_name": "Beta", "test_group": "Germany"})
    s.rename_doc("Test Group", "Europe", "EU")
    assert s.get_value("Test Group", "Germany", "parent_test_group") == "EU"
    below = s.get_list("Test Group", ["name"], {"name": ["descendants of", "EU"]})
    assert [r["name"] for r in below] == ["Germany"]
    customers = s.get_list("Test Customer", ["name"], {"test_group": ["descendants of", "All"]})
    assert [r["name"] for r in customers] == ["Beta"]


def test_rename_to_existing_name_is_refused_and_nothing_changes(session):
    session.insert("Test Customer", {"customer_name": "One"})
    session.insert("Test Customer", {"customer_name": "Two"})
    with pytest.raises(DuplicateEntryError, match="'two' already exists"):
        session.rename_doc("Test Customer", "One", "two")
    assert session.exists("Test Customer", "One")


def test_rename_changing_only_case(session):
    session.insert("Test Customer", {"customer_name": "acme"})
    assert session.rename_doc("Test Customer", "acme", "ACME").name == "ACME"


def test_rename_hooks_run_and_a_raising_hook_rolls_back(session, register_hook):
    seen = []

    class Plugin:
        @hookimpl
        def before_rename(self, doc, old, new):
            seen.append(("before", old, new))

        @hookimpl
        def after_rename(self, doc, ctx, old, new):
            seen.append(("after", old, new))
            if new == "Refused":
                raise RuntimeError("hook refuses")

    register_hook("Test Customer", Plugin())
    session.insert("Test Customer", {"customer_name": "Gamma"})
    session.rename_doc("Test Customer", "Gamma", "Delta")
    assert seen == [("before", "Gamma", "Delta"), ("after", "Gamma", "Delta")]
    with pytest.raises(RuntimeError):
        session.rename_doc("Test Customer", "Delta", "Refused")
    assert session.exists("Test Customer", "Delta")
    assert not session.exists("Test Customer", "Refused")


def test_rename_missing_document(session):
    with pytest.raises(DoesNotExistError):
        session.rename_doc("Test Customer", "Nobody", "Somebody")


def test_a_submitted_or_cancelled_document_keeps_its_id(session):
    from engine.errors import InvalidValueError

    session.insert("Test Customer", customer_name="Acme")
    draft = session.insert("Test Invoice", customer="Acme")
    assert session.rename_doc("Test Invoice", draft.name, "TINV-DRAFT").name == "TINV-DRAFT"  # a draft may be
    doc = session.get_doc("Test Invoice", "TINV-DRAFT")
    doc.submit()
    with pytest.raises(InvalidValueError, match="'TINV-DRAFT' is submitted: a submitted or cancelled document keeps"):
        session.rename_doc("Test Invoice", "TINV-DRAFT", "TINV-X")
    doc.cancel()
    with pytest.raises(InvalidValueError, match="is cancelled"):
        session.rename_doc("Test Invoice", "TINV-DRAFT", "TINV-X")
    assert session.exists("Test Invoice", "TINV-DRAFT")

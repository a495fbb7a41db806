"""Session.insert_many: the insert lifecycle over a batch gives each document what a single insert gives."""

from __future__ import annotations

import pytest

from engine import hookimpl
from engine.documents.batch import BatchFailed
from engine.errors import InvalidValueError


def _new(session, **values):
    return session.new_doc("Test Customer", **values)


def test_a_batch_names_links_versions_and_fetches_like_single_inserts(session):
    session.insert("Test Group", group_name="All", is_group=1, default_rate=7)
    session.insert("Test Customer", customer_name="Acme")
    docs = [_new(session, customer_name=n, test_group="all") for n in ("Acme", "acme", "Globex", "Acme")]
    session.insert_many(docs)
    # the repeated names are suffixed against the database and against each other
    assert [d.name for d in docs] == ["Acme-1", "acme-2", "Globex", "Acme-3"]
    stored = session.get_doc("Test Customer", "Acme-3")
    assert stored.test_group == "All" and stored.group_rate == 7  # link canonicalised, fetch_from applied
    assert stored.display == "Acme (Company)"  # the app's before_validate hook ran
    assert session.get_count("Version", [["docname", "in", [d.name for d in docs]]]) == 4
    assert all(not d.is_new() and d.get_doc_before_save().name == d.name for d in docs)


def test_every_bad_document_is_reported_and_nothing_is_written(session):
    docs = [_new(session, customer_name="Good"), _new(session, customer_name="Bad", test_group="Nope"),
            _new(session, customer_name="Worse", visits=-1)]
    with pytest.raises(BatchFailed) as failed:
        session.insert_many(docs)
    assert not failed.value.written and sorted(failed.value.errors) == [1, 2]
    assert "Test Group 'Nope' does not exist" in str(failed.value.errors[1])
    assert session.get_count("Test Customer") == 0


def test_a_failure_at_the_write_reports_the_batch_as_written(session):
    """Two documents with the same unique value each pass the check; the database refuses the pair."""
    docs = [_new(session, customer_name="A", customer_number="N-1"), _new(session, customer_name="B",
                                                                        customer_number="N-1")]
    with pytest.raises(BatchFailed) as failed:
        session.insert_many(docs)
    assert failed.value.written
    assert session.get_count("Test Customer") == 0


def test_a_module_with_a_batch_hook_gets_the_batch_once_the_others_each_document(session, register_hook):
    calls: list[tuple[str, object]] = []

    class Batched:
        @hookimpl
        def after_insert(self, doc, ctx):
            calls.append(("batched: single", doc.name))

        @hookimpl
        def after_insert_many(self, docs, ctx):
            calls.append(("batched: many", [d.name for d in docs]))

    class Single:
        @hookimpl
        def after_insert(self, doc, ctx):
            calls.append(("single", doc.name))

    register_hook("Test Customer", Batched())
    register_hook("Test Customer", Single())
    session.insert_many([_new(session, customer_name="A"), _new(session, customer_name="B")])
    assert calls == [("batched: many", ["A", "B"]), ("single", "A"), ("single", "B")]
    calls.clear()
    session.insert("Test Customer", customer_name="C")  # one by one, the per-document hooks
    assert sorted(calls) == [("batched: single", "C"), ("single", "C")]


def test_a_hook_reads_what_an_earlier_hook_of_the_batch_wrote(session, register_hook):
    """Reads by ID are remembered for the batch, and forgotten when their doctype is written."""
    seen: list[bool] = []

    class MakeGroup:
        @hookimpl
        def before_insert(self, doc, ctx):
            seen.append(ctx.exists("Test Group", "Made"))
            if doc.customer_name == "First":
                ctx.insert("Test Group", group_name="Made")

    register_hook("Test Customer", MakeGroup())
    session.insert_many([_new(session, customer_name="First"), _new(session, customer_name="Second")])
    assert seen == [False, True]


def test_a_batch_is_one_doctype(session):
    with pytest.raises(ValueError, match="one doctype"):
        session.insert_many([_new(session, customer_name="A"), session.new_doc("Test Group", group_name="G")])


def test_a_hook_error_after_the_write_rolls_the_batch_back(session, register_hook):
    class Refuse:
        @hookimpl
        def after_insert(self, doc, ctx):
            if doc.customer_name == "B":
                raise InvalidValueError("Test Customer B: refused by the hook")

    register_hook("Test Customer", Refuse())
    with pytest.raises(BatchFailed) as failed:
        session.insert_many([_new(session, customer_name="A"), _new(session, customer_name="B")])
    assert failed.value.written and "refused by the hook" in str(failed.value.__cause__)
    assert session.get_count("Test Customer") == 0

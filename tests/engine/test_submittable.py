"""Submittable doctypes (Test Invoice): draft -> submitted -> cancelled."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.errors import DocstatusTransitionError, LinkValidationError, UpdateAfterSubmitError


def _stored_status(site, doctype, **where):
    t = site.table(doctype)
    cond = [t.c[k] == v for k, v in where.items()]
    with site.engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(sa.select(t.c.docstatus).where(*cond)))


@pytest.fixture
def invoice(session):
    session.insert("Test Customer", customer_name="Acme")
    return session.insert("Test Invoice", customer="Acme", total="3",
                          items=[{"item": "a", "amount": 1}, {"item": "b", "amount": 2}])


def test_submit_and_cancel(site, session, invoice):
    assert invoice.docstatus == 0
    invoice.submit()
    assert invoice.docstatus == 1 and [r.docstatus for r in invoice.items] == [1, 1]
    assert _stored_status(site, "Test Invoice", name=invoice.name) == [1]
    assert _stored_status(site, "Test Invoice Item", parent=invoice.name) == [1, 1]
    loaded = session.get_doc("Test Invoice", invoice.name)
    loaded.cancel()
    assert loaded.docstatus == 2
    assert _stored_status(site, "Test Invoice", name=invoice.name) == [2]
    assert _stored_status(site, "Test Invoice Item", parent=invoice.name) == [2, 2]


def test_draft_can_be_edited_before_submit(session, invoice):
    invoice.total = "4"
    invoice.append("items", {"item": "c", "amount": 1})
    invoice.save()
    invoice.submit()
    assert len(session.get_doc("Test Invoice", invoice.name).items) == 3


def test_submit_validates(session, invoice):
    invoice.total = "lots"
    with pytest.raises(Exception, match="Total 'lots'"):
        invoice.submit()
    assert invoice.docstatus == 0 and [r.docstatus for r in invoice.items] == [0, 0]
    assert session.get_doc("Test Invoice", invoice.name).docstatus == 0


def test_submitted_fields_cannot_change(site, session, invoice):
    invoice.submit()
    doc = session.get_doc("Test Invoice", invoice.name)
    doc.total = "99"
    with pytest.raises(UpdateAfterSubmitError) as exc:
        doc.save()
    assert "Total" in str(exc.value) and invoice.name in str(exc.value)
    assert exc.value.errors[0].field == "total"
    doc = session.get_doc("Test Invoice", invoice.name)
    doc.items[0].amount = "5"
    with pytest.raises(UpdateAfterSubmitError, match="Items"):
        doc.save()
    doc = session.get_doc("Test Invoice", invoice.name)
    doc.append("items", {"item": "z", "amount": 1})
    with pytest.raises(UpdateAfterSubmitError, match="Items"):
        doc.save()
    assert session.get_doc("Test Invoice", invoice.name).total == 3


def test_allow_on_submit_field_saves(session, invoice):
    invoice.submit()
    doc = session.get_doc("Test Invoice", invoice.name)
    # A form sends every field back as text; unchanged values are not changes.
    doc.update({"remarks": "paid by wire", "total": "3.00", "posting_date": str(doc.posting_date)})
    doc.save()
    loaded = session.get_doc("Test Invoice", invoice.name)
    assert loaded.remarks == "paid by wire" and loaded.docstatus == 1


def test_illegal_transitions(session, invoice):
    with pytest.raises(DocstatusTransitionError, match="only a submitted document can be cancelled"):
        invoice.cancel()
    invoice.submit()
    with pytest.raises(DocstatusTransitionError, match="only a draft can be submitted"):
        invoice.submit()
    with pytest.raises(DocstatusTransitionError, match="cancel it before deleting"):
        session.get_doc("Test Invoice", invoice.name).delete()
    invoice.cancel()
    invoice.remarks = "late"
    with pytest.raises(DocstatusTransitionError, match="is cancelled"):
        invoice.save()
    with pytest.raises(DocstatusTransitionError):
        invoice.submit()
    with pytest.raises(DocstatusTransitionError):
        invoice.cancel()
    with pytest.raises(DocstatusTransitionError, match="a new document must be a draft"):
        session.insert("Test Invoice", customer="Acme", docstatus=2)
    with pytest.raises(DocstatusTransitionError, match="a new document must be a draft"):
        session.insert("Test Customer", customer_name="Not Submittable", docstatus=1)
    with pytest.raises(DocstatusTransitionError, match="use submit"):  # 0 -> 2
        session.get_doc("Test Invoice", session.insert("Test Invoice", customer="Acme").name).update(
            {"docstatus": 2}).save()
    submitted = session.insert("Test Invoice", customer="Acme").submit()
    with pytest.raises(DocstatusTransitionError, match="use cancel"):  # 1 -> 0
        session.get_doc("Test Invoice", submitted.name).update({"docstatus": 0}).save()
    with pytest.raises(DocstatusTransitionError, match="not submittable"):
        session.get_doc("Test Customer", "Acme").submit()


def test_the_docstatus_a_caller_sets_submits_or_cancels_as_in_frappe(site, session, invoice):
    """Frappe's save() with docstatus 1 submits a draft, with 2 cancels; insert() with 1 inserts and submits."""
    doc = session.get_doc("Test Invoice", invoice.name)
    doc.update({"docstatus": "1", "remarks": "submitted with this change"})  # as a form sends it
    doc.save()
    loaded = session.get_doc("Test Invoice", invoice.name)
    assert loaded.docstatus == 1 and loaded.remarks == "submitted with this change"
    assert _stored_status(site, "Test Invoice Item", parent=invoice.name) == [1, 1]
    loaded.update({"docstatus": 2}).save()
    assert _stored_status(site, "Test Invoice", name=invoice.name) == [2]
    new = session.insert("Test Invoice", customer="Acme", total="1", docstatus=1, items=[{"item": "x", "amount": 1}])
    assert new.docstatus == 1 and _stored_status(site, "Test Invoice", name=new.name) == [1]
    assert _stored_status(site, "Test Invoice Item", parent=new.name) == [1]
    before = session.get_count("Test Invoice")
    bad = session.new_doc("Test Invoice", customer="Acme", total="lots", docstatus=1)
    with pytest.raises(Exception, match="Total 'lots'"):
        bad.insert()
    assert session.get_count("Test Invoice") == before  # all or nothing
    assert bad.is_new() and bad.docstatus == 1  # left as it was given


def test_cancel_saves_no_other_changes(session, invoice):
    invoice.submit()
    doc = session.get_doc("Test Invoice", invoice.name)
    doc.total = "1000"
    with pytest.raises(UpdateAfterSubmitError, match="Total"):
        doc.cancel()
    assert session.get_doc("Test Invoice", invoice.name).docstatus == 1
    doc.total = "3.00"  # the same value, as text
    doc.cancel()
    assert session.get_doc("Test Invoice", invoice.name).total == 3


def test_delete_of_cancelled_allowed(site, session, invoice):
    invoice.submit()
    invoice.cancel()
    session.get_doc("Test Invoice", invoice.name).delete()
    assert not session.exists("Test Invoice", invoice.name)
    assert session.get_count("Test Invoice Item") == 0


def test_delete_of_draft_allowed(session, invoice):
    invoice.delete()
    assert session.get_count("Test Invoice") == 0


def test_delete_refused_if_submitted_meanwhile(site, session, invoice):
    stale = session.get_doc("Test Invoice", invoice.name)
    with site.session() as other:
        other.get_doc("Test Invoice", invoice.name).submit()
    with pytest.raises(DocstatusTransitionError, match="submitted"):
        stale.delete()
    assert session.exists("Test Invoice", invoice.name)
    assert session.get_count("Test Invoice Item") == 2


def test_linking_to_a_cancelled_invoice_is_refused(session, invoice):
    invoice.submit()
    invoice.cancel()
    with pytest.raises(LinkValidationError) as exc:
        session.insert("Test Note", title="n", link_doctype="Test Invoice", link_name=invoice.name)
    assert f"Test Invoice '{invoice.name}' is cancelled" in str(exc.value)
    # A submitted one is fine.
    other = session.insert("Test Invoice", customer="Acme")
    other.submit()
    session.insert("Test Note", title="n", link_doctype="Test Invoice", link_name=other.name)


def test_an_existing_link_to_a_since_cancelled_document_is_kept(session, invoice):
    invoice.submit()
    note = session.insert("Test Note", title="n", link_doctype="Test Invoice", link_name=invoice.name,
                          links=[{"link_doctype": "Test Invoice", "link_name": invoice.name}])
    invoice.cancel()
    note.title = "still about that invoice"
    note.save()
    note.append("links", {"link_doctype": "Test Invoice", "link_name": invoice.name})
    with pytest.raises(LinkValidationError, match="row 2 of Links"):
        note.save()


def test_an_insert_with_docstatus_1_whose_submit_fails_writes_nothing(session, invoice, register_hook):
    from engine import hookimpl
    from engine.errors import ValidationError

    class RefuseSubmit:
        @hookimpl
        def before_submit(self, doc, ctx):
            raise ValidationError("not today")

    register_hook("Test Invoice", RefuseSubmit())
    before = session.get_count("Test Invoice")
    doc = session.new_doc("Test Invoice", customer="Acme", total="1", docstatus=1)
    with pytest.raises(ValidationError, match="not today"):
        doc.insert()
    assert session.get_count("Test Invoice") == before  # the insert went back with the submit
    assert doc.is_new() and doc.docstatus == 1 and not doc.name

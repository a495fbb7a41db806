"""The document API: bad input of every kind, all errors together, optimistic locking, Document semantics."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine import Document
from engine.errors import (
    CannotChangeConstantError,
    DocframeError,
    DoesNotExistError,
    InvalidValueError,
    LinkValidationError,
    MandatoryError,
    TimestampMismatchError,
    UniqueValidationError,
    ValidationError,
)


def _count(site, doctype):
    t = site.table(doctype)
    with site.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()


def _counts(site):
    return {d: _count(site, d) for d in ("Test Customer", "Test Customer Row", "Version", "Test Group")}


@pytest.fixture
def group(session):
    return session.insert("Test Group", group_name="All", is_group=1, default_rate="1")


# ------------------------------------------------------------------ round trip

def test_insert_get_roundtrip(session, group):
    doc = session.insert("Test Customer", {"customer_name": "Acme", "test_group": "All",
                                           "credit_limit": "10.50", "rows": [{"item": "a", "amount": 2}]})
    loaded = session.get_doc("Test Customer", "acme")
    assert loaded.name == doc.name == "Acme"
    assert loaded.credit_limit == Decimal("10.50")
    assert [r.item for r in loaded.rows] == ["a"]
    assert loaded.owner == "Administrator" and loaded.modified_by == "Administrator"
    assert loaded.docstatus == 0
    assert isinstance(loaded.creation, dt.datetime) and loaded.modified == doc.modified
    assert loaded.rows[0].parent == "Acme" and loaded.rows[0].parenttype == "Test Customer"
    assert loaded.rows[0].parentfield == "rows" and loaded.rows[0].idx == 1


# ------------------------------------------------------------------ all errors together

def test_all_errors_of_a_document_together(site, session, group):
    session.insert("Test Customer", customer_name="Taken", customer_number="C-1")
    before = _counts(site)
    with pytest.raises(ValidationError) as exc:
        session.insert("Test Customer", {
            "customer_name": "Acme",
            "customer_number": "C-1",
            "visits": "many",
            "email": "nope",
            "customer_type": "Person",
            "test_group": "Nowhere",
            "colour": "red",
            "rows": [{"item": "ok", "amount": "1"}, {"amount": "-3", "group": "Missing"}],
        })
    err = exc.value
    assert type(err) is ValidationError and err.status == 417
    by_field = {(e.row, e.field): e for e in err.errors}
    assert set(by_field) == {
        (None, "customer_number"), (None, "visits"), (None, "email"), (None, "customer_type"),
        (None, "test_group"), (None, "colour"), (2, "item"), (2, "amount"), (2, "group"),
    }
    kinds = {k: e.kind for k, e in by_field.items()}
    assert kinds[(None, "visits")] is InvalidValueError
    assert kinds[(None, "test_group")] is LinkValidationError
    assert kinds[(None, "customer_number")] is UniqueValidationError
    assert kinds[(2, "item")] is MandatoryError
    assert by_field[(None, "visits")].label == "Visits"
    assert by_field[(None, "visits")].message == "Test Customer: Visits 'many' is not a whole number"
    assert by_field[(None, "email")].message == "Test Customer: Email 'nope' is not a valid email address"
    assert by_field[(None, "test_group")].message == "Test Customer: Group: Test Group 'Nowhere' does not exist"
    assert "unknown field 'colour'" in by_field[(None, "colour")].message
    assert by_field[(None, "customer_number")].message == (
        "Test Customer: Customer Number 'C-1' is already used by Test Customer 'Taken'")
    assert by_field[(2, "item")].message == "Test Customer: row 2 of Rows: Item is required"
    assert by_field[(2, "amount")].message == "Test Customer: row 2 of Rows: Amount cannot be negative (-3.00)"
    assert by_field[(2, "group")].message == "Test Customer: row 2 of Rows: Group: Test Group 'Missing' does not exist"
    assert by_field[(2, "group")].label == "Group"
    assert all(m in err.message for m in (e.message for e in err.errors))
    assert _counts(site) == before


def test_missing_naming_field_is_reported_with_the_other_errors(site, session):
    with pytest.raises(ValidationError) as exc:
        session.insert("Test Customer", customer_name="  ", visits="x")
    assert {e.field for e in exc.value.errors} == {"customer_name", "visits"}
    assert _count(site, "Test Customer") == 0


def test_one_kind_of_error_raises_that_class(site, session):
    with pytest.raises(MandatoryError) as exc:
        session.insert("Test Customer", customer_type="Individual")
    assert {e.field for e in exc.value.errors} == {"customer_name", "first_name"}
    assert all("is required" in e.message for e in exc.value.errors)
    with pytest.raises(LinkValidationError) as exc:
        session.insert("Test Customer", customer_name="Acme", test_group="Nowhere")
    assert exc.value.status == 417
    assert _count(site, "Test Customer") == 0


def test_unknown_field_names_it(site, session):
    with pytest.raises(InvalidValueError) as exc:
        session.insert("Test Customer", customer_name="Acme", colour="red")
    assert [(e.field, e.value) for e in exc.value.errors] == [("colour", "red")]
    assert "Test Customer: unknown field 'colour'" in str(exc.value)
    with pytest.raises(InvalidValueError) as exc:
        session.insert("Test Customer", customer_name="Acme", rows=[{"item": "a", "size": 3}])
    assert exc.value.errors[0].field == "size" and exc.value.errors[0].row == 1
    assert "row 1 of Rows: unknown field 'size'" in str(exc.value)
    doc = session.insert("Test Customer", customer_name="Acme")
    doc.update({"colour": "blue"})
    with pytest.raises(InvalidValueError, match="unknown field 'colour'"):
        doc.save()
    assert _count(site, "Test Customer") == 1


def test_standard_values_sent_as_text(session):
    doc = session.insert("Test Customer", customer_name="Acme", docstatus="0", idx="3")
    assert doc.docstatus == 0 and doc.idx == 3
    doc.update({"docstatus": "0", "visits": "2"})
    doc.save()
    with pytest.raises(InvalidValueError, match="Index 'x' is not a whole number"):
        session.insert("Test Customer", customer_name="Other", idx="x")


def test_layout_fields_hold_no_value(session):
    with pytest.raises(InvalidValueError, match="Details is a layout field"):
        session.insert("Test Customer", customer_name="Acme", details_section="x")


def test_bad_shapes_are_clear_errors(session):
    with pytest.raises(InvalidValueError, match="Rows must be a list of rows"):
        session.new_doc("Test Customer", customer_name="Acme", rows="a,b")
    with pytest.raises(InvalidValueError, match="rows of Rows must be objects"):
        session.new_doc("Test Customer", customer_name="Acme", rows=["a"])
    with pytest.raises(InvalidValueError, match="'doctype' is 'Test Group'"):
        session.new_doc("Test Customer", {"doctype": "Test Group", "customer_name": "Acme"})


def test_unknown_doctype(session):
    for call in (lambda: session.insert("Nope", name="x"), lambda: session.get_doc("Nope", "x"),
                 lambda: session.new_doc("Nope"), lambda: session.get_list("Nope")):
        with pytest.raises(DoesNotExistError, match="DocType 'Nope' not found") as exc:
            call()
        assert exc.value.status == 404


def test_missing_document(session):
    with pytest.raises(DoesNotExistError, match="Test Customer 'Ghost' not found") as exc:
        session.get_doc("Test Customer", "Ghost")
    assert exc.value.status == 404


def test_unique_value(site, session):
    session.insert("Test Customer", customer_name="Acme", customer_number="C-1")
    with pytest.raises(UniqueValidationError) as exc:
        session.insert("Test Customer", customer_name="Other", customer_number="C-1")
    assert exc.value.status == 409
    err = exc.value.errors[0]
    assert (err.field, err.label, err.value) == ("customer_number", "Customer Number", "C-1")
    assert "Test Customer: Customer Number 'C-1' is already used by Test Customer 'Acme'" in str(exc.value)
    other = session.insert("Test Customer", customer_name="Other", customer_number="C-2")
    other.customer_number = "C-1"
    with pytest.raises(UniqueValidationError):
        other.save()
    assert session.get_doc("Test Customer", "Other").customer_number == "C-2"
    # Saving a document with its own unchanged unique value is fine; empty values never clash.
    other.customer_number = "C-2"
    other.save()
    session.insert("Test Customer", customer_name="E1", customer_number="")
    session.insert("Test Customer", customer_name="E2", customer_number="  ")
    assert _count(site, "Test Customer") == 4


def test_set_only_once(site, session):
    doc = session.insert("Test Customer", customer_name="Acme", customer_type="Company")
    doc.customer_type = "Individual"
    doc.first_name = "Ann"
    with pytest.raises(CannotChangeConstantError) as exc:
        doc.save()
    assert exc.value.status == 417
    err = exc.value.errors[0]
    assert (err.field, err.label) == ("customer_type", "Customer Type")
    assert "Customer Type cannot be changed once set (was 'Company', now 'Individual')" in err.message
    assert session.get_doc("Test Customer", "Acme").customer_type == "Company"
    doc.customer_type = ""
    with pytest.raises(CannotChangeConstantError, match="was 'Company', now empty"):
        doc.save()
    doc.customer_type = "Company"
    doc.save()


def test_every_error_class_has_its_status():
    from engine import errors

    expected = {"MandatoryError": 417, "InvalidValueError": 417, "LinkValidationError": 417,
                "UniqueValidationError": 409, "CannotChangeConstantError": 417, "TimestampMismatchError": 409,
                "DoesNotExistError": 404, "LinkExistsError": 417, "UpdateAfterSubmitError": 417}
    for name, status in expected.items():
        cls = getattr(errors, name)
        assert issubclass(cls, DocframeError) and cls.status == status, name


def test_nothing_written_when_a_row_fails(site, session, group):
    with pytest.raises(MandatoryError):
        session.insert("Test Customer", customer_name="Acme", rows=[{"item": "a"}, {"item": ""}])
    assert _count(site, "Test Customer") == 0 and _count(site, "Test Customer Row") == 0
    assert _count(site, "Version") == 0


def test_failed_insert_can_be_fixed_and_retried(session):
    doc = session.new_doc("Test Customer", customer_name="Acme", visits="x")
    with pytest.raises(InvalidValueError):
        doc.insert()
    assert doc.is_new() and doc.name is None and doc.modified is None
    doc.visits = 3
    doc.insert()
    assert session.get_doc("Test Customer", "Acme").visits == 3


# ------------------------------------------------------------------ optimistic locking

def test_stale_save_is_refused(site):
    with site.session() as one, site.session() as two:
        one.insert("Test Customer", customer_name="Acme", rows=[{"item": "a"}])
        first = one.get_doc("Test Customer", "Acme")
        second = two.get_doc("Test Customer", "Acme")
        first.visits = 1
        first.save()
        second.visits = 2
        second.append("rows", {"item": "b"})
        with pytest.raises(TimestampMismatchError) as exc:
            second.save()
        assert exc.value.status == 409
        assert "Test Customer 'Acme' was changed by someone else" in str(exc.value)
        fresh = one.get_doc("Test Customer", "Acme")
        assert fresh.visits == 1 and [r.item for r in fresh.rows] == ["a"]
        assert _count(site, "Version") == 2  # created + the first save only
        second.reload()
        second.visits = 2
        second.save()
        assert one.get_doc("Test Customer", "Acme").visits == 2


def test_stale_modified_sent_by_a_client_is_refused(site, session):
    doc = session.insert("Test Customer", customer_name="Acme")
    read = doc.as_dict()
    doc.visits = 1
    doc.save()
    form = session.get_doc("Test Customer", "Acme")
    form.update({"visits": 5, "modified": str(read["modified"])})  # what the form read, as text
    with pytest.raises(TimestampMismatchError):
        form.save()
    assert session.get_doc("Test Customer", "Acme").visits == 1
    current = session.get_doc("Test Customer", "Acme")
    current.update({"visits": 6, "modified": str(current.modified)})
    current.save()
    assert session.get_doc("Test Customer", "Acme").visits == 6
    current.update({"visits": 7, "modified": "not a timestamp"})
    with pytest.raises(TimestampMismatchError):
        current.save()


def test_saving_a_deleted_document(session):
    doc = session.insert("Test Customer", customer_name="Acme")
    session.get_doc("Test Customer", "Acme").delete()
    doc.visits = 1
    with pytest.raises(DoesNotExistError):
        doc.save()


# ------------------------------------------------------------------ what a save may not change

def test_id_owner_and_creation_are_not_changed_by_saving(site, session):
    doc = session.insert("Test Customer", customer_name="Acme")
    created = doc.creation
    doc.update({"owner": "mallory@example.com", "creation": "2000-01-01 00:00:00"})
    doc.save()
    loaded = session.get_doc("Test Customer", "Acme")
    assert loaded.owner == "Administrator" and loaded.creation == created
    loaded.name = "ACME"  # only the case differs: the stored ID wins
    loaded.save()
    assert loaded.name == "Acme"
    loaded.name = "Other"
    with pytest.raises(InvalidValueError, match="the ID cannot be changed by saving"):
        loaded.save()
    assert session.exists("Test Customer", "Acme") and not session.exists("Test Customer", "Other")


# ------------------------------------------------------------------ Document semantics

def test_attribute_access(session):
    doc = session.new_doc("Test Customer", customer_name="Acme")
    assert doc.customer_name == "Acme"
    assert doc.notes is None and doc.rows == [] and doc.name is None
    with pytest.raises(AttributeError, match="Test Customer has no field 'nope'"):
        _ = doc.nope
    doc.notes = "hi"
    assert doc.get("notes") == "hi" and doc.get("visits", 0) == 0
    assert callable(doc.save) and callable(doc.copy)


def test_flags(session):
    doc = session.new_doc("Test Customer", customer_name="Acme")
    assert doc.flags.anything is None
    doc.flags.importing = True
    assert doc.flags["importing"] is True
    assert not hasattr(doc.flags, "__html__")  # templates and protocols see no phantom methods
    assert copy.deepcopy(doc.flags) == {"importing": True}
    assert pickle.loads(pickle.dumps(doc.flags)) == {"importing": True}


def test_as_dict_is_a_copy_with_every_table(session):
    doc = session.new_doc("Test Customer", customer_name="Acme", settings={"a": [1]})
    out = doc.as_dict()
    assert out["doctype"] == "Test Customer" and out["rows"] == []
    out["rows"].append({"item": "x"})
    out["settings"]["a"].append(2)
    assert doc.rows == [] and doc.settings == {"a": [1]}
    doc.append("rows", {"item": "a"})
    row = doc.as_dict()["rows"][0]
    assert row["item"] == "a" and row["doctype"] == "Test Customer Row" and row["idx"] == 1


def test_snapshot_is_independent(session):
    doc = session.insert("Test Customer", customer_name="Acme", settings={"a": 1}, rows=[{"item": "a"}])
    before = doc.get_doc_before_save()
    doc.settings["a"] = 2
    doc.rows[0].item = "changed"
    doc.append("rows", {"item": "b"})
    assert before.settings == {"a": 1}
    assert [r.item for r in before.rows] == ["a"]
    assert before.rows[0].parent_doc is before


def test_copy_module_makes_independent_copies(session):
    doc = session.insert("Test Customer", customer_name="Acme", settings={"a": 1}, rows=[{"item": "a"}])
    for clone in (copy.copy(doc), copy.deepcopy(doc), doc.copy()):
        clone.settings["a"] = 2
        clone.rows[0].item = "b"
        assert doc.settings == {"a": 1} and doc.rows[0].item == "a"
        assert clone.rows[0].parent_doc is clone


def test_copy_inserts_as_a_new_document(session):
    doc = session.insert("Test Customer", customer_name="Acme", rows=[{"item": "a"}, {"item": "b"}])
    clone = session.new_doc("Test Customer", {k: v for k, v in doc.as_dict().items()
                                               if k not in ("name", "modified", "creation")})
    clone.customer_name = "Acme Two"
    clone.insert()
    rows = session.get_doc("Test Customer", "Acme Two").rows
    assert [r.item for r in rows] == ["a", "b"]
    assert {r.name for r in rows}.isdisjoint(r.name for r in doc.rows)
    assert [r.item for r in session.get_doc("Test Customer", "Acme").rows] == ["a", "b"]


def test_document_equality_and_repr(session):
    doc = session.insert("Test Customer", customer_name="Acme")
    assert repr(doc) == "<Test Customer 'Acme'>"
    assert session.get_doc("Test Customer", "Acme") == doc
    assert isinstance(doc, Document)

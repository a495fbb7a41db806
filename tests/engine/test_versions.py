"""Version history of track_changes doctypes (Test Customer, Test Invoice)."""

from __future__ import annotations

import json

import pytest

from engine.errors import InvalidValueError


def _versions(session, doctype="Test Customer", name="Acme"):
    rows = session.get_list("Version", fields=["name", "owner", "data", "creation"],
                            filters={"ref_doctype": doctype, "docname": name}, order_by="creation asc")
    for r in rows:
        if isinstance(r["data"], str):
            r["data"] = json.loads(r["data"])
    return rows


def test_insert_records_created(site):
    with site.session("ann@example.com", ignore_permissions=True) as s:  # no roles: hooks see the user
        s.insert("Test Customer", customer_name="Acme")
        versions = _versions(s)
    assert [v["data"] for v in versions] == [{"created": True}]
    assert versions[0]["owner"] == "ann@example.com"


def test_save_records_field_and_row_changes(session):
    doc = session.insert("Test Customer", customer_name="Acme", visits=1, credit_limit="10",
                         rows=[{"item": "a", "qty": 1}, {"item": "b"}, {"item": "c"}])
    a, b, c = (r.name for r in doc.rows)
    doc.visits = 2
    doc.credit_limit = "12.5"
    doc.notes = "new note"
    doc.rows[0].qty = 5
    doc.rows = [doc.rows[0], doc.rows[2], {"item": "d", "amount": "1.25"}]
    doc.save()
    data = _versions(session)[-1]["data"]
    assert sorted(data["changed"]) == [["credit_limit", "10.00", "12.50"], ["notes", None, "new note"],
                                       ["visits", 1, 2]]
    assert data["row_changed"] == [["rows", 1, a, [["qty", 1, 5]]]]
    assert [(t, r["item"]) for t, r in data["added"]] == [("rows", "d")]
    assert data["added"][0][1]["amount"] == "1.25"
    assert [(t, r["name"], r["item"]) for t, r in data["removed"]] == [("rows", b, "b")]
    assert c not in json.dumps(data)  # only moved: not a change of its values


def test_save_without_changes_records_nothing(session):
    doc = session.insert("Test Customer", customer_name="Acme", visits="3", score="1.5", credit_limit="7",
                         since="2024-01-02", last_contact="2024-01-02 03:04:05.678", call_time="10:30",
                         settings={"a": [1]}, api_secret="pw", rows=[{"item": "a", "amount": "1.10"}])
    doc.save()
    loaded = session.get_doc("Test Customer", "Acme")
    loaded.save()
    loaded.update(loaded.as_dict())  # what a form sends back: strings, masks, the same rows
    loaded.save()
    assert len(_versions(session)) == 1


def test_passwords_never_appear_in_versions(session):
    doc = session.insert("Test Customer", customer_name="Acme", api_secret="first-secret")
    doc.api_secret = "second-secret"
    doc.save()
    versions = _versions(session)
    text = json.dumps([v["data"] for v in versions])
    assert "secret" not in text.replace("api_secret", "") and "$argon2" not in text
    assert versions[-1]["data"]["changed"] == [["api_secret", "********", "********"]]


def test_failed_save_records_no_version(session, register_hook):
    from engine import hookimpl

    class Refuse:
        @hookimpl
        def on_update(self, doc, ctx):
            raise InvalidValueError("no")

    doc = session.insert("Test Customer", customer_name="Acme")
    register_hook("Test Customer", Refuse())
    doc.visits = 4
    with pytest.raises(InvalidValueError):
        doc.save()
    assert len(_versions(session)) == 1


def test_doctypes_without_track_changes_have_no_versions(session):
    session.insert("Test Group", group_name="All", is_group=1)
    assert session.get_count("Version") == 0


def test_submit_and_cancel_are_recorded(session):
    session.insert("Test Customer", customer_name="Acme")
    inv = session.insert("Test Invoice", customer="Acme")
    inv.submit()
    inv.cancel()
    data = [v["data"] for v in _versions(session, "Test Invoice", inv.name)]
    assert data[0] == {"created": True}
    assert data[1]["changed"] == [["docstatus", 0, 1]]
    assert data[2]["changed"] == [["docstatus", 1, 2]]

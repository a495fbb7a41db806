"""Naming rules (SPEC 1.3) through the public API, on the configured database."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from engine import hookimpl
from engine.errors import (
    DuplicateEntryError,
    LinkValidationError,
    MandatoryError,
    MetaError,
    NamingError,
    ValidationError,
)
from engine.metadata.app import load_app_doctypes
from engine.rules.naming import render_expression

YEAR = dt.date.today().year


def customer(s, name, **values):
    return s.insert("Test Customer", customer_name=name, **values)


def names(s, doctype):
    return sorted(s.get_list(doctype, pluck="name"))


# ------------------------------------------------------------------ field rule

def test_field_value_is_trimmed_and_inner_whitespace_collapsed(session):
    doc = customer(session, "  Acme \t  Ltd ")
    assert doc.name == "Acme Ltd"
    assert session.get_doc("Test Customer", "Acme Ltd").name == "Acme Ltd"
    assert doc.flags.name_suffixed is False


def test_duplicates_get_suffixes_and_the_document_says_so(session):
    first, second, third = (customer(session, n) for n in ("Acme Ltd", "Acme Ltd", " Acme  Ltd"))
    assert [first.name, second.name, third.name] == ["Acme Ltd", "Acme Ltd-1", "Acme Ltd-2"]
    assert first.flags.name_suffixed is False
    assert second.flags.name_suffixed is True and second.flags.name_base == "Acme Ltd"
    assert third.flags.name_suffixed is True and third.flags.name_base == "Acme Ltd"
    assert second.customer_name == "Acme Ltd"  # the field keeps its value; only the ID is suffixed


def test_ids_collide_case_insensitively(session):
    customer(session, "Acme Ltd")
    upper = customer(session, "ACME LTD")
    lower = customer(session, "acme ltd")
    assert (upper.name, lower.name) == ("ACME LTD-1", "acme ltd-2")
    assert session.get_doc("Test Customer", "ACME ltd").name == "Acme Ltd"
    assert session.exists("Test Customer", "acme LTD-1")


def test_suffix_is_anchored_on_the_exact_base(session):
    for other in ("Acme Ltd Corp-7", "Acme Ltdx-3", "Acme-9", "XAcme Ltd-4", "Acme Ltd-x5", "Acme Ltd-2a"):
        customer(session, other)
    assert customer(session, "Acme Ltd").name == "Acme Ltd"
    assert customer(session, "Acme Ltd").name == "Acme Ltd-1"
    assert customer(session, "Acme Ltd Corp").name == "Acme Ltd Corp"  # its own base, free


def test_existing_numbered_name_moves_the_next_suffix_past_it(session):
    customer(session, "Acme Ltd")
    assert customer(session, "Acme Ltd-5").name == "Acme Ltd-5"  # a base name of its own
    assert customer(session, "Acme Ltd").name == "Acme Ltd-6"
    assert customer(session, "ACME LTD").name == "ACME LTD-7"


def test_numbered_name_added_after_the_counter_exists_is_not_reused(session):
    customer(session, "Beta")
    assert customer(session, "Beta").name == "Beta-1"
    assert customer(session, "beta-4").name == "beta-4"  # named directly, case differs
    assert customer(session, "Beta").name == "Beta-5"
    assert customer(session, "Beta-2").name == "Beta-2"  # below the counter: no effect
    assert customer(session, "Beta").name == "Beta-6"


def test_huge_numeric_tail_is_not_taken_as_a_suffix(session):
    customer(session, "Gamma")
    customer(session, "Gamma-" + "9" * 30)
    assert customer(session, "Gamma").name == "Gamma-1"


def test_suffix_is_never_reused_after_delete(session):
    created = [customer(session, "Acme").name for _ in range(3)]
    assert created == ["Acme", "Acme-1", "Acme-2"]
    session.delete_doc("Test Customer", "Acme-2")
    assert customer(session, "Acme").name == "Acme-3"
    for name in ("Acme", "Acme-1", "Acme-3"):
        session.delete_doc("Test Customer", name)
    assert customer(session, "Acme").name == "Acme"  # the base itself is free again
    assert customer(session, "Acme").name == "Acme-4"


def test_configured_separator(session):
    customer(session, "Acme")
    entry = dict(customer="Acme", posting_date="2026-01-31")
    assert session.insert("Test Entry", entry).name == "Acme-2026-01-31"
    dup = session.insert("Test Entry", entry)
    assert dup.name == "Acme-2026-01-31_1" and dup.flags.name_suffixed
    assert session.insert("Test Entry", customer="Acme", posting_date=dt.date(2026, 1, 31)).name == \
        "Acme-2026-01-31_2"


def test_on_duplicate_error_names_doctype_and_value(session):
    session.insert("Test Group", group_name="All", is_group=1)
    for clash in ("All", " all ", "ALL"):
        with pytest.raises(DuplicateEntryError) as err:
            session.insert("Test Group", group_name=clash, is_group=1)
        assert err.value.status == 409
        assert "Test Group" in str(err.value) and repr(clash.strip()) in str(err.value)
        assert err.value.errors and err.value.errors[0].label == "Group Name"
    assert names(session, "Test Group") == ["All"]


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_naming_field_is_a_mandatory_error_naming_the_label(session, value):
    with pytest.raises(MandatoryError) as err:
        session.insert("Test Customer", customer_name=value)
    assert "Test Customer" in str(err.value) and "Customer Name" in str(err.value)
    assert err.value.errors[0].field == "customer_name"
    assert names(session, "Test Customer") == []


@pytest.mark.parametrize("bad", ["Acme\x00Ltd", "Bell\x07", "Esc\x1b[31m", "C1\x9bx", "Del\x7f"])
def test_control_characters_are_rejected(session, bad):
    with pytest.raises(ValidationError) as err:  # a NUL also makes the Display the app hook derives invalid
        customer(session, bad)
    assert "control character" in str(err.value) and "Customer Name" in str(err.value)
    assert any(e.kind is NamingError for e in err.value.errors)
    with pytest.raises(NamingError):
        session.insert("Test Tag", name=bad)
    assert names(session, "Test Customer") == names(session, "Test Tag") == []


def test_whitespace_controls_are_collapsed_not_rejected(session):
    assert customer(session, "Acme\r\nLtd\t").name == "Acme Ltd"


def test_too_long_names_are_rejected_clearly(session):
    with pytest.raises(NamingError) as err:
        session.insert("Test Tag", name="x" * 141)
    assert "141 characters" in str(err.value) and "at most 140" in str(err.value)
    assert session.insert("Test Tag", name="y" * 140).name == "y" * 140


def test_suffix_that_would_make_the_id_too_long_is_a_clear_error(session):
    long_customer = "z" * 128
    customer(session, long_customer)
    entry = dict(customer=long_customer, posting_date="2026-01-31")
    assert len(session.insert("Test Entry", entry).name) == 139
    with pytest.raises(NamingError) as err:
        session.insert("Test Entry", entry)
    assert "already exists" in str(err.value) and "141 characters" in str(err.value)
    assert session.get_count("Test Entry") == 1


def test_naming_errors_are_reported_with_the_other_errors(session):
    with pytest.raises(ValidationError) as err:
        session.insert("Test Customer", customer_name="Bad\x00Name", visits=-1, email="not-an-email")
    fields = {e.field for e in err.value.errors}
    assert {"customer_name", "visits", "email"} <= fields
    assert names(session, "Test Customer") == []


# ------------------------------------------------------------------ other rules

def test_series_counts_continues_after_delete_and_picks_up_without_counter(site, session):
    customer(session, "Acme")
    made = [session.insert("Test Invoice", customer="Acme").name for _ in range(3)]
    assert made == [f"TINV-{YEAR}-{n:05d}" for n in (1, 2, 3)]
    session.delete_doc("Test Invoice", made[-1])
    assert session.insert("Test Invoice", customer="Acme").name == f"TINV-{YEAR}-00004"
    with site.engine.begin() as conn:  # e.g. tables restored without the counter table
        conn.execute(site.counter_table.delete())
    assert session.insert("Test Invoice", customer="Acme").name == f"TINV-{YEAR}-00005"


def test_series_failed_insert_gives_its_number_back(session):
    customer(session, "Acme")
    assert session.insert("Test Invoice", customer="Acme").name == f"TINV-{YEAR}-00001"
    with pytest.raises(LinkValidationError):
        session.insert("Test Invoice", customer="Nobody")
    assert session.insert("Test Invoice", customer="Acme").name == f"TINV-{YEAR}-00002"


def test_hash_names_are_ten_characters_and_unique(session):
    made = [session.insert("Test Note", title=f"n{i}").name for i in range(40)]
    assert all(re.fullmatch(r"[0-9a-z]{10}", n) for n in made)
    assert len(set(made)) == len(made) == session.get_count("Test Note")


def test_autoincrement(session):
    made = [session.insert("Test Ticket", subject=f"s{i}").name for i in range(3)]
    assert made == ["1", "2", "3"]
    session.delete_doc("Test Ticket", "3")
    assert session.insert("Test Ticket", subject="s").name == "4"


def test_prompt_name_is_honoured_trimmed_and_required(session):
    assert session.insert("Test Tag", name="  Urgent   Now ").name == "Urgent Now"
    assert session.get_doc("Test Tag", "urgent now").name == "Urgent Now"
    for missing in ({}, {"name": ""}, {"name": "   "}):
        with pytest.raises(NamingError):
            session.insert("Test Tag", {"description": "d", **missing})
    with pytest.raises(DuplicateEntryError) as err:
        session.insert("Test Tag", name="URGENT NOW")
    assert err.value.status == 409 and "Test Tag" in str(err.value) and "URGENT NOW" in str(err.value)
    assert names(session, "Test Tag") == ["Urgent Now"]


def test_expression_rule_and_format_specs(session):
    customer(session, "Acme")
    doc = session.new_doc("Test Entry", customer="Acme", posting_date="2026-01-31")
    assert render_expression("{customer}/{posting_date:%Y%m}", doc) == "Acme/202601"
    assert render_expression("{customer:.2}-{customer:>6}", doc) == "Ac-  Acme"
    with pytest.raises(MandatoryError) as err:
        session.insert("Test Entry", customer="Acme")
    assert "Posting Date" in str(err.value)


@pytest.mark.parametrize("pattern", [
    "{customer.__class__}", "{customer.__class__.__mro__}", "{customer[0]}", "{0}", "{}",
    "{customer!r}", "{customer:{posting_date}}", "{Customer}", "{customer",
])
def test_expression_cannot_reach_attributes(session, pattern):
    doc = session.new_doc("Test Entry", customer="Acme", posting_date="2026-01-31")
    with pytest.raises(NamingError):
        render_expression(pattern, doc)


def test_yaml_loader_rejects_attribute_access_in_patterns(tmp_path):
    (tmp_path / "doctypes").mkdir()
    (tmp_path / "doctypes" / "bad.yaml").write_text(
        "name: Bad Entry\nmodule: Testing\n"
        "naming: {rule: expression, pattern: '{title.__class__}-{title}'}\n"
        "fields:\n  - {name: title, type: Data, label: Title}\n"
    )
    with pytest.raises(MetaError) as err:
        load_app_doctypes(tmp_path)
    assert "Bad Entry" in str(err.value) and "plain field name" in str(err.value)


# ------------------------------------------------------- who may set the name

def test_caller_supplied_name_is_rejected_for_other_rules(session):
    for doctype, values in [("Test Customer", {"customer_name": "Acme"}), ("Test Ticket", {"subject": "s"}),
                            ("Test Note", {"title": "t"})]:
        with pytest.raises(NamingError) as err:
            session.insert(doctype, {**values, "name": "Mine"})
        assert doctype in str(err.value) and "Mine" in str(err.value)
        doc = session.new_doc(doctype, values)
        doc.name = "Mine"  # set on the document, not passed in: refused all the same
        with pytest.raises(NamingError):
            doc.insert()
        assert names(session, doctype) == []


def test_before_naming_hook_may_set_the_name(session, register_hook):
    class CustomNaming:
        @hookimpl
        def before_naming(self, doc, ctx):
            doc.name = f"  C-{doc.customer_name.upper()} "

    register_hook("Test Customer", CustomNaming())
    doc = customer(session, "acme")
    assert doc.name == "C-ACME" and doc.flags.name_suffixed is False
    with pytest.raises(DuplicateEntryError):
        customer(session, "Acme")
    assert names(session, "Test Customer") == ["C-ACME"]


# ------------------------------------------------------------- transactions

def test_failed_insert_gives_its_suffix_back(session):
    """The counter row is bumped inside the insert's transaction, so a rollback undoes it."""
    customer(session, "Acme")
    doc = session.new_doc("Test Customer", customer_name="Acme", customer_type="Individual")
    with pytest.raises(MandatoryError):  # First Name is mandatory for individuals
        doc.insert()
    assert doc.name is None
    assert customer(session, "Acme").name == "Acme-1"  # the counter row itself was rolled back
    with pytest.raises(MandatoryError):
        doc.insert()
    assert customer(session, "Acme").name == "Acme-2"  # the existing counter row was rolled back
    doc.first_name = "Ann"
    assert doc.insert().name == "Acme-3"
    assert names(session, "Test Customer") == ["Acme", "Acme-1", "Acme-2", "Acme-3"]

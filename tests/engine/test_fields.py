"""Every field type of Test Customer: coercion, checks, storage and read-back on each database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.errors import InvalidValueError, MandatoryError, ValidationError
from engine.rules.validation import verify_password


def _raw(site, doctype, name, column):
    """The value as stored in the database column, bypassing the document layer."""
    t = site.table(doctype)
    with site.engine.connect() as conn:
        return conn.execute(sa.select(t.c[column]).where(t.c.name == name)).scalar_one()


def _count(site, doctype):
    t = site.table(doctype)
    with site.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()


def _error(exc_info, field):
    """The one FieldError about ``field`` in a raised ValidationError."""
    found = [e for e in exc_info.value.errors if e.field == field]
    assert len(found) == 1, exc_info.value.errors
    return found[0]


@pytest.fixture
def customer(session):
    def make(**values):
        values.setdefault("customer_name", "Acme")
        return session.insert("Test Customer", values)
    return make


# ------------------------------------------------------------------ numbers

def test_int_from_strings(session, customer):
    doc = customer(visits="12")
    assert doc.visits == 12
    assert session.get_doc("Test Customer", doc.name).visits == 12
    assert customer(customer_name="B", visits=" 1,200 ").visits == 1200
    assert customer(customer_name="C", visits="3.0").visits == 3
    assert customer(customer_name="D", visits=4.0).visits == 4


@pytest.mark.parametrize("bad", ["1.5", "twelve", [1], {"a": 1}])
def test_int_refuses_non_whole_numbers(site, customer, bad):
    with pytest.raises(InvalidValueError) as exc:
        customer(visits=bad)
    err = _error(exc, "visits")
    assert err.label == "Visits"
    assert "Test Customer" in err.message and "Visits" in err.message and repr(bad) in err.message
    assert exc.value.status == 417
    assert _count(site, "Test Customer") == 0


def test_float_rounds_to_precision(session, customer):
    doc = customer(score="1.23456", discount="12.5")
    assert doc.score == 1.235 and isinstance(doc.score, float)
    loaded = session.get_doc("Test Customer", doc.name)
    assert loaded.score == 1.235
    assert loaded.discount == 12.5
    assert customer(customer_name="B", score="2.0005").score == 2.001  # half-up, not banker's


def test_currency_is_exact_decimal(session, customer):
    doc = customer(credit_limit=0.1 + 0.2, rows=[{"item": "a", "amount": "0.1"}, {"item": "b", "amount": "0.2"}])
    assert doc.credit_limit == Decimal("0.30")
    loaded = session.get_doc("Test Customer", doc.name)
    assert isinstance(loaded.credit_limit, Decimal)
    assert str(loaded.credit_limit) == "0.30"
    amounts = [r.amount for r in loaded.rows]
    assert amounts == [Decimal("0.10"), Decimal("0.20")]
    assert str(sum(amounts)) == "0.30"
    total = session.get_list("Test Customer Row", fields=["sum(amount) as total"])[0]["total"]
    assert Decimal(total) == Decimal("0.30")


def test_currency_large_values_and_half_up_rounding(session):
    session.insert("Test Group", group_name="Big", default_rate="999999999999.99")
    session.insert("Test Group", group_name="Up", default_rate="2.345")
    session.insert("Test Group", group_name="Down", default_rate="2.344")
    session.insert("Test Group", group_name="Neg", default_rate="-2.345")
    rate = {n: session.get_doc("Test Group", n).default_rate for n in ("Big", "Up", "Down", "Neg")}
    assert rate == {"Big": Decimal("999999999999.99"), "Up": Decimal("2.35"),
                    "Down": Decimal("2.34"), "Neg": Decimal("-2.35")}
    assert str(rate["Big"]) == "999999999999.99"


def test_currency_too_large_or_not_a_number(site, session):
    with pytest.raises(InvalidValueError) as exc:
        session.insert("Test Group", group_name="Huge", default_rate="1000000000000")
    assert "Default Rate" in _error(exc, "default_rate").message
    with pytest.raises(InvalidValueError) as exc:
        session.insert("Test Group", group_name="Nan", default_rate="NaN")
    assert "'NaN'" in _error(exc, "default_rate").message
    with pytest.raises(InvalidValueError):
        session.insert("Test Group", group_name="Bool", default_rate=True)
    assert _count(site, "Test Group") == 0


def test_non_negative(site, customer):
    with pytest.raises(InvalidValueError) as exc:
        customer(visits=-1, credit_limit="-0.01")
    assert {e.field for e in exc.value.errors} == {"visits", "credit_limit"}
    assert "Visits cannot be negative" in _error(exc, "visits").message
    assert "-1" in _error(exc, "visits").message
    assert _count(site, "Test Customer") == 0
    assert customer(visits=0, credit_limit="0").visits == 0


# ------------------------------------------------------------------ check, dates, select

@pytest.mark.parametrize(("sent", "stored"), [("1", 1), ("true", 1), (True, 1), ("Yes", 1), (1, 1),
                                              ("0", 0), ("false", 0), (False, 0), (0, 0)])
def test_check_values(session, customer, sent, stored):
    doc = customer(is_frozen=sent)
    assert doc.is_frozen == stored
    assert session.get_doc("Test Customer", doc.name).is_frozen == stored


def test_check_refuses_other_values(customer):
    with pytest.raises(InvalidValueError) as exc:
        customer(is_frozen="maybe")
    assert "Is Frozen 'maybe'" in _error(exc, "is_frozen").message


def test_dates_and_times_from_iso_strings(session, customer):
    doc = customer(since="2024-02-29", last_contact="2024-03-01T10:20:30.123456", call_time="14:30")
    loaded = session.get_doc("Test Customer", doc.name)
    assert loaded.since == dt.date(2024, 2, 29)
    assert loaded.last_contact == dt.datetime(2024, 3, 1, 10, 20, 30, 123456)
    assert loaded.call_time == dt.time(14, 30)
    precise = customer(customer_name="P", call_time="14:30:15.250001")  # microseconds kept on every database
    assert session.get_doc("Test Customer", precise.name).call_time == dt.time(14, 30, 15, 250001)
    other = customer(customer_name="B", last_contact="2024-03-01 10:20:30+02:00", since="2024-03-01 09:00:00")
    assert other.last_contact == dt.datetime(2024, 3, 1, 8, 20, 30)  # stored as naive UTC
    assert other.since == dt.date(2024, 3, 1)


@pytest.mark.parametrize(("field", "bad"), [("since", "2024-02-30"), ("since", "2024-01-01junk"),
                                            ("since", "yesterday"), ("last_contact", "soon"),
                                            ("call_time", "25:00"), ("since", 20240101)])
def test_bad_dates_refused(site, customer, field, bad):
    with pytest.raises(InvalidValueError) as exc:
        customer(**{field: bad})
    assert repr(bad) in _error(exc, field).message
    assert _count(site, "Test Customer") == 0


def test_select_options(session, customer):
    assert customer(customer_type="Individual", first_name="Ann").customer_type == "Individual"
    with pytest.raises(InvalidValueError) as exc:
        customer(customer_name="B", customer_type="Person")
    msg = _error(exc, "customer_type").message
    assert "Customer Type 'Person' is not one of 'Company', 'Individual'" in msg
    assert msg.startswith("Test Customer: ")


def test_data_length(session, customer):
    assert customer(customer_number="N" * 20).customer_number == "N" * 20
    with pytest.raises(InvalidValueError) as exc:
        customer(customer_name="B", customer_number="N" * 21)
    msg = _error(exc, "customer_number").message
    assert "Customer Number" in msg and "N" * 21 in msg and "at most 20" in msg


def test_data_is_trimmed_before_length_check(customer):
    assert customer(customer_number="  " + "N" * 20 + "  ").customer_number == "N" * 20


@pytest.mark.parametrize(("field", "good", "bad"), [
    ("email", "ann@example.com", "ann@example"),
    ("email", "a.b+c@mail.example.org", "not an email"),
    ("phone", "+49 (30) 1234-567", "call me"),
    ("website", "https://example.com/x?y=1", "example.com"),
    ("website", "http://localhost:8000", "javascript:alert(1)"),
])
def test_formats(site, customer, field, good, bad):
    assert customer(**{field: good}).get(field) == good
    with pytest.raises(InvalidValueError) as exc:
        customer(customer_name="B", **{field: bad})
    assert repr(bad) in _error(exc, field).message
    assert _count(site, "Test Customer") == 1


@pytest.mark.parametrize("field", ["customer_name", "notes", "long_notes", "email", "api_secret"])
@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"])
def test_unstorable_characters_are_refused(site, customer, field, bad):
    with pytest.raises(ValidationError) as exc:
        customer(**{field: bad})
    assert field in {e.field for e in exc.value.errors}
    assert _count(site, "Test Customer") == 0


def test_text_types_refuse_objects(customer):
    with pytest.raises(InvalidValueError) as exc:
        customer(notes={"a": 1}, description=["x"])
    assert {e.field for e in exc.value.errors} == {"notes", "description"}
    assert "Notes" in _error(exc, "notes").message


# ------------------------------------------------------------------ JSON, password, read only

@pytest.mark.parametrize("value", [{"a": [1, 2, {"b": None}], "ü": "ß"}, [1, "two", 3.5], "x"])
def test_json_round_trip(session, customer, value):
    doc = customer(settings=value if value != "x" else '{"from": "text"}')
    expected = value if value != "x" else {"from": "text"}
    assert session.get_doc("Test Customer", doc.name).settings == expected


def test_json_refuses_invalid_text(customer):
    with pytest.raises(InvalidValueError) as exc:
        customer(settings="{not json")
    assert "Settings" in _error(exc, "settings").message


def test_password_never_in_clear(site, session, customer):
    doc = customer(api_secret="s3cret-value")
    stored = _raw(site, "Test Customer", doc.name, "api_secret")
    assert stored.startswith("$argon2") and "s3cret-value" not in stored
    assert verify_password(stored, "s3cret-value")
    assert not verify_password(stored, "wrong")
    loaded = session.get_doc("Test Customer", doc.name)
    assert "s3cret-value" not in repr(loaded.as_dict())
    assert loaded.as_dict()["api_secret"] == "********"
    assert loaded.check_password("api_secret", "s3cret-value")

    # A form sends back the mask it was shown: the password stays.
    loaded.update(loaded.as_dict())
    loaded.visits = 2
    loaded.save()
    assert _raw(site, "Test Customer", doc.name, "api_secret") == stored

    # Sending an empty value also keeps it; a new value replaces it.
    loaded.api_secret = ""
    loaded.save()
    assert _raw(site, "Test Customer", doc.name, "api_secret") == stored
    loaded.api_secret = "new-secret"
    loaded.save()
    changed = _raw(site, "Test Customer", doc.name, "api_secret")
    assert changed != stored and verify_password(changed, "new-secret")


def test_password_mask_is_never_a_password(site, session):
    doc = session.insert("Test Customer", customer_name="Acme", api_secret="********")
    assert _raw(site, "Test Customer", doc.name, "api_secret") is None


def test_password_not_rehashed_when_a_write_is_retried(site, session, register_hook):
    from engine import hookimpl

    class FailOnce:
        failed = False

        @hookimpl
        def validate(self, doc, ctx):
            if not FailOnce.failed:
                FailOnce.failed = True
                raise InvalidValueError("try again")

    register_hook("Test Customer", FailOnce())
    doc = session.new_doc("Test Customer", customer_name="Acme", api_secret="pw-1")
    with pytest.raises(InvalidValueError):
        doc.insert()
    doc.insert()
    assert verify_password(_raw(site, "Test Customer", doc.name, "api_secret"), "pw-1")


def test_read_only_fields(session):
    session.insert("Test Group", group_name="All", is_group=1, default_rate="7.5")
    doc = session.insert("Test Customer", customer_name="Acme", test_group="All", group_rate="99")
    assert doc.display == "Acme (Company)"  # set by tests/app/hooks/test_customer.py
    assert doc.group_rate == Decimal("7.50")  # fetched; what the caller sent is overwritten
    assert session.get_doc("Test Customer", "Acme").display == "Acme (Company)"


# ------------------------------------------------------------------ defaults and conditions

def test_defaults(session):
    doc = session.insert("Test Customer", customer_name="Acme", rows=[{"item": "a"}])
    assert doc.since == dt.date.today()
    assert doc.is_frozen == 0
    assert doc.customer_type == "Company"
    assert doc.rows[0].qty == 1
    loaded = session.get_doc("Test Customer", "Acme")
    assert (loaded.since, loaded.is_frozen, loaded.rows[0].qty) == (dt.date.today(), 0, 1)


def test_defaults_do_not_override_given_values(session):
    doc = session.insert("Test Customer", customer_name="Acme", is_frozen=1, since="2020-01-01",
                         rows=[{"item": "a", "qty": 5}])
    assert (doc.is_frozen, doc.since, doc.rows[0].qty) == (1, dt.date(2020, 1, 1), 5)


def test_mandatory_depends_on(site, session):
    with pytest.raises(MandatoryError) as exc:
        session.insert("Test Customer", customer_name="Ann", customer_type="Individual")
    err = _error(exc, "first_name")
    assert err.label == "First Name"
    assert err.message == "Test Customer: First Name is required"
    assert _count(site, "Test Customer") == 0
    session.insert("Test Customer", customer_name="Ann", customer_type="Individual", first_name="Ann")
    session.insert("Test Customer", customer_name="Corp", customer_type="Company")
    assert _count(site, "Test Customer") == 2


def test_fetch_from(session):
    session.insert("Test Group", group_name="All", is_group=1, default_rate="5")
    session.insert("Test Group", group_name="Retail", parent_test_group="All", default_rate="2.5")
    doc = session.insert("Test Customer", customer_name="Acme", test_group="all")
    assert doc.test_group == "All"
    assert doc.group_rate == Decimal("5.00")
    doc.test_group = "Retail"
    doc.save()
    assert session.get_doc("Test Customer", "Acme").group_rate == Decimal("2.50")
    doc.test_group = None
    doc.save()
    assert session.get_doc("Test Customer", "Acme").group_rate is None

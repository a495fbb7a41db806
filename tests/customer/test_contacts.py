"""Contacts: links to customers and suppliers, one primary contact per party, portal users, works-at persons."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from engine import hookimpl
from engine.documents.hooks import _import_package
from engine.errors import ValidationError

HOOKS = Path(__file__).resolve().parent.parent.parent / "hooks"


def parties():
    """The app's hooks/_parties.py, as the site loaded it."""
    return importlib.import_module(_import_package(HOOKS) + "._parties")


def _customer(cm, name: str, **values):
    return cm.insert("Customer", customer_name=name, **values)


def _contact(cm, first: str, *links: tuple[str, str], last: str | None = None, **values):
    rows = [{"link_doctype": dt, "link_name": name, **extra} for dt, name, *rest in links
            for extra in (rest[0] if rest else {},)]
    return cm.insert("Contact", {"first_name": first, "last_name": last, "links": rows, **values})


def _primary(cm, doctype: str, party: str) -> list[str]:
    """Every contact flagged primary for the party (should be exactly one)."""
    rows = cm.get_list("Contact", fields=["name", "links.link_doctype as dt", "links.link_name as ln",
                                          "links.is_primary_contact as p"])
    return sorted(r["name"] for r in rows if r["dt"] == doctype and r["ln"] == party and r["p"])


def test_full_name_names_the_contact_and_email_is_lowercased(cm):
    c = cm.insert("Contact", first_name=" Jane ", last_name="Doe", email_id="Jane.Doe@Acme.Example")
    assert (c.name, c.full_name, c.email_id) == ("Jane Doe", "Jane Doe", "jane.doe@acme.example")
    assert cm.insert("Contact", first_name="Jane", last_name="Doe").name == "Jane Doe-1"
    assert cm.insert("Contact", first_name="Solo").name == "Solo"


def test_invalid_email_is_refused(cm):
    with pytest.raises(ValidationError, match="Email"):
        cm.insert("Contact", first_name="Bad", email_id="not-an-email")
    assert cm.get_count("Contact") == 0


def test_links_to_customer_and_supplier_fill_link_title(cm):
    _customer(cm, "Acme Corp")
    cm.insert("Supplier", supplier_name="Parts Ltd")
    c = _contact(cm, "Jane", ("Customer", "acme corp"), ("Supplier", "Parts Ltd"))
    assert [(r.link_doctype, r.link_name, r.link_title) for r in c.links] == [
        ("Customer", "Acme Corp", "Acme Corp"), ("Supplier", "Parts Ltd", "Parts Ltd")]
    # the shared contact is the primary of both parties
    assert _primary(cm, "Customer", "Acme Corp") == ["Jane"]
    assert _primary(cm, "Supplier", "Parts Ltd") == ["Jane"]


def test_only_customer_and_supplier_links_are_allowed(cm):
    with pytest.raises(ValidationError) as exc:
        _contact(cm, "Jane", ("Customer Group", "All Customer Groups"))
    assert "Link Document Type 'Customer Group' is not allowed" in str(exc.value)
    assert "only to Customer or Supplier" in str(exc.value)
    assert cm.get_count("Contact") == 0


def test_duplicate_link_rows_are_refused(cm):
    _customer(cm, "Acme Corp")
    with pytest.raises(ValidationError) as exc:
        _contact(cm, "Jane", ("Customer", "Acme Corp"), ("Customer", "ACME CORP"))
    assert "row 2 of Links" in str(exc.value) and "already linked in row 1" in str(exc.value)
    assert cm.get_count("Contact") == 0


def test_link_to_missing_customer_is_refused(cm):
    with pytest.raises(ValidationError, match="Nobody"):
        _contact(cm, "Jane", ("Customer", "Nobody"))
    assert cm.get_count("Contact") == 0


def test_first_contact_becomes_primary_then_new_primary_clears_the_old(cm):
    _customer(cm, "Acme Corp")
    _customer(cm, "Globex")
    _contact(cm, "Jane", ("Customer", "Acme Corp"))
    raj = _contact(cm, "Raj", ("Customer", "Acme Corp"), ("Customer", "Globex"))
    assert _primary(cm, "Customer", "Acme Corp") == ["Jane"]
    assert _primary(cm, "Customer", "Globex") == ["Raj"]   # first contact of Globex
    assert [r.is_primary_contact for r in raj.links] == [0, 1]

    raj.links[0].is_primary_contact = 1
    raj.save()
    assert _primary(cm, "Customer", "Acme Corp") == ["Raj"]
    assert cm.get_doc("Contact", "Jane").links[0].is_primary_contact == 0
    # a third contact set primary at insert takes over too
    _contact(cm, "Kim", ("Customer", "Acme Corp", {"is_primary_contact": 1}))
    assert _primary(cm, "Customer", "Acme Corp") == ["Kim"]


def test_primary_change_rolls_back_with_a_failing_save(cm):
    _customer(cm, "Acme Corp")
    _contact(cm, "Jane", ("Customer", "Acme Corp"))
    with pytest.raises(ValidationError):
        _contact(cm, "Raj", ("Customer", "Acme Corp", {"is_primary_contact": 1}), ("Customer", "Missing"))
    assert _primary(cm, "Customer", "Acme Corp") == ["Jane"]
    assert cm.get_count("Contact") == 1


def test_deleting_or_unlinking_the_primary_promotes_the_most_recently_modified(cm):
    _customer(cm, "Acme Corp")
    _contact(cm, "Jane", ("Customer", "Acme Corp"))
    _contact(cm, "Raj", ("Customer", "Acme Corp"))
    kim = _contact(cm, "Kim", ("Customer", "Acme Corp"))
    raj = cm.get_doc("Contact", "Raj")
    raj.designation = "Buyer"
    raj.save()                                  # Raj is now the most recently modified
    cm.delete_doc("Contact", "Jane")
    assert _primary(cm, "Customer", "Acme Corp") == ["Raj"]

    raj = cm.get_doc("Contact", "Raj")
    raj.links = []
    raj.save()                                  # unlinked: the remaining Kim takes over
    assert _primary(cm, "Customer", "Acme Corp") == ["Kim"]
    kim.reload()
    assert kim.links[0].is_primary_contact == 1


def test_taking_the_flag_off_moves_it_to_another_contact_but_the_only_contact_stays_primary(cm):
    _customer(cm, "Acme Corp")
    jane = _contact(cm, "Jane", ("Customer", "Acme Corp"))
    jane.links[0].is_primary_contact = 0
    jane.save()
    assert _primary(cm, "Customer", "Acme Corp") == ["Jane"]   # exactly one primary per party
    _contact(cm, "Raj", ("Customer", "Acme Corp"))
    jane = cm.get_doc("Contact", "Jane")
    jane.links[0].is_primary_contact = 0
    jane.save()
    assert _primary(cm, "Customer", "Acme Corp") == ["Raj"]


def test_deleting_a_customer_unlinks_its_contacts_and_deletes_orphans(cm):
    _customer(cm, "Acme Corp")
    cm.insert("Supplier", supplier_name="Parts Ltd")
    _contact(cm, "Jane", ("Customer", "Acme Corp"))
    _contact(cm, "Raj", ("Customer", "Acme Corp"), ("Supplier", "Parts Ltd"))
    cm.delete_doc("Customer", "Acme Corp")
    assert not cm.exists("Contact", "Jane")  # linked to nothing else: deleted with the customer
    raj = cm.get_doc("Contact", "Raj")
    assert [(r.link_doctype, r.link_name) for r in raj.links] == [("Supplier", "Parts Ltd")]


def test_deleting_a_customer_is_one_transaction(cm, site_hook):
    _customer(cm, "Acme Corp")
    _contact(cm, "Jane", ("Customer", "Acme Corp"))

    class Refuse:
        @hookimpl
        def after_delete(self, doc):
            raise ValidationError("refused by test")

    site_hook("Customer", Refuse())
    with pytest.raises(ValidationError, match="refused by test"):
        cm.delete_doc("Customer", "Acme Corp")
    assert cm.exists("Customer", "Acme Corp")
    assert [r.link_name for r in cm.get_doc("Contact", "Jane").links] == ["Acme Corp"]


def test_renamed_party_title_follows_on_contacts(cm):
    cm.insert("Supplier", supplier_name="Parts Ltd")
    _contact(cm, "Jane", ("Supplier", "Parts Ltd"))
    supplier = cm.get_doc("Supplier", "Parts Ltd")
    supplier.supplier_name = "Parts Limited"
    supplier.save()
    assert cm.get_doc("Contact", "Jane").links[0].link_title == "Parts Limited"


def test_customers_for_user(cm_site, cm):
    _customer(cm, "Acme Corp")
    _customer(cm, "Globex")
    _customer(cm, "Initech")
    user = cm.insert("User", {"name": "jane@acme.example", "email": "jane@acme.example", "full_name": "Jane Doe"})
    cm.insert("Supplier", supplier_name="Parts Ltd")
    _contact(cm, "Jane", ("Customer", "Acme Corp"), ("Customer", "Globex"), ("Supplier", "Parts Ltd"), user=user.name)
    _contact(cm, "Other", ("Customer", "Initech"))
    assert parties().customers_for_user(cm, user.name) == ["Acme Corp", "Globex"]
    assert parties().customers_for_user(cm, "nobody@example.com") == []


def test_contact_persons_are_individuals_working_at_the_company(cm_site, cm):
    _customer(cm, "Acme Corp")
    _customer(cm, "Globex")
    cm.insert("Customer", customer_type="Individual", first_name="Jane", last_name="Doe", works_at="Acme Corp")
    cm.insert("Customer", customer_type="Individual", first_name="Al", last_name="Bo", works_at="Acme Corp")
    cm.insert("Customer", customer_type="Individual", first_name="Gil", last_name="Ex", works_at="Globex")
    assert parties().contact_persons(cm, "Acme Corp") == ["Al Bo", "Jane Doe"]
    assert parties().contact_persons(cm, "Initech") == []


def test_contact_user_must_exist(cm):
    with pytest.raises(ValidationError, match=r"ghost@example\.com"):
        cm.insert("Contact", first_name="Jane", user="ghost@example.com")
    assert cm.get_count("Contact") == 0


def test_supplier_is_named_by_its_name(cm):
    assert cm.insert("Supplier", supplier_name="  Parts   Ltd ").name == "Parts Ltd"
    assert cm.insert("Supplier", supplier_name="Parts Ltd").name == "Parts Ltd-1"
    with pytest.raises(ValidationError, match="Supplier Name"):
        cm.insert("Supplier", country="Germany")


@pytest.mark.slow
def test_concurrent_first_contacts_give_exactly_one_primary(cm_site, cm):
    import threading

    _customer(cm, "Acme Corp")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            with cm_site.session() as s:
                barrier.wait()
                s.insert("Contact", first_name=f"P{i}", links=[{"link_doctype": "Customer", "link_name": "Acme Corp"}])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cm.get_count("Contact") == 4
    assert len(_primary(cm, "Customer", "Acme Corp")) == 1


@pytest.fixture
def site_hook(cm_site):
    registered = []

    def register(doctype, plugin):
        cm_site.hooks.register(doctype, plugin)
        registered.append(plugin)

    yield register
    for plugin in registered:
        cm_site.hooks.unregister(plugin)

"""Addresses and customer sites: party links, default billing/shipping per party, site numbers and purposes."""

from __future__ import annotations

import pytest

from engine.errors import ValidationError


def _address(cm, title: str, *links, address_type: str = "Billing", **values):
    rows = []
    for link in links:
        doctype, name, *rest = link
        rows.append({"link_doctype": doctype, "link_name": name, **(rest[0] if rest else {})})
    return cm.insert("Address", {"address_title": title, "address_type": address_type, "address_line1": "1 Main St",
                                 "city": "Springfield", "country": "United States", "links": rows, **values})


def _defaults(cm, doctype: str, party: str, flag: str) -> list[str]:
    rows = cm.get_list("Address", fields=["name", "links.link_doctype as dt", "links.link_name as ln",
                                          f"links.{flag} as f"])
    return sorted(r["name"] for r in rows if r["dt"] == doctype and r["ln"] == party and r["f"])


@pytest.fixture
def acme(cm):
    return cm.insert("Customer", customer_name="Acme Corp", tax_id="US-111")


def test_naming_and_required_fields(cm):
    a = _address(cm, "Acme HQ")
    assert a.name == "Acme HQ-Billing"
    assert _address(cm, "Acme HQ").name == "Acme HQ-Billing-1"
    with pytest.raises(ValidationError) as exc:
        cm.insert("Address", address_title="X", address_type="Billing")
    assert {e.field for e in exc.value.errors} >= {"address_line1", "city", "country"}
    assert cm.get_count("Address") == 2


def test_address_shared_by_customer_and_supplier(cm, acme):
    cm.insert("Supplier", supplier_name="Parts Ltd")
    a = _address(cm, "Shared Depot", ("Customer", "Acme Corp"), ("Supplier", "parts ltd"))
    assert [(r.link_name, r.link_title) for r in a.links] == [("Acme Corp", "Acme Corp"), ("Parts Ltd", "Parts Ltd")]
    assert _defaults(cm, "Supplier", "Parts Ltd", "is_default_billing") == ["Shared Depot-Billing"]


def test_only_parties_and_no_duplicates(cm, acme):
    with pytest.raises(ValidationError, match="only to Customer or Supplier"):
        _address(cm, "Bad", ("Territory", "All Territories"))
    with pytest.raises(ValidationError, match="each party may be linked only once"):
        _address(cm, "Dup", ("Customer", "Acme Corp"), ("Customer", "acme corp"))
    assert cm.get_count("Address") == 0


def test_first_billing_and_shipping_addresses_become_defaults(cm, acme):
    office = _address(cm, "Office", ("Customer", "Acme Corp"), address_type="Office")
    assert (office.links[0].is_default_billing, office.links[0].is_default_shipping) == (0, 0)
    bill = _address(cm, "Bill", ("Customer", "Acme Corp"))
    ship = _address(cm, "Ship", ("Customer", "Acme Corp"), address_type="Shipping")
    both = _address(cm, "Plant", ("Customer", "Acme Corp"), address_type="Office", site_purpose="Bill-To and Ship-To")
    assert (bill.links[0].is_default_billing, bill.links[0].is_default_shipping) == (1, 0)
    assert (ship.links[0].is_default_billing, ship.links[0].is_default_shipping) == (0, 1)
    assert (both.links[0].is_default_billing, both.links[0].is_default_shipping) == (0, 0)  # the party had both
    assert _defaults(cm, "Customer", "Acme Corp", "is_default_billing") == ["Bill-Billing"]
    assert _defaults(cm, "Customer", "Acme Corp", "is_default_shipping") == ["Ship-Shipping"]


def test_site_purpose_makes_an_office_address_default(cm, acme):
    site = _address(cm, "Plant", ("Customer", "Acme Corp"), address_type="Office", site_purpose="Bill-To and Ship-To")
    assert (site.links[0].is_default_billing, site.links[0].is_default_shipping) == (1, 1)


def test_new_default_clears_the_old_in_one_transaction(cm, acme):
    _address(cm, "Bill", ("Customer", "Acme Corp"))
    second = _address(cm, "Bill 2", ("Customer", "Acme Corp", {"is_default_billing": 1}))
    assert _defaults(cm, "Customer", "Acme Corp", "is_default_billing") == [second.name]
    assert cm.get_doc("Address", "Bill-Billing").links[0].is_default_billing == 0
    # a failing save leaves the old default in place
    with pytest.raises(ValidationError):
        _address(cm, "Bill 3", ("Customer", "Acme Corp", {"is_default_billing": 1}), ("Customer", "Missing"))
    assert _defaults(cm, "Customer", "Acme Corp", "is_default_billing") == [second.name]


def test_deleting_the_default_promotes_the_most_recently_modified_eligible_address(cm, acme):
    _address(cm, "Bill", ("Customer", "Acme Corp"))
    _address(cm, "Bill 2", ("Customer", "Acme Corp"))
    _address(cm, "Office", ("Customer", "Acme Corp"), address_type="Office")   # not eligible for billing
    older = cm.get_doc("Address", "Bill 2-Billing")
    older.address_line2 = "Floor 2"
    older.save()
    cm.get_doc("Address", "Office-Office").save()
    cm.delete_doc("Address", "Bill-Billing")
    assert _defaults(cm, "Customer", "Acme Corp", "is_default_billing") == ["Bill 2-Billing"]
    # unlinking the default: no eligible address remains, so there is none
    doc = cm.get_doc("Address", "Bill 2-Billing")
    doc.links = []
    doc.save()
    assert _defaults(cm, "Customer", "Acme Corp", "is_default_billing") == []


def test_ship_to_site_cannot_be_default_billing_and_vice_versa(cm, acme):
    with pytest.raises(ValidationError) as exc:
        _address(cm, "Dock", ("Customer", "Acme Corp", {"is_default_billing": 1}), address_type="Shipping",
                 site_purpose="Ship-To")
    assert "Site Purpose 'Ship-To' cannot be the default billing address" in str(exc.value)
    with pytest.raises(ValidationError, match="Site Purpose 'Bill-To' cannot be the default shipping address"):
        _address(cm, "AP", ("Customer", "Acme Corp", {"is_default_shipping": 1}), site_purpose="Bill-To")
    assert cm.get_count("Address") == 0
    # a Billing-type address with a Ship-To purpose does not become the default billing address by itself
    dock = _address(cm, "Dock", ("Customer", "Acme Corp"), address_type="Billing", site_purpose="Ship-To")
    assert (dock.links[0].is_default_billing, dock.links[0].is_default_shipping) == (0, 1)


def test_site_number_unique_per_customer(cm, acme):
    cm.insert("Customer", customer_name="Globex")
    _address(cm, "Plant A", ("Customer", "Acme Corp"), site_number="S-01", site_name="Plant A")
    _address(cm, "Globex Plant", ("Customer", "Globex"), site_number="S-01")    # another customer: fine
    _address(cm, "Plant B", ("Customer", "Acme Corp"), site_number="S-02")
    with pytest.raises(ValidationError) as exc:
        _address(cm, "Plant C", ("Customer", "Acme Corp"), site_number="s-01")
    message = str(exc.value)
    assert "Site Number 's-01'" in message and "'Acme Corp'" in message and "unique per customer" in message
    assert exc.value.errors[0].field == "site_number"
    assert cm.get_count("Address") == 3
    # saving the site itself again is fine; changing to a taken number is not
    b = cm.get_doc("Address", "Plant B-Billing")
    b.save()
    b.site_number = "S-01"
    with pytest.raises(ValidationError, match="unique per customer"):
        b.save()
    assert cm.get_value("Address", "Plant B-Billing", "site_number") == "S-02"
    # linking an existing site to a customer that already has its number is refused too
    g = cm.get_doc("Address", "Globex Plant-Billing")
    g.append("links", {"link_doctype": "Customer", "link_name": "Acme Corp"})
    with pytest.raises(ValidationError, match="already used by address 'Plant A-Billing' of customer 'Acme Corp'"):
        g.save()

"""The one defaults resolver (SPEC 3.6): every value with its source."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest

from engine.documents.hooks import _import_package
from engine.errors import ValidationError

HOOKS = Path(__file__).resolve().parent.parent.parent / "hooks"
POSTING = dt.date(2026, 3, 10)


def resolve(cm, customer: str, company: str | None = "Acme Trading", posting_date=POSTING) -> dict:
    module = importlib.import_module(_import_package(HOOKS) + "._defaults")
    return module.resolve_defaults(cm, customer, company, posting_date)


@pytest.fixture
def setup(cm):
    for code in ("EUR", "USD"):  # standard records; installed by migrate
        if not cm.exists("Currency", code):
            cm.insert("Currency", name=code, currency_name=code)
    cm.insert("Company", company_name="Acme Trading", abbr="AT", default_currency="EUR")
    cm.insert("Payment Terms Template", template_name="Net 30", credit_days=30)
    cm.insert("Payment Terms Template", template_name="Net 14", credit_days=14)
    cm.insert("Price List", price_list_name="Wholesale USD", currency="USD")
    cm.insert("Price List", price_list_name="Retail EUR", currency="EUR")
    cm.insert("Customer Group", customer_group_name="Retail", parent_customer_group="All Customer Groups",
              payment_terms="Net 14", price_lists=[{"price_list": "Retail EUR"}])
    return cm


def test_minimal_customer_falls_back_to_system_and_company(setup):
    cm = setup
    cm.insert("Customer", customer_name="Plain")
    d = resolve(cm, "Plain")
    assert d["price_list"] == {"value": "Standard Selling", "source": "system"}
    assert d["currency"] == {"value": "EUR", "source": "company:Acme Trading"}
    assert d["payment_terms"]["value"] is None
    assert d["due_date"] == {"value": POSTING, "source": "system"}
    assert d["contact_person"]["value"] is None
    assert d["billing_address"]["value"] is None and d["shipping_address"]["value"] is None
    assert d["tax_id"]["value"] is None
    assert d["sales_partner"]["value"] is None and d["sales_team"]["value"] == []


def test_group_values_name_the_group(setup):
    cm = setup
    cm.insert("Customer", customer_name="Shop", customer_group="Retail")
    d = resolve(cm, "Shop")
    assert d["price_list"] == {"value": "Retail EUR", "source": "customer_group:Retail"}
    assert d["currency"] == {"value": "EUR", "source": "price_list:Retail EUR"}
    assert d["payment_terms"] == {"value": "Net 14", "source": "customer_group:Retail"}
    assert d["due_date"] == {"value": POSTING + dt.timedelta(days=14), "source": "customer_group:Retail"}


def test_customer_values_win(setup):
    cm = setup
    cm.insert("Sales Person", sales_person_name="Ann", parent_sales_person="Sales Team")
    cm.insert("Sales Partner", partner_name="Resell Co", commission_rate=5)
    cm.insert("Customer", customer_name="Big", customer_group="Retail", default_currency="USD",
              price_lists=[{"price_list": "Wholesale USD"}], payment_terms="Net 30", tax_id="US-123",
              default_sales_partner="Resell Co",
              sales_team=[{"sales_person": "Ann", "allocated_percentage": 100, "commission_rate": 2}])
    d = resolve(cm, "Big")
    assert d["price_list"] == {"value": "Wholesale USD", "source": "customer"}
    assert d["currency"] == {"value": "USD", "source": "customer"}
    assert d["payment_terms"] == {"value": "Net 30", "source": "customer"}
    assert d["due_date"]["value"] == POSTING + dt.timedelta(days=30)
    assert d["tax_id"] == {"value": "US-123", "source": "customer"}
    assert d["sales_partner"] == {"value": "Resell Co", "source": "customer"}
    assert d["sales_team"]["source"] == "customer"
    assert [(r["sales_person"], r["allocated_percentage"]) for r in d["sales_team"]["value"]] == [("Ann", 100)]


def test_contact_and_addresses_and_site_tax_registration(setup):
    cm = setup
    cm.insert("Customer", customer_name="Big", tax_id="US-123")
    link = [{"link_doctype": "Customer", "link_name": "Big"}]
    base = {"address_line1": "1 Main St", "city": "Springfield", "country": "United States"}
    cm.insert("Contact", first_name="Jane", last_name="Doe", links=link)
    cm.insert("Contact", first_name="Raj", links=link)
    cm.insert("Address", address_title="Dock", address_type="Shipping", links=link, **base)
    d = resolve(cm, "Big")
    assert d["contact_person"] == {"value": "Jane Doe", "source": "primary contact of Big"}
    assert d["contact_person_options"]["value"]["contacts"] == ["Jane Doe", "Raj"]
    assert d["shipping_address"]["value"] == "Dock-Shipping"
    assert d["billing_address"]["value"] is None
    assert d["tax_id"] == {"value": "US-123", "source": "customer"}

    cm.insert("Address", address_title="HQ", address_type="Office", site_number="S1", site_purpose="Bill-To",
              tax_registration="US-999", links=link, **base)
    d = resolve(cm, "Big")
    assert d["billing_address"] == {"value": "HQ-Office", "source": "default billing address of Big"}
    assert d["tax_id"] == {"value": "US-999", "source": "site"}


def test_works_at_persons_are_offered_and_cannot_be_invoiced(setup):
    cm = setup
    cm.insert("Customer", customer_name="Big")
    jane = cm.insert("Customer", customer_type="Individual", first_name="Jane", last_name="Doe", works_at="Big")
    d = resolve(cm, "Big")
    assert d["contact_person_options"]["value"]["customers"] == [jane.name]
    with pytest.raises(ValidationError) as exc:
        resolve(cm, jane.name)
    assert f"Customer {jane.name!r}" in str(exc.value) and "works at 'Big'" in str(exc.value)


def test_disabled_or_missing_customer_is_refused(setup):
    cm = setup
    cm.insert("Customer", customer_name="Gone", disabled=1)
    with pytest.raises(ValidationError, match="'Gone': it is disabled"):
        resolve(cm, "Gone")
    with pytest.raises(ValidationError, match="'Nobody' does not exist"):
        resolve(cm, "Nobody")

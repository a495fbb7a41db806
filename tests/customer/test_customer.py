"""Customer identity, tax ID and bank accounts, works-at persons, the anonymous POS customer."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from engine import Site
from engine.errors import DocframeError, UniqueValidationError, ValidationError
from engine.site.session import Session

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

if TYPE_CHECKING:
    from tests.conftest import IsolatedDatabases


def count(cm: Session, doctype: str) -> int:
    return cm.get_count(doctype)


def child_count(cm: Session, doctype: str) -> int:
    t = cm.site.table(doctype)
    return cm.conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()


def refused(cm: Session, doctype: str, *words: str, kind: type[DocframeError] = ValidationError,
            **values: object) -> DocframeError:
    """Insert must fail with a message containing every word, and write nothing."""
    before = count(cm, doctype)
    with pytest.raises(kind) as exc:
        cm.insert(doctype, values)
    for word in words:
        assert word in exc.value.message, (word, exc.value.message)
    assert count(cm, doctype) == before
    return exc.value


# ------------------------------------------------------------------ identity
def test_company_customer_id_is_its_name_with_suffix_for_duplicates(cm: Session) -> None:
    a = cm.insert("Customer", customer_name="Acme", legal_form="GmbH")
    b = cm.insert("Customer", customer_name="Acme")
    assert (a.name, b.name) == ("Acme", "Acme-1")
    assert a.customer_type == "Company" and a.legal_form == "GmbH"


def test_individual_name_is_first_and_last_and_stays_in_sync_but_id_does_not_change(cm: Session) -> None:
    p = cm.insert("Customer", customer_type="Individual", first_name="Jane", last_name="Doe")
    assert p.name == "Jane Doe" and p.customer_name == "Jane Doe"
    q = cm.insert("Customer", customer_type="Individual", first_name="Jane", last_name="Doe")
    assert q.name == "Jane Doe-1"
    p.last_name = "Roe"
    p.save()
    again = cm.get_doc("Customer", "Jane Doe")
    assert again.customer_name == "Jane Roe" and again.name == "Jane Doe"


def test_individual_needs_first_and_last_name(cm: Session) -> None:
    exc = refused(cm, "Customer", "Last Name", customer_type="Individual", first_name="Jane", customer_name="Jane")
    assert {e.field for e in exc.errors} == {"last_name"}
    refused(cm, "Customer", "First Name", customer_type="Individual", last_name="Doe", customer_name="Doe")


def test_company_needs_a_name_and_legal_form_is_only_for_companies(cm: Session) -> None:
    refused(cm, "Customer", "Customer Name", customer_type="Company")
    refused(cm, "Customer", "Legal Form", "GmbH", "only for a Company", customer_type="Individual",
            first_name="Jane", last_name="Doe", legal_form="GmbH")
    refused(cm, "Customer", "First Name", "only for an Individual", customer_name="Acme", first_name="Jane")
    refused(cm, "Customer", "Legal Form", "Corp", customer_name="Acme", legal_form="Corp")


def test_customer_type_is_set_once(cm: Session) -> None:
    c = cm.insert("Customer", customer_name="Acme")
    c.customer_type = "Individual"
    c.first_name, c.last_name = "Ac", "Me"
    with pytest.raises(ValidationError) as exc:
        c.save()
    assert "Customer Type" in exc.value.message
    assert cm.get_value("Customer", "Acme", "customer_type") == "Company"


def test_customer_number_is_unique_and_names_are_searchable(cm: Session) -> None:
    cm.insert("Customer", customer_name="Acme", customer_number="C-1", alternate_name="ACME Ltd")
    refused(cm, "Customer", "Customer Number", "C-1", kind=UniqueValidationError, customer_name="Other",
            customer_number="C-1")
    meta = cm.site.doctypes["Customer"]
    assert {"customer_name", "customer_number", "alternate_name"} <= set(meta.search_fields)
    found = cm.get_list("Customer", or_filters={f: ["like", "%acme ltd%"] for f in meta.search_fields}, pluck="name")
    assert found == ["Acme"]


# ------------------------------------------------------------------ tax ID, bank accounts
def test_eu_vat_numbers_are_checked_by_checksum(cm: Session) -> None:
    ok = cm.insert("Customer", customer_name="Muster AG", country="Germany", tax_id="DE 136 695 976")
    assert ok.tax_id == "DE 136 695 976"
    assert cm.insert("Customer", customer_name="Muster 2", country="DE", tax_id="136695976").name == "Muster 2"
    refused(cm, "Customer", "Tax ID", "DE 136 695 977", "Germany", customer_name="Bad", tax_id="DE 136 695 977")
    refused(cm, "Customer", "Tax ID", "12345", customer_name="Bad", country="France", tax_id="12345")
    # no rule for the country: stored as given
    assert cm.insert("Customer", customer_name="US Inc", country="United States", tax_id="12-3456789").tax_id


def test_bank_accounts_iban_bic_and_one_default(cm: Session) -> None:
    c = cm.insert("Customer", customer_name="Acme", bank_accounts=[
        {"bank_name": "Deutsche Bank", "iban": "DE89 3704 0044 0532 0130 00", "bic": "DEUTDEFF", "is_default": 1},
        {"bank_name": "Other", "iban": "GB82WEST12345698765432"}])
    assert [r.iban for r in c.bank_accounts] == ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32"]
    rows = child_count(cm, "Customer Bank Account")
    refused(cm, "Customer", "IBAN", "DE89 3704 0044 0532 0130 01", "checksum", customer_name="Bad",
            bank_accounts=[{"iban": "DE89 3704 0044 0532 0130 01"}])
    refused(cm, "Customer", "BIC", "DEUT", customer_name="Bad", bank_accounts=[{"bic": "DEUT"}])
    refused(cm, "Customer", "at most one may be the default", customer_name="Bad",
            bank_accounts=[{"iban": "DE89370400440532013000", "is_default": 1},
                           {"iban": "GB82WEST12345698765432", "is_default": 1}])
    assert child_count(cm, "Customer Bank Account") == rows


# ------------------------------------------------------------------ works at
def test_works_at_person_is_hidden_from_pickers_and_not_invoiceable(cm: Session, selling: ModuleType) -> None:
    cm.insert("Customer", customer_name="Acme")
    cm.insert("Customer", customer_name="Old Co", disabled=1)
    p = cm.insert("Customer", customer_type="Individual", first_name="Jane", last_name="Doe", works_at="Acme")
    cm.insert("Customer", customer_type="Individual", first_name="Solo", last_name="Buyer")
    listed = cm.get_list("Customer", filters=selling.customer_picker_filters(), pluck="name", order_by="name asc")
    assert listed == ["Acme", "Solo Buyer"]
    assert selling.is_invoiceable(cm, "Acme") and selling.is_invoiceable(cm, "Solo Buyer")
    assert not selling.is_invoiceable(cm, p.name) and not selling.is_invoiceable(cm, "Old Co")
    p.works_at = None
    p.save()
    assert selling.is_invoiceable(cm, p.name)


def test_works_at_must_point_to_a_company_and_only_for_individuals(cm: Session) -> None:
    cm.insert("Customer", customer_name="Acme")
    cm.insert("Customer", customer_type="Individual", first_name="Solo", last_name="Buyer")
    refused(cm, "Customer", "Works At", "Solo Buyer", "Company customer", customer_type="Individual",
            first_name="Jane", last_name="Doe", works_at="Solo Buyer")
    refused(cm, "Customer", "Works At", "only for an Individual", customer_name="Beta", works_at="Acme")
    refused(cm, "Customer", "Works At", "Nowhere", customer_type="Individual", first_name="Jane", last_name="Doe",
            works_at="Nowhere")
    p = cm.get_doc("Customer", "Solo Buyer")
    p.works_at = "Solo Buyer"
    with pytest.raises(ValidationError, match="the customer itself"):
        p.save()


def test_works_at_is_refused_once_the_person_has_invoices(databases: IsolatedDatabases, tmp_path: Path) -> None:
    """A submittable doctype linking to Customer stands in for Sales Invoice."""
    app = tmp_path / "app"
    for folder in ("doctypes", "hooks", "fixtures"):
        shutil.copytree(REPO_ROOT / folder, app / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (app / "doctypes" / "test_sales_invoice.yaml").write_text(
        "name: Test Sales Invoice\nmodule: Testing\nis_submittable: true\nnaming: {rule: hash}\nfields:\n"
        "  - {name: customer, type: Link, label: Customer, options: Customer, required: true}\n")
    site = Site(databases.new(), app)
    try:
        site.migrate()
        with site.session() as s:
            s.insert("Customer", customer_name="Acme")
            s.insert("Customer", customer_type="Individual", first_name="Jane", last_name="Doe")
            s.insert("Customer", customer_type="Individual", first_name="John", last_name="Roe")
            draft = s.insert("Test Sales Invoice", customer="John Roe")
            s.insert("Test Sales Invoice", customer="Jane Doe").submit()
            jane = s.get_doc("Customer", "Jane Doe")
            jane.works_at = "Acme"
            with pytest.raises(ValidationError, match=r"Works At 'Acme'.*already has invoices"):
                jane.save()
            assert s.get_value("Customer", "Jane Doe", "works_at") is None
            john = s.get_doc("Customer", "John Roe")  # only a draft: not an invoice yet
            john.works_at = "Acme"
            john.save()
            assert s.get_value("Customer", "John Roe", "works_at") == "Acme"
            assert draft.docstatus == 0
    finally:
        site.dispose()


# ------------------------------------------------------------------ anonymous POS customer, balance switch
def make_company(cm: Session, name: str = "Acme Holding", abbr: str = "AH") -> str:
    if not cm.exists("Currency", "EUR"):
        cm.insert("Currency", name="EUR", currency_name="Euro", symbol="€")
    return cm.insert("Company", company_name=name, abbr=abbr, default_currency="EUR").name


def test_one_anonymous_pos_customer_per_company(cm: Session) -> None:
    a, b = make_company(cm), make_company(cm, "Beta Shop", "BS")
    walk_in = cm.insert("Customer", customer_name="Walk-in", is_anonymous_pos=1, company=a, disable_balance=1)
    assert walk_in.is_anonymous_pos == 1 and walk_in.disable_balance == 1
    refused(cm, "Customer", "Anonymous POS Customer", "Walk-in", a, "at most one per company",
            customer_name="Walk-in 2", is_anonymous_pos=1, company=a)
    refused(cm, "Customer", "Company is required for an Anonymous POS Customer", customer_name="Walk-in 2",
            is_anonymous_pos=1)
    assert cm.insert("Customer", customer_name="Walk-in B", is_anonymous_pos=1, company=b).company == b
    walk_in.notes = "saving itself again is fine"
    walk_in.save()

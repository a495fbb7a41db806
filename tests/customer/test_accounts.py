"""A customer's receivable account per company, and its per-company association rows (SPEC 3.3)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from engine.errors import LinkExistsError, ValidationError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def _load_accounts_module():
    """hooks/_accounts.py, the module other slices call (association_for, require_association)."""
    spec = importlib.util.spec_from_file_location("h2_accounts_under_test", REPO_ROOT / "hooks" / "_accounts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


accounts = _load_accounts_module()


@pytest.fixture
def companies(cm):
    cm.insert("Company", company_name="Acme Holding", abbr="AC", default_currency="USD")
    cm.insert("Company", company_name="Acme Europe", abbr="AE", default_currency="EUR")
    return cm


def receivables(cm, party):
    return cm.get_list("Account", fields=["name", "company", "parent_account", "account_type", "party_type",
                                          "party", "account_name", "is_group", "root_type"],
                       filters={"party": party}, order_by="name asc")


def rows(doc):
    return [(r.company, r.account) for r in doc.accounts]


def test_saving_a_customer_with_a_company_creates_its_receivable_account(companies):
    cm = companies
    doc = cm.insert("Customer", customer_name="Globex", company="Acme Holding")
    assert rows(doc) == [("Acme Holding", "Globex - AC")]
    assert receivables(cm, "Globex") == [{
        "name": "Globex - AC", "company": "Acme Holding", "parent_account": "Accounts Receivable - AC",
        "account_type": "Receivable", "party_type": "Customer", "party": "Globex", "account_name": "Globex",
        "is_group": 0, "root_type": "Asset"}]
    assert rows(cm.get_doc("Customer", "Globex")) == [("Acme Holding", "Globex - AC")]  # stored, not just in memory


def test_customer_without_company_gets_no_account(companies):
    cm = companies
    doc = cm.insert("Customer", customer_name="Walk In")
    assert doc.accounts == [] and receivables(cm, "Walk In") == []


def test_saving_again_unchanged_creates_nothing(companies):
    cm = companies
    cm.insert("Customer", customer_name="Globex", company="Acme Holding")
    before = cm.get_count("Account")
    doc = cm.get_doc("Customer", "Globex")
    doc.notes = "called twice"
    doc.save()
    cm.get_doc("Customer", "Globex").save()
    assert cm.get_count("Account") == before
    assert rows(cm.get_doc("Customer", "Globex")) == [("Acme Holding", "Globex - AC")]


def test_changing_the_company_adds_an_account_and_keeps_the_old_one(companies):
    cm = companies
    cm.insert("Customer", customer_name="Globex", company="Acme Holding")
    cm.set_value("Customer", "Globex", {"company": "Acme Europe"})
    doc = cm.get_doc("Customer", "Globex")
    assert rows(doc) == [("Acme Holding", "Globex - AC"), ("Acme Europe", "Globex - AE")]
    assert [(a["name"], a["parent_account"]) for a in receivables(cm, "Globex")] == [
        ("Globex - AC", "Accounts Receivable - AC"), ("Globex - AE", "Accounts Receivable - AE")]
    cm.set_value("Customer", "Globex", {"company": "Acme Holding"})  # back again: nothing new
    assert len(receivables(cm, "Globex")) == 2 and len(cm.get_doc("Customer", "Globex").accounts) == 2


def test_suffixed_customer_ids_get_their_own_accounts(companies):
    cm = companies
    first = cm.insert("Customer", customer_name="John Smith", company="Acme Holding")
    second = cm.insert("Customer", customer_name="John Smith", company="Acme Holding")
    assert (first.name, second.name) == ("John Smith", "John Smith-1")
    assert rows(second) == [("Acme Holding", "John Smith-1 - AC")]
    assert cm.get_value("Account", "John Smith-1 - AC", "party") == "John Smith-1"
    assert rows(cm.get_doc("Customer", "John Smith-1")) == [("Acme Holding", "John Smith-1 - AC")]


def test_company_without_receivables_group_rejects_the_save_and_writes_nothing(companies):
    cm = companies
    cm.set_value("Company", "Acme Holding", {"receivables_group": None})
    accounts_before = cm.get_count("Account")
    with pytest.raises(ValidationError) as exc:
        cm.insert("Customer", customer_name="Globex", company="Acme Holding")
    message = str(exc.value)
    assert "Company 'Acme Holding' has no Receivables Group" in message and "Customer 'Globex'" in message
    assert exc.value.errors[0].field == "receivables_group"
    assert not cm.exists("Customer", "Globex")
    assert cm.get_count("Account") == accounts_before
    # an existing customer moved to that company: refused, nothing changed
    cm.insert("Customer", customer_name="Initech", company="Acme Europe")
    with pytest.raises(ValidationError, match="Company 'Acme Holding' has no Receivables Group"):
        cm.set_value("Customer", "Initech", {"company": "Acme Holding"})
    stored = cm.get_doc("Customer", "Initech")
    assert stored.company == "Acme Europe" and rows(stored) == [("Acme Europe", "Initech - AE")]
    assert cm.get_count("Account") == accounts_before + 1


def test_rows_without_account_get_one_and_rows_must_match_their_company(companies):
    cm = companies
    doc = cm.insert("Customer", customer_name="Globex", company="Acme Holding",
                    accounts=[{"company": "Acme Europe", "cash_account": "Cash - AE", "receipt_bank": "Deutsche Bank"}])
    assert sorted(rows(doc)) == [("Acme Europe", "Globex - AE"), ("Acme Holding", "Globex - AC")]
    assert doc.accounts[0].cash_account == "Cash - AE"

    bad = cm.new_doc("Customer", customer_name="Initech", company="Acme Holding", accounts=[
        {"company": "Acme Holding", "account": "Globex - AE"},  # another company's account
        {"company": "Acme Europe", "cash_account": "Sales - AE"},  # not a Cash/Bank account
    ])
    with pytest.raises(ValidationError) as exc:
        bad.insert()
    by_field = {e.field: e for e in exc.value.errors}
    assert set(by_field) == {"account", "cash_account"}
    assert (by_field["account"].row, by_field["cash_account"].row) == (1, 2)
    assert "Receivable Account 'Globex - AE' must be a Receivable ledger account of company 'Acme Holding'" in str(
        exc.value)
    assert "Cash Account 'Sales - AE' must be a Cash or Bank ledger account of company 'Acme Europe'" in str(exc.value)
    with pytest.raises(ValidationError, match="Company 'Acme Holding' is given twice"):
        cm.insert("Customer", customer_name="Initech",
                  accounts=[{"company": "Acme Holding"}, {"company": "Acme Holding"}])
    assert not cm.exists("Customer", "Initech") and receivables(cm, "Initech") == []


def test_renaming_a_customer_renames_its_accounts(companies):
    cm = companies
    cm.insert("Customer", customer_name="Globex", company="Acme Holding")
    cm.set_value("Customer", "Globex", {"company": "Acme Europe"})
    cm.rename_doc("Customer", "Globex", "Globex Corporation")
    assert [(a["name"], a["account_name"], a["party"]) for a in receivables(cm, "Globex Corporation")] == [
        ("Globex Corporation - AC", "Globex Corporation", "Globex Corporation"),
        ("Globex Corporation - AE", "Globex Corporation", "Globex Corporation")]
    assert not cm.exists("Account", "Globex - AC")
    doc = cm.get_doc("Customer", "Globex Corporation")
    assert rows(doc) == [("Acme Holding", "Globex Corporation - AC"), ("Acme Europe", "Globex Corporation - AE")]
    doc.save()  # still consistent: nothing new
    assert len(receivables(cm, "Globex Corporation")) == 2


def test_deleting_a_customer_deletes_its_receivable_accounts(companies):
    cm = companies
    chart = cm.get_count("Account")
    cm.insert("Customer", customer_name="Globex", company="Acme Holding")
    cm.set_value("Customer", "Globex", {"company": "Acme Europe"})
    assert cm.get_count("Account") == chart + 2
    cm.delete_doc("Customer", "Globex")
    assert not cm.exists("Customer", "Globex")
    assert cm.get_count("Account") == chart


def test_deleting_is_refused_while_another_record_links_to_the_account(companies):
    cm = companies
    cm.insert("Customer", customer_name="Globex", company="Acme Holding")
    holder = cm.insert("Company", company_name="Holder", abbr="HO", default_currency="USD")
    table = cm.site.table("Company")
    # Until ledger entries exist, point another record at the account behind the app's back, as a GL Entry will.
    with cm.atomic():
        cm.conn.execute(table.update().where(table.c.name == holder.name).values(receivables_group="Globex - AC"))
    with pytest.raises(LinkExistsError, match="Globex - AC"):
        cm.delete_doc("Customer", "Globex")
    assert cm.exists("Customer", "Globex") and cm.exists("Account", "Globex - AC")
    assert rows(cm.get_doc("Customer", "Globex")) == [("Acme Holding", "Globex - AC")]  # rolled back


def test_association_for_and_required_association(companies):
    cm = companies
    cm.set_value("Company", "Acme Europe", {"require_customer_association": 1})
    cm.insert("Customer", customer_name="Globex", company="Acme Holding",
              accounts=[{"company": "Acme Holding", "receipt_bank": "Chase"}])
    row = accounts.association_for(cm, "globex", "Acme Holding")
    assert row is not None
    assert (row["company"], row["account"], row["receipt_bank"], row["cash_account"]) == (
        "Acme Holding", "Globex - AC", "Chase", None)
    assert accounts.association_for(cm, "Globex", "Acme Europe") is None
    assert accounts.association_for(cm, "No Such Customer", "Acme Holding") is None
    # Acme Holding does not require the association; Acme Europe does
    assert accounts.require_association(cm, "Globex", "Acme Holding")["account"] == "Globex - AC"
    with pytest.raises(ValidationError) as exc:
        accounts.require_association(cm, "Globex", "Acme Europe")
    assert "Customer 'Globex' has no account association with company 'Acme Europe'" in str(exc.value)
    cm.set_value("Customer", "Globex", {"company": "Acme Europe"})
    assert accounts.require_association(cm, "Globex", "Acme Europe")["account"] == "Globex - AE"


def test_association_row_holds_cash_account_remit_to_address_and_receipt_bank(companies):
    cm = companies
    address = cm.insert("Address", address_title="Acme Lockbox", address_type="Billing", address_line1="PO Box 1",
                        city="Chicago", country="United States")
    cm.insert("Customer", customer_name="Globex", company="Acme Holding", accounts=[
        {"company": "Acme Holding", "cash_account": "Cash - AC", "remit_to_address": address.name,
         "receipt_bank": "Chase Lockbox"}])
    row = accounts.association_for(cm, "Globex", "Acme Holding")
    assert (row["account"], row["cash_account"], row["remit_to_address"], row["receipt_bank"]) == (
        "Globex - AC", "Cash - AC", address.name, "Chase Lockbox")
    with pytest.raises(ValidationError, match="No Such Address"):
        cm.insert("Customer", customer_name="Initech",
                  accounts=[{"company": "Acme Holding", "remit_to_address": "No Such Address"}])
    assert not cm.exists("Customer", "Initech")


def test_customer_id_clashing_with_a_company_account_is_refused_clearly(companies):
    cm = companies
    accounts_before = cm.get_count("Account")
    with pytest.raises(ValidationError) as exc:
        cm.insert("Customer", customer_name="Cash", company="Acme Holding")
    assert "the receivable account 'Cash - AC' of company 'Acme Holding' already exists" in str(exc.value)
    assert not cm.exists("Customer", "Cash") and cm.get_count("Account") == accounts_before
    assert cm.get_value("Account", "Cash - AC", "party") is None  # the company's cash account is untouched


def test_deleting_a_company_deletes_its_chart_of_accounts(companies):
    cm = companies
    chart = cm.get_count("Account", filters={"company": "Acme Europe"})
    others = cm.get_count("Account") - chart
    assert chart == len(accounts.CHART)
    cm.delete_doc("Company", "Acme Europe")
    assert not cm.exists("Company", "Acme Europe")
    assert cm.get_count("Account") == others  # the other company's chart is untouched


def test_deleting_a_company_is_refused_while_a_customer_uses_it(companies):
    cm = companies
    cm.insert("Customer", customer_name="Globex", company="Acme Europe")
    before = cm.get_count("Account")
    with pytest.raises(LinkExistsError, match="Globex"):
        cm.delete_doc("Company", "Acme Europe")
    assert cm.exists("Company", "Acme Europe") and cm.get_count("Account") == before  # nothing deleted
    assert cm.get_value("Company", "Acme Europe", "receivables_group") == "Accounts Receivable - AE"

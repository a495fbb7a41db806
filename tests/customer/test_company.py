"""Companies, currencies and accounts (SPEC 3.3): the chart of accounts a new company gets."""

from __future__ import annotations

import pytest

from engine.errors import (
    DuplicateEntryError,
    LinkValidationError,
    MandatoryError,
    TreeError,
    UniqueValidationError,
    ValidationError,
)

CHART = {
    # name: (parent, is_group, root_type, account_type)
    "Application of Funds (Assets) - AC": (None, 1, "Asset", ""),
    "Current Assets - AC": ("Application of Funds (Assets) - AC", 1, "Asset", ""),
    "Accounts Receivable - AC": ("Current Assets - AC", 1, "Asset", "Receivable"),
    "Cash - AC": ("Current Assets - AC", 0, "Asset", "Cash"),
    "Bank Accounts - AC": ("Current Assets - AC", 1, "Asset", "Bank"),
    "Source of Funds (Liabilities) - AC": (None, 1, "Liability", ""),
    "Current Liabilities - AC": ("Source of Funds (Liabilities) - AC", 1, "Liability", ""),
    "Accounts Payable - AC": ("Current Liabilities - AC", 0, "Liability", "Payable"),
    "Income - AC": (None, 1, "Income", ""),
    "Sales - AC": ("Income - AC", 0, "Income", "Income Account"),
    "Expenses - AC": (None, 1, "Expense", ""),
    "Cost of Goods Sold - AC": ("Expenses - AC", 0, "Expense", "Expense Account"),
    "Equity - AC": (None, 1, "Equity", ""),
}


def company(cm, name="Acme Holding", abbr="AC", currency="USD", **values):
    return cm.insert("Company", {"company_name": name, "abbr": abbr, "default_currency": currency, **values})


def test_currencies_are_standard_records(cm):
    eur = cm.get_doc("Currency", "eur")
    assert (eur.name, eur.currency_name, eur.symbol, eur.enabled, eur.fraction_units) == ("EUR", "Euro", "€", 1, 100)
    assert cm.get_value("Currency", "JPY", "fraction_units") == 0


def test_new_company_gets_its_chart_of_accounts_and_defaults(cm):
    acme = company(cm)
    rows = cm.get_list("Account", fields=["name", "parent_account", "is_group", "root_type", "account_type",
                                          "company", "company_abbr", "account_currency"],
                       filters={"company": "Acme Holding"}, limit=100)
    got = {r["name"]: (r["parent_account"], r["is_group"], r["root_type"], r["account_type"] or "") for r in rows}
    assert got == CHART
    assert {(r["company"], r["company_abbr"], r["account_currency"]) for r in rows} == {("Acme Holding", "AC", "USD")}
    # the defaults point at the new accounts, in the database and on the returned document
    assert (acme.receivables_group, acme.default_cash_account) == ("Accounts Receivable - AC", "Cash - AC")
    stored = cm.get_doc("Company", "acme holding")
    assert (stored.receivables_group, stored.default_cash_account) == ("Accounts Receivable - AC", "Cash - AC")
    # a real tree: tree filters work on it
    assert set(cm.get_list("Account", filters={"name": ["descendants of", "Current Assets - AC"]}, pluck="name")) == {
        "Accounts Receivable - AC", "Cash - AC", "Bank Accounts - AC"}
    assert cm.get_list("Account", filters={"name": ["ancestors of", "Cash - AC"]}, pluck="name",
                       order_by="name asc") == ["Application of Funds (Assets) - AC", "Current Assets - AC"]


def test_two_companies_have_separate_charts(cm):
    company(cm)
    company(cm, "Acme Europe", "AE", "EUR")
    assert cm.get_count("Account", {"company": "Acme Holding"}) == len(CHART)
    assert cm.get_count("Account", {"company": "Acme Europe"}) == len(CHART)
    assert cm.get_value("Account", "Cash - AE", "account_currency") == "EUR"


def test_abbreviation_and_name_are_unique(cm):
    company(cm)
    with pytest.raises(UniqueValidationError, match="Abbreviation 'AC'"):
        company(cm, "Other", "AC")
    with pytest.raises(DuplicateEntryError, match="Company 'Acme Holding' already exists"):
        company(cm, "Acme Holding", "AH")
    assert cm.get_count("Company") == 1
    assert cm.get_count("Account") == len(CHART)  # nothing of the refused companies was written


def test_company_needs_an_existing_currency_and_an_abbreviation(cm):
    with pytest.raises(MandatoryError) as exc:
        cm.insert("Company", company_name="No Currency", abbr="NC")
    assert [e.field for e in exc.value.errors] == ["default_currency"]
    with pytest.raises(LinkValidationError, match="XXX"):
        company(cm, "Bad Currency", "BC", "XXX")
    with pytest.raises(MandatoryError) as exc:
        cm.insert("Company", company_name="No Abbr", default_currency="EUR")
    assert [e.field for e in exc.value.errors] == ["abbr"]
    assert cm.get_count("Company") == 0 and cm.get_count("Account") == 0


def test_receivables_group_must_be_a_group_account_of_the_same_company(cm):
    acme = company(cm)
    company(cm, "Acme Europe", "AE", "EUR")
    acme.receivables_group = "Cash - AC"  # a ledger, not a group
    with pytest.raises(ValidationError) as exc:
        acme.save()
    assert exc.value.errors[0].field == "receivables_group"
    assert "Receivables Group 'Cash - AC' must be a group account of company 'Acme Holding'" in str(exc.value)
    acme = cm.get_doc("Company", "Acme Holding")
    acme.receivables_group = "Accounts Receivable - AE"  # another company's group
    with pytest.raises(ValidationError, match="Receivables Group 'Accounts Receivable - AE'"):
        acme.save()
    acme = cm.get_doc("Company", "Acme Holding")
    acme.receivables_group = "Current Assets - AC"  # a group of its own: fine
    acme.save()
    assert cm.get_value("Company", "Acme Holding", "receivables_group") == "Current Assets - AC"


def test_default_cash_account_must_be_cash_or_bank_of_the_same_company(cm):
    acme = company(cm)
    company(cm, "Acme Europe", "AE", "EUR")
    for bad in ("Sales - AC", "Cash - AE"):
        acme = cm.get_doc("Company", "Acme Holding")
        acme.default_cash_account = bad
        with pytest.raises(ValidationError, match=f"Default Cash Account '{bad}'"):
            acme.save()
    cm.insert("Account", account_name="Petty Cash", company="Acme Holding", parent_account="Current Assets - AC",
              account_type="Cash")
    cm.set_value("Company", "Acme Holding", {"default_cash_account": "Petty Cash - AC"})
    assert cm.get_value("Company", "Acme Holding", "default_cash_account") == "Petty Cash - AC"


def test_account_is_named_after_its_company_and_inherits_root_type(cm):
    company(cm)
    bank = cm.insert("Account", account_name="Main Bank", company="acme holding", parent_account="Bank Accounts - AC",
                     account_type="Bank")
    assert (bank.name, bank.company, bank.company_abbr, bank.root_type, bank.account_currency) == (
        "Main Bank - AC", "Acme Holding", "AC", "Asset", "USD")
    with pytest.raises(DuplicateEntryError, match="Account 'Main Bank - AC' already exists"):
        cm.insert("Account", account_name="Main Bank", company="Acme Holding", parent_account="Bank Accounts - AC")


def test_account_parent_must_be_a_group_of_the_same_company(cm):
    company(cm)
    company(cm, "Acme Europe", "AE", "EUR")
    with pytest.raises(ValidationError) as exc:
        cm.insert("Account", account_name="Stray", company="Acme Europe", parent_account="Current Assets - AC")
    assert exc.value.errors[0].field == "parent_account"
    assert "Parent Account 'Current Assets - AC' belongs to company 'Acme Holding', not 'Acme Europe'" in str(
        exc.value)
    with pytest.raises(TreeError):
        cm.insert("Account", account_name="Under Cash", company="Acme Holding", parent_account="Cash - AC")
    assert not cm.exists("Account", "Stray - AE") and not cm.exists("Account", "Under Cash - AC")


def test_account_needs_an_existing_company(cm):
    with pytest.raises(ValidationError) as exc:
        cm.insert("Account", account_name="Orphan", company="Nowhere Ltd")
    assert exc.value.errors[0].field == "company"
    assert "Company 'Nowhere Ltd' does not exist" in str(exc.value)
    with pytest.raises(ValidationError, match="Company is required"):
        cm.insert("Account", account_name="Orphan")

"""Classification and sales organisation: groups, territories, sales team, targets, partners, standard records."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.errors import DocframeError, ValidationError
from engine.site.session import Session


def rows_of(cm: Session, doctype: str) -> int:
    return cm.conn.execute(sa.select(sa.func.count()).select_from(cm.site.table(doctype))).scalar()


def refused(cm: Session, doctype: str, *words: str, **values: object) -> DocframeError:
    before = cm.get_count(doctype)
    with pytest.raises(ValidationError) as exc:
        cm.insert(doctype, values)
    for w in words:
        assert w in exc.value.message, (w, exc.value.message)
    assert cm.get_count(doctype) == before
    return exc.value


def test_migrate_installs_the_standard_records(cm: Session) -> None:
    assert cm.get_value("Customer Group", "Default Customer Group", "parent_customer_group") == "All Customer Groups"
    assert cm.get_value("Customer Group", "All Customer Groups", "is_group") == 1
    assert cm.get_value("Territory", "All Territories", "is_group") == 1
    assert cm.get_value("Sales Person", "Sales Team", "is_group") == 1
    assert cm.exists("Item Group", "All Item Groups")
    assert cm.get_value("Price List", "Standard Selling", ["selling", "enabled"]) == {"selling": 1, "enabled": 1}
    for role in ("System Manager", "Sales Manager", "Sales User", "Sales Master Manager", "Accounts Manager",
                 "Accounts User", "Credit Controller"):
        assert cm.exists("Role", role), role
    assert cm.site.migrate().installed == []  # a second migrate installs nothing


def test_default_group_and_territory_and_no_group_nodes(cm: Session) -> None:
    c = cm.insert("Customer", customer_name="Acme")
    assert (c.customer_group, c.territory) == ("Default Customer Group", "All Territories")
    cm.insert("Customer Group", customer_group_name="Wholesale", parent_customer_group="All Customer Groups",
              is_group=1)
    cm.insert("Customer Group", customer_group_name="Dealers", parent_customer_group="Wholesale")
    refused(cm, "Customer", "Customer Group 'Wholesale' is a group node", customer_name="Beta",
            customer_group="Wholesale")
    assert cm.insert("Customer", customer_name="Beta", customer_group="Dealers").customer_group == "Dealers"
    found = cm.get_list("Customer", filters={"customer_group": ["descendants of", "Wholesale"]}, pluck="name")
    assert found == ["Beta"]


def test_classifiers_are_stored_and_checked(cm: Session) -> None:
    cm.insert("User", name="anna@example.com", email="anna@example.com", full_name="Anna Manager")
    c = cm.insert("Customer", customer_name="Acme", customer_manager="anna@example.com", field_of_activity="Retail",
                  country="Germany", customer_category="Distributor", relationship_type="VMI")
    assert cm.get_list("Customer", filters={"customer_manager": "anna@example.com", "customer_category": "Distributor",
                                            "relationship_type": "VMI", "field_of_activity": "Retail"},
                       pluck="name") == [c.name]
    refused(cm, "Customer", "Customer Category", customer_name="B", customer_category="Friend")
    refused(cm, "Customer", "Relationship Type", customer_name="B", relationship_type="Cousin")
    refused(cm, "Customer", "Customer Manager", "nobody@example.com", customer_name="B",
            customer_manager="nobody@example.com")


# ------------------------------------------------------------------ sales team
def sales_persons(cm: Session, *names: str, **values: object) -> None:
    for n in names:
        cm.insert("Sales Person", {"sales_person_name": n, "parent_sales_person": "Sales Team", **values})


def test_sales_team_allocations_total_100(cm: Session) -> None:
    sales_persons(cm, "Ann", "Bob")
    c = cm.insert("Customer", customer_name="Acme", sales_team=[
        {"sales_person": "Ann", "allocated_percentage": 60, "commission_rate": 5},
        {"sales_person": "Bob", "allocated_percentage": 40}])
    assert [(r.sales_person, r.allocated_percentage) for r in c.sales_team] == [("Ann", 60), ("Bob", 40)]
    before = rows_of(cm, "Sales Team")
    refused(cm, "Customer", "Sales Team allocations", "total 90", "exactly 100", customer_name="B",
            sales_team=[{"sales_person": "Ann", "allocated_percentage": 50},
                        {"sales_person": "Bob", "allocated_percentage": 40}])
    refused(cm, "Customer", "total 110", customer_name="B",
            sales_team=[{"sales_person": "Ann", "allocated_percentage": 70},
                        {"sales_person": "Bob", "allocated_percentage": 40}])
    refused(cm, "Customer", "Sales Person 'Ann' is in the Sales Team twice", customer_name="B",
            sales_team=[{"sales_person": "Ann", "allocated_percentage": 50},
                        {"sales_person": "Ann", "allocated_percentage": 50}])
    assert rows_of(cm, "Sales Team") == before
    assert cm.insert("Customer", customer_name="No Team").sales_team == []


def test_sales_team_members_are_enabled_people_not_groups(cm: Session) -> None:
    sales_persons(cm, "Europe", is_group=1)
    sales_persons(cm, "Gone", enabled=0)
    refused(cm, "Customer", "Sales Person 'Europe' is a group node", customer_name="B",
            sales_team=[{"sales_person": "Europe", "allocated_percentage": 100}])
    refused(cm, "Customer", "Sales Person 'Gone' is disabled", customer_name="B",
            sales_team=[{"sales_person": "Gone", "allocated_percentage": 100}])


# ------------------------------------------------------------------ targets
@pytest.mark.parametrize("doctype, values", [
    ("Territory", {"territory_name": "Germany", "parent_territory": "All Territories"}),
    ("Sales Person", {"sales_person_name": "Ann", "parent_sales_person": "Sales Team"}),
])
def test_targets_one_per_item_group_and_year(cm: Session, doctype: str, values: dict[str, object]) -> None:
    cm.insert("Item Group", item_group_name="Tools", parent_item_group="All Item Groups")
    ok = cm.insert(doctype, {**values, "targets": [
        {"item_group": "Tools", "fiscal_year": "2026", "target_qty": 10, "target_amount": 5000},
        {"item_group": "Tools", "fiscal_year": "2027", "target_amount": 6000},
        {"item_group": "All Item Groups", "fiscal_year": "2026", "target_amount": 9000}]})
    assert len(ok.targets) == 3
    ok.delete()
    before = rows_of(cm, "Target Detail")
    refused(cm, doctype, "two rows for Item Group 'Tools' and Fiscal Year '2026'", **values,
            targets=[{"item_group": "Tools", "fiscal_year": "2026"}, {"item_group": "Tools", "fiscal_year": "2026"}])
    refused(cm, doctype, "Fiscal Year '26' of a target must be a 4-digit year", **values,
            targets=[{"item_group": "Tools", "fiscal_year": "26"}])
    refused(cm, doctype, "Item Group", **values, targets=[{"fiscal_year": "2026"}])
    refused(cm, doctype, "Target Amount", **values,
            targets=[{"item_group": "Tools", "fiscal_year": "2026", "target_amount": -1}])
    assert rows_of(cm, "Target Detail") == before


def test_territory_manager_is_a_sales_person(cm: Session) -> None:
    sales_persons(cm, "Ann")
    t = cm.insert("Territory", territory_name="Germany", parent_territory="All Territories", territory_manager="Ann")
    assert t.territory_manager == "Ann"
    refused(cm, "Territory", "Territory Manager", "Zed", territory_name="France", parent_territory="All Territories",
            territory_manager="Zed")


# ------------------------------------------------------------------ sales partners
def test_sales_partner_commission_and_customer_default_partner(cm: Session) -> None:
    buyer = cm.insert("Customer", customer_name="Reseller GmbH")
    partner = cm.insert("Sales Partner", partner_name="Reseller", commission_rate=12.5, partner_type="Reseller",
                        territory="All Territories", customer=buyer.name)
    c = cm.insert("Customer", customer_name="Acme", default_sales_partner=partner.name)
    assert c.default_sales_partner == "Reseller" and partner.customer == "Reseller GmbH"
    refused(cm, "Sales Partner", "Commission Rate 120", "between 0 and 100", partner_name="Greedy",
            commission_rate=120)
    refused(cm, "Sales Partner", "Commission Rate", partner_name="Odd", commission_rate=-1)
    refused(cm, "Sales Partner", "Commission Rate", partner_name="None")
    refused(cm, "Customer", "Default Sales Partner", "Nobody", customer_name="B", default_sales_partner="Nobody")
    with pytest.raises(DocframeError):
        cm.insert("Sales Partner", partner_name="Reseller", commission_rate=1)
    assert cm.get_count("Sales Partner") == 1

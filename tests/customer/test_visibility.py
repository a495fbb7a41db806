"""Who sees which customers: Sales Users see the customers they manage; managers see all."""

from __future__ import annotations

import pytest

from engine import Site
from engine.errors import PermissionError
from engine.site.session import Session


@pytest.fixture
def team(cm: Session) -> dict[str, list[str]]:
    """Three users and four customers; returns user -> customers they manage."""
    cm.insert("User", name="sue@example.com", email="sue@example.com", full_name="Sue",
              roles=[{"role": "Sales User"}])
    cm.insert("User", name="sam@example.com", email="sam@example.com", roles=[{"role": "Sales User"}])
    cm.insert("User", name="max@example.com", email="max@example.com",
              roles=[{"role": "Sales User"}, {"role": "Sales Manager"}])
    cm.insert("Customer", customer_name="Acme", customer_manager="sue@example.com")
    cm.insert("Customer", customer_name="Globex", customer_manager="sue@example.com")
    cm.insert("Customer", customer_name="Initech", customer_manager="sam@example.com")
    cm.insert("Customer", customer_name="Umbrella")  # nobody manages it
    return {"sue@example.com": ["Acme", "Globex"], "sam@example.com": ["Initech"]}


def test_sales_user_sees_only_the_customers_they_manage(cm_site: Site, team: dict[str, list[str]]) -> None:
    for user, own in team.items():
        with cm_site.session(user) as s:
            assert sorted(s.get_list("Customer", pluck="name")) == own
            assert s.get_count("Customer") == len(own)
            assert s.get_count("Customer", filters={"customer_name": ["like", "%e%"]}) == \
                len([c for c in own if "e" in c.lower()])
            assert s.get_doc("Customer", own[0]).customer_manager == user


def test_sales_user_gets_permission_error_for_other_customers(cm_site: Site, team: dict[str, list[str]]) -> None:
    with cm_site.session("sam@example.com") as s:
        for other in ("Acme", "Umbrella"):
            with pytest.raises(PermissionError) as err:
                s.get_doc("Customer", other)
            assert err.value.status == 403
            assert f"Customer {other!r}" in err.value.message and "sam@example.com" in err.value.message
            assert "Sales users see only the customers they manage." in err.value.message
        assert s.get_value("Customer", "Acme", "customer_manager") is None


@pytest.mark.parametrize("user", ["max@example.com", "Administrator"])
def test_sales_manager_and_administrator_see_every_customer(cm_site: Site, team: dict[str, list[str]],
                                                            user: str) -> None:
    with cm_site.session(user) as s:
        assert sorted(s.get_list("Customer", pluck="name")) == ["Acme", "Globex", "Initech", "Umbrella"]
        assert s.get_count("Customer") == 4
        assert s.get_doc("Customer", "Umbrella").customer_name == "Umbrella"


def test_changing_the_manager_moves_the_customer(cm_site: Site, cm: Session, team: dict[str, list[str]]) -> None:
    cm.set_value("Customer", "Umbrella", {"customer_manager": "sam@example.com"})
    with cm_site.session("sam@example.com") as s:
        assert sorted(s.get_list("Customer", pluck="name")) == ["Initech", "Umbrella"]

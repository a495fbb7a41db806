"""The core User, Role and Has Role doctypes, present on every site."""

from __future__ import annotations

import pytest

from engine.errors import LinkValidationError, MandatoryError, UniqueValidationError, ValidationError
from engine.site.session import Session
from engine.site.site import Site


def test_every_site_has_user_role_and_has_role(site: Site) -> None:
    user, role, has_role = site.get_meta("User"), site.get_meta("Role"), site.get_meta("Has Role")
    assert user.naming.rule == role.naming.rule == "prompt" and has_role.is_child
    assert user.get_field("roles").options == "Has Role"  # type: ignore[union-attr]
    assert has_role.get_field("role").options == "Role"  # type: ignore[union-attr]


def test_user_with_roles_round_trips(session: Session) -> None:
    session.insert("Role", name="Sales User", description="Sells")
    session.insert("Role", name="Sales Manager")
    session.insert("User", name="ann@example.com", email="ann@example.com", full_name="Ann Smith",
                   roles=[{"role": "Sales User"}, {"role": "Sales Manager"}])
    user = session.get_doc("User", "ANN@example.com")
    assert user.name == "ann@example.com" and user.enabled == 1
    assert [r.role for r in user.roles] == ["Sales User", "Sales Manager"]
    assert session.get_value("Role", "Sales Manager", "desk_access") == 1


def test_roles_must_exist(session: Session) -> None:
    with pytest.raises(LinkValidationError) as err:
        session.insert("User", name="bob@example.com", email="bob@example.com", roles=[{"role": "Wizard"}])
    assert "Wizard" in err.value.message and "Role" in err.value.message


def test_user_needs_a_valid_unique_email(session: Session) -> None:
    with pytest.raises(MandatoryError):
        session.insert("User", name="x@example.com")
    with pytest.raises(ValidationError, match="not-an-email"):
        session.insert("User", name="y@example.com", email="not-an-email")
    session.insert("User", name="z@example.com", email="z@example.com")
    with pytest.raises(UniqueValidationError):
        session.insert("User", name="z2@example.com", email="z@example.com")


def test_session_roles(site: Site, session: Session) -> None:
    session.insert("Role", name="Clerk")
    session.insert("Role", name="Auditor")
    session.insert("User", name="cat@example.com", email="cat@example.com", roles=[{"role": "Clerk"}])
    with site.session("cat@example.com") as s:
        assert s.roles() == frozenset({"Clerk"})
    with site.session("nobody@example.com") as s:
        assert s.roles() == frozenset()
    with site.session() as s:  # Administrator has every role
        assert s.roles() == frozenset({"Clerk", "Auditor"})

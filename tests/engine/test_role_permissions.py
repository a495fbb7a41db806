"""Role permissions from the doctype YAML, enforced by the Session document API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine import Site
from engine.errors import PermissionError
from engine.rules.permissions import check_permission, has_permission
from engine.site.session import Session

MEMO = """\
name: Memo
naming: {rule: prompt}
is_submittable: true
fields:
  - {name: title, type: Data, label: Title}
  - {name: lines, type: Table, options: Memo Line, label: Lines}
permissions:
  Manager: [read, write, create, delete, submit, cancel, report, export]
  Clerk: [read, write, create]
  Reader: [read]
record_rules:
  - {roles: [Clerk], condition: "owner == user.name", description: Clerks see their own memos.}
"""

MEMO_LINE = """\
name: Memo Line
is_child: true
fields:
  - {name: text, type: Data, label: Text}
"""

MEMO_LOG = """\
name: Memo Log
naming: {rule: hash}
fields:
  - {name: memo, type: Data, label: Memo}
permissions:
  Manager: [read]
"""

MEMO_HOOKS = """\
from engine import hookimpl


@hookimpl
def after_insert(doc, ctx):
    ctx.insert("Memo Log", memo=doc.name)  # the user may not create logs: written by the hook anyway
    ctx.get_count("Memo Log")
"""

USERS = {"manager@x.com": ["Manager"], "clerk@x.com": ["Clerk"], "clerk2@x.com": ["Clerk"],
         "reader@x.com": ["Reader"], "stranger@x.com": []}


@pytest.fixture(scope="module")
def psite(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("perm_app")
    for rel, text in {"doctypes/memo.yaml": MEMO, "doctypes/memo_line.yaml": MEMO_LINE,
                      "doctypes/memo_log.yaml": MEMO_LOG, "hooks/memo.py": MEMO_HOOKS}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    site = Site(databases.new(), root)
    site.migrate()
    with site.session() as s, s.atomic():
        for role in ("Manager", "Clerk", "Reader"):
            s.insert("Role", name=role)
        for user, roles in USERS.items():
            s.insert("User", name=user, email=user, roles=[{"role": r} for r in roles])
    yield site
    site.dispose()


@pytest.fixture
def memos(psite: Site) -> Iterator[Site]:
    """Two memos: m1 owned by clerk@x.com, m2 by Administrator; emptied afterwards."""
    with psite.session("clerk@x.com") as s:
        s.insert("Memo", name="m1", title="First", lines=[{"text": "a"}])
    with psite.session() as s:
        s.insert("Memo", name="m2", title="Second")
    yield psite
    with psite.session() as s, s.atomic():
        for doctype in ("Memo", "Memo Log"):
            for name in s.get_list(doctype, pluck="name"):
                doc = s.get_doc(doctype, name)
                if doc.get("docstatus") == 1:
                    doc.cancel()
                doc.delete()


def _denied(err: pytest.ExceptionInfo[PermissionError], user: str, action: str, what: str) -> None:
    assert err.value.status == 403 and err.value.exc_type == "PermissionError"
    message = err.value.message
    assert f"User {user!r}" in message and f"to {action} {what}" in message, message


def test_reader_reads_but_cannot_write(memos: Site) -> None:
    with memos.session("reader@x.com") as s:
        assert sorted(s.get_list("Memo", pluck="name")) == ["m1", "m2"]
        assert s.get_count("Memo") == 2
        assert s.get_value("Memo", "m1", "title") == "First"
        assert s.exists("Memo", "m2")
        doc = s.get_doc("Memo", "m1")
        assert [line.text for line in doc.lines] == ["a"]
        assert s.get_list("Memo Line", pluck="text") == ["a"]  # rows follow their parent's permissions

        with pytest.raises(PermissionError) as err:
            s.insert("Memo", name="m3", title="Third")
        _denied(err, "reader@x.com", "create", "Memo 'm3'")
        assert "Manager, Clerk" in err.value.message or "Clerk, Manager" in err.value.message
        doc.title = "Changed"
        with pytest.raises(PermissionError) as err:
            doc.save()
        _denied(err, "reader@x.com", "write", "Memo 'm1'")
        with pytest.raises(PermissionError) as err:
            s.set_value("Memo", "m2", {"title": "Changed"})
        _denied(err, "reader@x.com", "write", "Memo 'm2'")
        with pytest.raises(PermissionError) as err:
            s.delete_doc("Memo", "m2")
        _denied(err, "reader@x.com", "delete", "Memo 'm2'")
        with pytest.raises(PermissionError) as err:
            s.rename_doc("Memo", "m2", "m9")
        _denied(err, "reader@x.com", "write", "Memo")
        with pytest.raises(PermissionError) as err:
            s.get_list("Memo Log")
        _denied(err, "reader@x.com", "read", "Memo Log")
    with memos.session() as s:
        assert s.get_value("Memo", "m1", "title") == "First" and s.exists("Memo", "m2")
        assert not s.exists("Memo", "m3")


def test_users_without_a_permitted_role_are_refused_everything(memos: Site) -> None:
    for user in ("stranger@x.com", "ghost@x.com", "Guest"):
        with memos.session(user) as s:
            for call in (lambda: s.get_list("Memo"), lambda: s.get_count("Memo"),
                         lambda: s.get_value("Memo", "m1", "title"), lambda: s.get_doc("Memo", "m1"),
                         lambda: s.exists("Memo", "m1"), lambda: s.get_list("Memo Line")):
                with pytest.raises(PermissionError) as err:
                    call()
                assert err.value.status == 403 and repr(user) in err.value.message


def test_clerk_creates_and_edits_own_memos_and_hooks_write_what_the_clerk_may_not(memos: Site) -> None:
    with memos.session("clerk@x.com") as s:
        doc = s.insert("Memo", name="m3", title="Third", lines=[{"text": "x"}])
        doc.title = "Third, edited"
        doc.save()
        assert sorted(s.get_list("Memo", pluck="name")) == ["m1", "m3"]  # record rule: own memos only
        assert sorted(s.get_list("Memo Line", pluck="text")) == ["a", "x"]
        with pytest.raises(PermissionError, match="Clerks see their own memos"):
            s.get_doc("Memo", "m2")
        with pytest.raises(PermissionError):
            s.set_value("Memo", "m2", {"title": "Not mine"})
        with pytest.raises(PermissionError) as err:
            doc.submit()
        _denied(err, "clerk@x.com", "submit", "Memo 'm3'")
        with pytest.raises(PermissionError) as err:
            doc.delete()
        _denied(err, "clerk@x.com", "delete", "Memo 'm3'")
        with pytest.raises(PermissionError) as err, s.atomic():  # a transaction does not turn checks off
            s.get_list("Memo Log")
        _denied(err, "clerk@x.com", "read", "Memo Log")
    with memos.session("clerk2@x.com") as s:
        assert s.get_list("Memo", pluck="name") == []
        assert s.get_list("Memo Line", pluck="text") == []  # rows of memos they cannot see stay hidden
        assert s.get_count("Memo Line") == 0
        with pytest.raises(PermissionError, match="Clerks see their own memos"):
            s.get_doc("Memo", "m3")
    with memos.session() as s:
        assert s.get_value("Memo", "m3", "title") == "Third, edited"
        assert sorted(s.get_list("Memo Log", pluck="memo")) == ["m1", "m2", "m3"]


def test_manager_submits_cancels_and_deletes(memos: Site) -> None:
    with memos.session("manager@x.com") as s:
        assert s.get_count("Memo") == 2  # in permissions, in no rule: sees everything
        doc = s.get_doc("Memo", "m1").submit()
        assert doc.docstatus == 1
        doc.cancel()
        doc.delete()
        s.delete_doc("Memo", "m2")
        assert s.get_count("Memo") == 0
        assert s.get_count("Memo Log") == 2


def test_ignore_permissions_and_administrator_are_not_checked(memos: Site) -> None:
    with memos.session("stranger@x.com", ignore_permissions=True) as s:
        s.insert("Memo", name="m4").submit()
        assert s.get_count("Memo") == 3
    with memos.session() as s:
        assert has_permission(s, "Memo Log", "delete")
        s.delete_doc("Memo Log", s.get_list("Memo Log", pluck="name", filters={"memo": "m4"})[0])


def test_has_permission_and_check_permission(memos: Site) -> None:
    with memos.session("clerk@x.com") as s:
        assert has_permission(s, "Memo", "read") and has_permission(s, "Memo", "create")
        assert not has_permission(s, "Memo", "export") and not has_permission(s, "Memo Log", "read")
        assert has_permission(s, "Memo Line", "write")
        check_permission(s, "Memo", "write")
        with pytest.raises(PermissionError) as err:
            check_permission(s, "Memo", "export")
        _denied(err, "clerk@x.com", "export", "Memo")
        assert "Manager" in err.value.message
        with pytest.raises(PermissionError, match="no role may delete Memo Log"):
            check_permission(s, "Memo Log", "delete")
        with pytest.raises(ValueError, match="unknown permission action 'fly'"):
            has_permission(s, "Memo", "fly")
    with memos.session("manager@x.com") as s:
        assert all(has_permission(s, "Memo", a) for a in ("read", "write", "create", "delete", "submit", "cancel"))
        assert not has_permission(s, "Memo", "import")


def test_test_app_doctypes_are_for_system_managers_only(session: Session) -> None:
    for role in ("System Manager", "Nobody Special"):
        session.insert("Role", name=role)
    session.insert("User", name="sm@example.com", email="sm@example.com", roles=[{"role": "System Manager"}])
    session.insert("User", name="ns@example.com", email="ns@example.com", roles=[{"role": "Nobody Special"}])
    session.insert("Test Group", group_name="All", is_group=1)
    with session.site.session("sm@example.com") as s:
        s.insert("Test Customer", customer_name="Acme")
        assert s.get_list("Test Customer", pluck="customer_name") == ["Acme"]
    with session.site.session("ns@example.com") as s:
        assert not has_permission(s, "Test Customer", "read")
        with pytest.raises(PermissionError) as err:
            s.get_list("Test Customer")
        _denied(err, "ns@example.com", "read", "Test Customer")
        assert "System Manager" in err.value.message

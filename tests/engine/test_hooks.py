"""Hooks: loaded from the app's hooks/ folder, checked at start-up, and rolled back with their write."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap

import pytest
import sqlalchemy as sa

from engine import Site, hookimpl
from engine.errors import HookError, InvalidValueError
from tests.conftest import TEST_APP


def _count(site, table_or_doctype):
    t = site.metadata.tables.get(table_or_doctype)
    t = site.table(table_or_doctype) if t is None else t
    with site.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()


def _app_with_hook(tmp_path, filename: str, source: str):
    app = tmp_path / "app"
    shutil.copytree(TEST_APP, app, ignore=shutil.ignore_patterns("__pycache__"))
    (app / "hooks" / filename).write_text(textwrap.dedent(source))
    return app


# ------------------------------------------------------------------ the specification

def test_every_hook_is_documented_and_used():
    from engine import LIFECYCLE
    from engine.documents import hookspecs

    used = {step for steps in LIFECYCLE.values() for step in steps}
    for name in hookspecs.HOOK_NAMES:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert len(doc.split()) >= 8, f"hook {name} needs a docstring saying when it runs"
        assert name in used or name in ("before_rename", "after_rename") or name in hookspecs.OTHER_CALLERS, name
        args = hookspecs.hook_arguments(name)
        # a document hook takes the doc, a batch hook the docs, a doctype-level hook only ctx
        assert args[:2] in (("doc", "ctx"), ("docs", "ctx")) or args == ("ctx",), name


# ------------------------------------------------------------------ the app's hook modules

def test_app_hook_module_runs(session):
    doc = session.insert("Test Customer", customer_name="Acme", customer_type="Individual", first_name="A")
    assert doc.display == "Acme (Individual)"
    assert session.get_doc("Test Customer", "Acme").display == "Acme (Individual)"
    assert "before_validate" in session.site.hooks.implemented("Test Customer")
    assert session.site.hooks.implemented("Test Group") == []


def test_all_doctypes_module_applies_to_every_doctype(tmp_path, new_database):
    app = _app_with_hook(tmp_path, "all_doctypes.py", """
        from engine import hookimpl

        @hookimpl
        def before_validate(doc, ctx):
            if "description" in doc.meta.fields_by_name and not doc.get("description"):
                doc.description = f"{doc.doctype} by {ctx.user}"
    """)
    site = Site(new_database(), app)
    try:
        site.migrate()
        with site.session("ann@example.com", ignore_permissions=True) as s:  # no roles: hooks see the user
            assert s.insert("Test Tag", name="red").description == "Test Tag by ann@example.com"
            customer = s.insert("Test Customer", customer_name="Acme")
            assert customer.description == "Test Customer by ann@example.com"
            assert customer.display == "Acme (Company)"  # its own module still runs
    finally:
        site.dispose()


def test_hooks_for_every_doctype_registered_in_code(session, register_hook):
    seen = []

    class Audit:
        @hookimpl
        def after_insert(self, doc, ctx):
            seen.append((doc.doctype, doc.name))

    register_hook(None, Audit())
    session.insert("Test Group", group_name="All", is_group=1)
    session.insert("Test Tag", name="red")
    assert seen == [("Test Group", "All"), ("Test Tag", "red")]


@pytest.mark.parametrize(("filename", "source", "message"), [
    ("no_such_doctype.py", "", "hook module 'no_such_doctype' matches no doctype"),
    ("test_group.py", """
        from engine import hookimpl

        @hookimpl
        def validte(doc, ctx):
            pass
    """, "validte"),
    ("test_group.py", """
        from engine import hookimpl

        @hookimpl
        def validate(doc, context):
            pass
    """, "context"),
    ("test_group.py", """
        def on_update(doc, ctx):
            pass
    """, "'on_update' is a hook name but lacks @hookimpl"),
    ("all_doctypes.py", """
        from engine import hookimpl

        @hookimpl
        def on_updat(doc, ctx):
            pass
    """, "on_updat"),
    ("test_group.py", "import no_such_module_anywhere\n", "cannot import hook module"),
])
def test_broken_hook_modules_stop_start_up(tmp_path, filename, source, message):
    app = _app_with_hook(tmp_path, filename, source)
    with pytest.raises(HookError, match=message) as exc:
        Site(f"sqlite:///{tmp_path / 'x.db'}", app)
    assert filename in str(exc.value)


def test_misspelled_hook_name_is_refused_at_registration(site):
    class Plugin:
        @hookimpl
        def validte(self, doc, ctx):
            pass

    with pytest.raises(HookError, match=r"unknown hook 'validte'.*known hooks: .*validate"):
        site.hooks.register("Test Customer", Plugin())
    assert site.hooks.implemented("Test Customer") == ["before_validate"]  # nothing half-registered


def test_wrong_argument_name_is_refused(site):
    class Plugin:
        @hookimpl
        def validate(self, doc, context):
            pass

    with pytest.raises(HookError, match="context"):
        site.hooks.register(None, Plugin())
    assert "validate" not in site.hooks.implemented("Test Group")


def test_hook_named_function_without_hookimpl_is_refused(site):
    class Plugin:
        def on_update(self, doc, ctx):
            pass

    with pytest.raises(HookError, match="'on_update' is a hook name but lacks @hookimpl"):
        site.hooks.register("Test Customer", Plugin())


def test_unknown_doctype_is_refused(site):
    class Plugin:
        @hookimpl
        def validate(self, doc):
            pass

    with pytest.raises(HookError, match="unknown doctype 'Nope'"):
        site.hooks.register("Nope", Plugin())


# ------------------------------------------------------------------ a hook that raises rolls back everything

def test_hook_raising_after_the_write_rolls_back_everything(site, session, register_hook):
    session.insert("Test Customer", customer_name="Acme")
    before = {name: _count(site, name) for name in
              ("Test Customer", "Test Customer Row", "Test Invoice", "Test Invoice Item", "Test Note", "Version",
               "tab_naming_counter")}
    seen = {}

    class Explode:
        @hookimpl
        def on_update(self, doc, ctx):
            seen["invoice written"] = ctx.get_count("Test Invoice", {"name": doc.name})
            seen["items written"] = ctx.get_count("Test Invoice Item", {"parent": doc.name})
            ctx.insert("Test Note", title="follow up", link_doctype="Test Invoice", link_name=doc.name)
            ctx.insert("Test Customer", customer_name="Acme", rows=[{"item": "x"}])  # named Acme-1: a counter
            seen["versions"] = ctx.get_count("Version")
            raise InvalidValueError(f"{doc.doctype}: the ledger is closed")

    register_hook("Test Invoice", Explode())
    inv = session.new_doc("Test Invoice", customer="Acme", items=[{"item": "a", "amount": 1}, {"item": "b",
                                                                                              "amount": 2}])
    with pytest.raises(InvalidValueError, match="the ledger is closed"):
        inv.insert()
    assert seen == {"invoice written": 1, "items written": 2, "versions": before["Version"] + 1}
    after = {name: _count(site, name) for name in before}
    assert after == before
    assert inv.is_new() and inv.name is None


def test_rolled_back_counters_are_not_consumed(site, session, register_hook):
    session.insert("Test Customer", customer_name="Acme")

    class Explode:
        armed = True

        @hookimpl
        def on_update(self, doc, ctx):
            if Explode.armed:
                raise InvalidValueError("no")

    register_hook("Test Invoice", Explode())
    with pytest.raises(InvalidValueError):
        session.insert("Test Invoice", customer="Acme")
    Explode.armed = False
    inv = session.insert("Test Invoice", customer="Acme")
    assert inv.name == f"TINV-{dt.date.today():%Y}-00001"


def test_hook_raising_on_save_keeps_the_old_rows(site, session, register_hook):
    doc = session.insert("Test Customer", customer_name="Acme", visits=1, rows=[{"item": "a"}, {"item": "b"}])

    class Explode:
        @hookimpl
        def on_update(self, doc, ctx):
            raise InvalidValueError("no")

    register_hook("Test Customer", Explode())
    doc.visits = 2
    doc.rows[0].item = "changed"
    doc.rows.pop()
    doc.append("rows", {"item": "new"})
    with pytest.raises(InvalidValueError):
        doc.save()
    loaded = session.get_doc("Test Customer", "Acme")
    assert loaded.visits == 1 and [r.item for r in loaded.rows] == ["a", "b"]
    assert _count(site, "Version") == 1


def test_documents_written_by_hooks_join_the_transaction(session, register_hook):
    class LedgerNote:
        @hookimpl
        def after_insert(self, doc, ctx):
            ctx.insert("Test Note", title=f"welcome {doc.name}", link_doctype=doc.doctype, link_name=doc.name)

    register_hook("Test Customer", LedgerNote())
    session.insert("Test Customer", customer_name="Acme")
    notes = session.get_list("Test Note", fields=["title", "link_doctype", "link_name"])
    assert notes == [{"title": "welcome Acme", "link_doctype": "Test Customer", "link_name": "Acme"}]

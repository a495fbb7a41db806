"""The lifecycle order (written once in engine.documents.lifecycle.LIFECYCLE) as hooks and the database see it."""

from __future__ import annotations

import types

import pytest
import sqlalchemy as sa

from engine import LIFECYCLE, hookimpl
from engine.documents import hookspecs
from engine.documents.hookspecs import HOOK_NAMES
from engine.documents.lifecycle import BUILTIN_STEPS
from engine.errors import FieldError, InvalidValueError, MandatoryError, ValidationError


def _recorder(calls: list, doctype: str | None = None) -> types.SimpleNamespace:
    """A plugin implementing every document hook; each call appends the hook's name."""
    def make(name):
        def hook(doc, ctx):
            if doctype is None or doc.doctype == doctype:
                calls.append(name)
        hook.__name__ = name
        return hookimpl(hook)
    document_hooks = [n for n in HOOK_NAMES if hookspecs.hook_arguments(n)[:2] == ("doc", "ctx")]
    return types.SimpleNamespace(**{name: make(name) for name in document_hooks})


def _hooks_of(op: str) -> list[str]:
    return [s for s in LIFECYCLE[op] if s in HOOK_NAMES]


def _in_db(ctx, doctype: str, name: str) -> bool:
    t = ctx.site.table(doctype)
    return ctx.conn.execute(sa.select(t.c.name).where(t.c.name == name)).first() is not None


def test_lifecycle_is_data_and_complete():
    assert set(LIFECYCLE) == {"insert", "save", "submit", "update_after_submit", "cancel", "delete"}
    for op, steps in LIFECYCLE.items():
        assert all(s in HOOK_NAMES or s in BUILTIN_STEPS for s in steps), op
        assert len(set(steps)) == len(steps), op
    # Built-in checks run before the application's validate hook.
    for op in ("insert", "save", "submit"):
        steps = LIFECYCLE[op]
        assert steps.index("before_validate") < steps.index("check_fields") < steps.index("validate")
    assert LIFECYCLE["insert"].index("write_insert") < LIFECYCLE["insert"].index("after_insert")
    assert LIFECYCLE["delete"].index("on_trash") < LIFECYCLE["delete"].index("check_links")


def test_hook_order_for_every_operation(session, register_hook):
    calls: list[str] = []
    register_hook("Test Invoice", _recorder(calls))
    session.insert("Test Customer", customer_name="Acme")

    def run(op, action):
        calls.clear()
        action()
        assert calls == _hooks_of(op), op

    inv = session.new_doc("Test Invoice", customer="Acme", items=[{"item": "a", "amount": 1}])
    run("insert", inv.insert)
    inv.total = 5
    run("save", inv.save)
    run("submit", inv.submit)
    inv.remarks = "paid"
    run("update_after_submit", inv.save)
    run("cancel", inv.cancel)
    run("delete", inv.delete)
    assert _hooks_of("insert") == ["before_insert", "before_naming", "before_validate", "validate",
                                   "before_save", "after_insert", "on_update"]


def test_all_doctype_hooks_run_with_doctype_hooks(session, register_hook):
    every: list[str] = []
    own: list[str] = []
    register_hook(None, _recorder(every))
    register_hook("Test Customer", _recorder(own))
    session.insert("Test Group", group_name="All", is_group=1)
    assert every == _hooks_of("insert") and own == []
    every.clear()
    session.insert("Test Customer", customer_name="Acme")
    assert every == own == _hooks_of("insert")


def test_values_are_coerced_before_any_hook_and_a_bad_one_is_none_and_reported(session, register_hook):
    seen = {}

    class Plugin:
        @hookimpl
        def before_validate(self, doc, ctx):
            seen["before_validate"] = (doc.visits, doc.rows[0].amount)

        @hookimpl
        def validate(self, doc, ctx):
            seen["validate"] = (doc.visits, doc.rows[0].amount)

    register_hook("Test Customer", Plugin())
    session.insert("Test Customer", customer_name="Acme", visits="12", rows=[{"item": "a", "amount": "1.5"}])
    from decimal import Decimal
    assert seen["before_validate"] == (12, Decimal("1.50"))
    assert seen["validate"] == (12, Decimal("1.50"))
    seen.clear()
    with pytest.raises(ValidationError) as exc:
        session.insert("Test Customer", customer_name="Beta", visits="lots", rows=[{"item": "a", "amount": [1]}])
    assert seen == {"before_validate": (None, None), "validate": (None, None)}  # no hook sees the raw values
    fields = {(e.field, e.row) for e in exc.value.errors}
    assert fields == {("visits", None), ("amount", 1)}
    assert "Test Customer: row 1 of Rows: Amount" in str(exc.value) and "Visits" in str(exc.value)


def test_row_is_written_between_before_save_and_after_insert(session, register_hook):
    seen = {}

    class Plugin:
        @hookimpl
        def before_save(self, doc, ctx):
            seen["before_save"] = _in_db(ctx, "Test Customer", doc.name)

        @hookimpl
        def after_insert(self, doc, ctx):
            seen["after_insert"] = _in_db(ctx, "Test Customer", doc.name)
            seen["rows"] = ctx.get_count("Test Customer Row", {"parent": doc.name})

        @hookimpl
        def on_update(self, doc, ctx):
            t = ctx.site.table("Test Customer")
            seen["on_update"] = ctx.conn.execute(sa.select(t.c.visits).where(t.c.name == doc.name)).scalar()

    register_hook("Test Customer", Plugin())
    doc = session.insert("Test Customer", customer_name="Acme", visits=1, rows=[{"item": "a"}])
    assert seen == {"before_save": False, "after_insert": True, "rows": 1, "on_update": 1}
    doc.visits = 2
    doc.save()
    assert seen["before_save"] is True and seen["on_update"] == 2


def test_get_doc_before_save(session, register_hook):
    seen = []

    class Plugin:
        @hookimpl
        def validate(self, doc, ctx):
            before = doc.get_doc_before_save()
            seen.append(None if before is None else (before.visits, [r.item for r in before.rows]))

        @hookimpl
        def on_update(self, doc, ctx):
            before = doc.get_doc_before_save()
            seen.append(None if before is None else before.visits)

    register_hook("Test Customer", Plugin())
    doc = session.insert("Test Customer", customer_name="Acme", visits=1, rows=[{"item": "a"}])
    doc.visits = 2
    doc.rows[0].item = "b"
    doc.save()
    assert seen == [None, None, (1, ["a"]), 1]
    assert doc.get_doc_before_save().visits == 2  # after the save, the saved state


def test_changes_in_before_save_are_written(session, register_hook):
    class Plugin:
        @hookimpl
        def before_save(self, doc, ctx):
            doc.notes = f"visits={doc.visits}"

    register_hook("Test Customer", Plugin())
    session.insert("Test Customer", customer_name="Acme", visits="3")
    assert session.get_doc("Test Customer", "Acme").notes == "visits=3"


def test_validate_runs_when_built_in_checks_fail_and_its_problems_come_with_theirs(session, register_hook):
    calls: list[str] = []
    register_hook("Test Customer", _recorder(calls))
    with pytest.raises(MandatoryError):
        session.insert("Test Customer", customer_name="Acme", rows=[{"amount": 1}])
    assert calls == ["before_insert", "before_naming", "before_validate", "validate"]  # and nothing after

    seen = {}

    class Rules:
        @hookimpl
        def validate(self, doc, ctx):
            seen["failed"] = [e.field for e in doc.flags.checks_failed or ()]
            if (doc.visits or 0) > 10:
                raise InvalidValueError(f"{doc.doctype}: Visits {doc.visits} is more than 10",
                                        [FieldError(doc.doctype, "visits", "Visits", "Visits is more than 10")])

    class Careless:
        @hookimpl
        def validate(self, doc, ctx):
            return 1 / 0 if doc.flags.checks_failed else None  # trips over the invalid document

    register_hook("Test Customer", Rules())
    with pytest.raises(ValidationError) as exc:  # one answer with the required item and the app's rule
        session.insert("Test Customer", customer_name="Acme", visits=11, rows=[{"amount": 1}])
    assert seen["failed"] == ["item"]
    assert {e.field for e in exc.value.errors} == {"item", "visits"}
    register_hook("Test Customer", Careless())
    with pytest.raises(MandatoryError):  # the hook's own error is not the user's news
        session.insert("Test Customer", customer_name="Acme", rows=[{"amount": 1}])
    assert session.get_count("Test Customer") == 0


def test_validate_hook_refuses_and_nothing_is_written(site, session, register_hook):
    class Plugin:
        @hookimpl
        def validate(self, doc, ctx):
            if (doc.visits or 0) > 10:
                raise InvalidValueError(f"{doc.doctype}: Visits {doc.visits} is more than 10")

    register_hook("Test Customer", Plugin())
    with pytest.raises(ValidationError, match="Visits 11 is more than 10"):
        session.insert("Test Customer", customer_name="Acme", visits=11)
    assert session.get_count("Test Customer") == 0
    doc = session.insert("Test Customer", customer_name="Acme", visits=1)
    doc.visits = 12
    with pytest.raises(ValidationError):
        doc.save()
    assert session.get_doc("Test Customer", "Acme").visits == 1


def test_failed_write_restores_what_it_stamped(session, register_hook):
    class Plugin:
        @hookimpl
        def on_update(self, doc, ctx):
            raise InvalidValueError("no")

    session.insert("Test Customer", customer_name="Acme")
    inv = session.insert("Test Invoice", customer="Acme", items=[{"item": "a", "amount": 1}])
    modified = inv.modified
    register_hook("Test Invoice", Plugin())
    with pytest.raises(InvalidValueError):
        inv.save()
    assert inv.modified == modified and inv.docstatus == 0
    new = session.new_doc("Test Invoice", customer="Acme")
    with pytest.raises(InvalidValueError):
        new.insert()
    assert new.is_new() and new.name is None and new.owner is None


def test_child_rows_cannot_be_written_alone(session):
    with pytest.raises(InvalidValueError, match="Test Customer Row rows are saved with their parent"):
        session.insert("Test Customer Row", item="a")
    with pytest.raises(InvalidValueError):
        session.get_doc("Test Customer Row", "x")

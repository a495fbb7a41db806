"""Standard records: <app>/fixtures/*.yaml installed by migrate, never overwritten."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine import Site
from engine.cli import docframe
from engine.errors import DocframeError

WIDGET = """\
name: Widget
naming: {rule: field, field: title, on_duplicate: suffix}
fields:
  - {name: title, type: Data, label: Title, required: true}
  - {name: colour, type: Select, label: Colour, options: [Red, Blue]}
  - {name: stamp, type: Data, label: Stamp}
"""
GADGET = """\
name: Gadget
naming: {rule: expression, pattern: "G-{label}"}
fields:
  - {name: label, type: Data, label: Label}
  - {name: widget, type: Link, label: Widget, options: Widget}
"""
HOOK = """\
from engine import hookimpl


@hookimpl
def before_insert(doc):
    doc.stamp = "hooked"
"""
ROLES = """\
- {doctype: Role, name: Widget Maker, description: Makes widgets}
- {doctype: User, name: maker@x.com, email: maker@x.com, roles: [{role: Widget Maker}]}
"""
WIDGETS = """\
- {doctype: Widget, title: Standard, colour: Red}
- {doctype: Widget, title: Spare}
- {doctype: Gadget, name: G-1, label: "1", widget: Standard}
"""


def make_app(root: Path, extra: dict[str, str] | None = None) -> Path:
    files = {"doctypes/widget.yaml": WIDGET, "doctypes/gadget.yaml": GADGET, "hooks/widget.py": HOOK,
             "doctypes/test_hash.yaml": "name: Test Hash\nfields: [{name: a, type: Data}]\n",
             "fixtures/01_roles.yaml": ROLES, "fixtures/02_widgets.yaml": WIDGETS, **(extra or {})}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return make_app(tmp_path / "app")


def test_migrate_installs_missing_standard_records_in_file_order_through_the_lifecycle(
        app: Path, new_database: Callable[[], str]) -> None:
    site = Site(new_database(), app)
    try:
        plan = site.migrate()
        assert [(r.doctype, r.name, r.file) for r in plan.installed] == [
            ("Role", "Widget Maker", "01_roles.yaml"), ("User", "maker@x.com", "01_roles.yaml"),
            ("Widget", "Standard", "02_widgets.yaml"), ("Widget", "Spare", "02_widgets.yaml"),
            ("Gadget", "G-1", "02_widgets.yaml")]
        with site.session() as s:
            assert s.get_doc("Widget", "Standard").stamp == "hooked"  # hooks ran
            assert [r.role for r in s.get_doc("User", "maker@x.com").roles] == ["Widget Maker"]
            assert s.get_value("Gadget", "G-1", "widget") == "Standard"
        again = site.migrate()
        assert again.installed == [] and not again
    finally:
        site.dispose()


def test_edited_records_are_kept_and_deleted_ones_come_back(app: Path, new_database: Callable[[], str]) -> None:
    site = Site(new_database(), app)
    try:
        site.migrate()
        with site.session() as s:
            s.set_value("Widget", "Standard", {"colour": "Blue"})
            s.delete_doc("Gadget", "G-1")
        plan = site.migrate()
        assert [(r.doctype, r.name) for r in plan.installed] == [("Gadget", "G-1")]
        with site.session() as s:
            assert s.get_value("Widget", "Standard", "colour") == "Blue"  # not overwritten
            assert s.get_count("Widget") == 2  # no "Standard-1"
    finally:
        site.dispose()


def test_a_record_named_by_field_exists_by_its_field_value(app: Path, new_database: Callable[[], str]) -> None:
    url = new_database()
    plain = Site(url, make_app(app.parent / "plain", {"fixtures/01_roles.yaml": "", "fixtures/02_widgets.yaml": ""}))
    plain.migrate()
    with plain.session() as s:
        s.insert("Widget", title="spare", colour="Blue")  # same ID case-insensitively
    plain.dispose()
    site = Site(url, app)
    try:
        plan = site.migrate()
        assert ("Widget", "Spare") not in [(r.doctype, r.name) for r in plan.installed]
        assert ("Widget", "Standard") in [(r.doctype, r.name) for r in plan.installed]
    finally:
        site.dispose()


def test_dry_run_lists_what_would_be_installed_and_writes_nothing(app: Path,
                                                                   new_database: Callable[[], str]) -> None:
    site = Site(new_database(), app)
    try:
        plan = site.migrate(dry_run=True)
        assert [r.name for r in plan.installed] == ["Widget Maker", "maker@x.com", "Standard", "Spare", "G-1"]
        assert "tab_widget" not in sa.inspect(site.engine).get_table_names()
        site.migrate()
        assert site.migrate(dry_run=True).installed == []
    finally:
        site.dispose()


def test_a_bad_standard_record_installs_nothing_and_names_file_and_position(
        tmp_path: Path, new_database: Callable[[], str]) -> None:
    app = make_app(tmp_path / "app", {"fixtures/03_bad.yaml": "- {doctype: Widget, title: Odd, colour: Green}\n"})
    site = Site(new_database(), app)
    try:
        with pytest.raises(DocframeError) as err:
            site.migrate()
        assert "03_bad.yaml: document 1 (Widget)" in err.value.message and "Green" in err.value.message
        with site.session() as s:
            assert s.get_count("Widget") == 0 and s.get_count("Role") == 0  # one transaction
    finally:
        site.dispose()


@pytest.mark.parametrize("text, message", [
    ("- {doctype: Gadget, label: nameless}\n", "a standard record needs 'name'"),
    ("- {doctype: Test Hash, name: abc}\n", "named by rule 'hash', which sets the ID itself"),
    ("- {doctype: Widget, colour: Red}\n", "needs 'name' or 'title'"),
    ("- {doctype: Nope, name: x}\n", "unknown doctype 'Nope'"),
    ("- {doctype: Has Role, role: x}\n", "child doctype"),
    ("{doctype: Widget}\n", "must be a list of documents"),
])
def test_fixture_files_are_checked_before_anything_is_written(
        tmp_path: Path, new_database: Callable[[], str], text: str, message: str) -> None:
    app = make_app(tmp_path / "app", {"fixtures/00_bad.yaml": text})
    site = Site(new_database(), app)
    try:
        with pytest.raises(DocframeError, match=message):
            site.migrate()
        with site.session() as s:
            assert s.get_count("Role") == 0
    finally:
        site.dispose()


def test_a_name_the_naming_rule_would_not_give_is_refused(tmp_path: Path, new_database: Callable[[], str]) -> None:
    app = make_app(tmp_path / "app", {"fixtures/03_gadget.yaml": "- {doctype: Gadget, name: G-2, label: '3'}\n"})
    site = Site(new_database(), app)
    try:
        with pytest.raises(DocframeError, match="its name 'G-2' is not the ID its naming rule gives \\('G-3'\\)"):
            site.migrate()
        with site.session() as s:
            assert s.get_count("Gadget") == 0
    finally:
        site.dispose()


def test_cli_migrate_prints_installed_records(app: Path, new_database: Callable[[], str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DOCFRAME_DATABASE_URL", "DOCFRAME_APP"):
        monkeypatch.delenv(var, raising=False)
    url, runner = new_database(), CliRunner()
    dry = runner.invoke(docframe, ["--db", url, "--app", str(app), "migrate", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would install 5 standard record(s):" in dry.stdout and "  Widget 'Spare' (02_widgets.yaml)" in dry.stdout
    first = runner.invoke(docframe, ["--db", url, "--app", str(app), "migrate"])
    assert first.exit_code == 0, first.output
    assert "Applied " in first.stdout and "Installed 5 standard record(s):" in first.stdout
    assert "  Role 'Widget Maker' (01_roles.yaml)" in first.stdout
    second = runner.invoke(docframe, ["--db", url, "--app", str(app), "migrate"])
    assert second.exit_code == 0, second.output
    assert "Database is up to date" in second.stdout
    assert second.stdout.splitlines()[-1] == "Installed 0 standard record(s)."

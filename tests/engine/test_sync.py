"""Schema sync: plans, safe steps applied, unsafe steps refused unless forced and lossless."""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from engine import Site
from engine.errors import DuplicateEntryError, MetaError, SchemaSyncError
from engine.metadata.fieldtypes import ExactDecimal, TimeOfDay, datetime_type, long_text_type
from engine.storage.sqltypes import relation, type_info
from engine.storage.sync import plan

REPO_ROOT = Path(__file__).parent.parent.parent
TEST_APP = Path(__file__).parent.parent / "app"

WIDGET = """\
name: Widget
naming: {rule: field, field: title}
fields:
  - {name: title, type: Data, label: Title, required: true}
  - {name: code, type: Data, label: Code, length: 200}
  - {name: qty, type: Data, label: Quantity}
  - {name: flag, type: Check, label: Flag}
  - {name: note, type: Data, label: Note}
"""

GADGET = """\
name: Gadget
fields:
  - {name: label_text, type: Data}
"""


@pytest.fixture
def app(tmp_path: Path) -> Callable[..., Path]:
    """app(widget_yaml, gadget=True): (re)write a small app and return its folder."""
    root = tmp_path / "app"

    def write(widget: str = WIDGET, gadget: bool = True) -> Path:
        (root / "doctypes").mkdir(parents=True, exist_ok=True)
        (root / "doctypes" / "widget.yaml").write_text(widget)
        gadget_file = root / "doctypes" / "gadget.yaml"
        if gadget:
            gadget_file.write_text(GADGET)
        elif gadget_file.exists():
            gadget_file.unlink()
        return root

    return write


def column_type(site: Site, table: str, column: str) -> str:
    cols = {c["name"]: c["type"] for c in sa.inspect(site.engine).get_columns(table)}
    return str(cols[column].compile(dialect=site.engine.dialect)) if column in cols else ""


def kinds(p) -> list[tuple[str, str | None]]:
    return [(s.kind, s.column) for s in p.steps if s.kind != "add_index"]


def reopen(open_site: Callable[..., Site], site: Site, app_dir: Path) -> Site:
    url = site.engine.url.render_as_string(hide_password=False)
    site.dispose()
    return open_site(app_dir, url)


def test_plan_on_empty_database_lists_create_table_steps(app, open_site):
    site = open_site(app())
    p = site.migrate(dry_run=True)
    assert not p.applied
    creates = {s.doctype: s for s in p.steps if s.kind == "create_table"}
    assert {"Widget", "Gadget", "Version"} <= set(creates)
    assert all(s.safe for s in p.steps)
    assert "create table Widget: " in str(p)
    assert "ix_tab_widget_modified" in {s.args["index"].name for s in p.steps if s.kind == "add_index"}
    assert "tab_widget" not in sa.inspect(site.engine).get_table_names()  # dry run wrote nothing


def test_migrate_then_plan_is_empty_and_second_migrate_does_nothing(app, open_site):
    site = open_site(app())
    assert site.migrate().applied
    again = site.migrate()
    assert not again and not again.applied
    assert str(again) == "Database is up to date."


def test_test_app_with_every_field_type_migrates_to_an_empty_plan(site):
    # The session fixture's site was migrated from nothing; the live schema must match exactly.
    with site.engine.connect() as conn:
        assert plan(site, conn).lines() == []


def test_bundled_app_migrates_to_an_empty_plan(open_site):
    site = open_site(REPO_ROOT)
    site.migrate()
    assert site.migrate(dry_run=True).lines() == []


def test_missing_indexes_are_planned_and_created(app, open_site, backend):
    site = open_site(app())
    site.migrate()
    table = site.metadata.tables["tab_widget"]
    dropped = [ix for ix in table.indexes if ix.name == "ix_tab_widget_modified"
               or (backend != "mysql" and ix.name == "ux_tab_widget_name_ci")]
    assert len(dropped) == (1 if backend == "mysql" else 2)
    with site.engine.begin() as conn:
        for ix in dropped:
            ix.drop(conn)
    p = site.migrate(dry_run=True)
    assert sorted(s.args["index"].name for s in p.steps) == sorted(ix.name for ix in dropped)
    site.migrate()
    assert not site.migrate(dry_run=True)
    with site.session() as s:
        s.insert("Widget", title="Acme")
    if backend != "mysql":  # the lower(name) index enforces case-insensitive IDs again
        with pytest.raises(sa.exc.IntegrityError), site.engine.begin() as conn:
            conn.execute(table.insert().values(name="ACME", title="x", docstatus=0, idx=0))


def test_added_field_becomes_a_new_column(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="Old")
    widget = WIDGET + ("  - {name: colour, type: Select, options: [Red, Blue], in_filter: true}\n"
                       "  - {name: serial, type: Data, unique: true}\n")
    site = reopen(open_site, site, app(widget))
    p = site.migrate(dry_run=True)
    assert kinds(p) == [("add_column", "colour"), ("add_column", "serial")]
    assert [s.args["index"].name for s in p.steps if s.kind == "add_index"] == [
        "ix_tab_widget_colour_modified", "ux_tab_widget_serial"]
    assert site.migrate().applied
    assert not site.migrate(dry_run=True)
    with site.session() as s:
        s.insert("Widget", title="New", colour="Blue", serial="S1")
        assert s.get_doc("Widget", "Old").colour is None
        assert s.get_list("Widget", fields=["name"], filters={"colour": "Blue"}) == [{"name": "New"}]
        with pytest.raises(DuplicateEntryError):
            s.insert("Widget", title="Other", serial="S1")


def test_widening_is_safe_and_applied(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", code="c" * 150, flag=1)
    widget = WIDGET.replace("length: 200", "length: 400").replace("type: Check", "type: Int")
    site = reopen(open_site, site, app(widget))
    p = site.migrate(dry_run=True)
    assert sorted(kinds(p)) == [("widen", "code"), ("widen", "flag")]
    assert "VARCHAR(200) -> VARCHAR(400)" in str(p) and "[unsafe" not in str(p)
    site.migrate()
    assert not site.migrate(dry_run=True)
    assert column_type(site, "tab_widget", "code") == "VARCHAR(400)"
    with site.session() as s:
        doc = s.get_doc("Widget", "A")
        assert (doc.code, doc.flag) == ("c" * 150, 1)
        s.insert("Widget", title="B", code="d" * 390, flag=70000)


def test_a_mariadb_time_without_microseconds_is_widened_keeping_its_values(app, open_site):
    """Databases made before Time kept microseconds on MariaDB (plain TIME) migrate to TIME(6)."""
    site = open_site(app(WIDGET + "  - {name: starts, type: Time, label: Starts}\n"))
    site.migrate()
    if site.engine.dialect.name != "mysql":
        assert column_type(site, "tab_widget", "starts") in ("TIME", "TIME WITHOUT TIME ZONE")
        return
    assert column_type(site, "tab_widget", "starts") == "TIME(6)"
    with site.engine.begin() as conn:  # as the earlier release made it
        conn.exec_driver_sql("ALTER TABLE tab_widget MODIFY starts TIME NULL")
    with site.session() as s:
        s.insert("Widget", title="A", starts="09:30:15")
    p = site.migrate(dry_run=True)
    assert kinds(p) == [("widen", "starts")] and "TIME -> TIME(6)" in str(p)
    site.migrate()
    assert column_type(site, "tab_widget", "starts") == "TIME(6)"
    with site.session() as s:
        assert s.get_doc("Widget", "A").starts == dt.time(9, 30, 15)
        s.insert("Widget", title="B", starts="09:30:15.250000")
        assert s.get_doc("Widget", "B").starts == dt.time(9, 30, 15, 250000)


def test_narrowing_refused_without_force_and_when_data_is_too_long(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="Long", code="x" * 150)
        s.insert("Widget", title="Short", code="y" * 10)
    site = reopen(open_site, site, app(WIDGET.replace("length: 200", "length: 100")))
    p = site.migrate(dry_run=True)
    assert kinds(p) == [("narrow", "code")]
    assert "Widget.code: VARCHAR(200) -> VARCHAR(100)  [unsafe: needs --force]" in str(p)
    with pytest.raises(SchemaSyncError, match="--force"):
        site.migrate()
    with pytest.raises(SchemaSyncError) as exc:
        site.migrate(force=True)
    assert "Widget, field Code (code)" in str(exc.value)
    assert "1 value(s) are longer than 100 characters (longest 150, in 'Long')" in str(exc.value)
    assert column_type(site, "tab_widget", "code") == "VARCHAR(200)"
    with site.session() as s:
        s.set_value("Widget", "Long", {"code": "x" * 100})
    assert site.migrate(force=True).applied
    assert column_type(site, "tab_widget", "code") == "VARCHAR(100)"
    assert not site.migrate(dry_run=True)
    with site.session() as s:
        assert s.get_doc("Widget", "Short").code == "y" * 10


def test_a_removed_fields_column_is_kept_while_it_has_data_and_other_steps_still_apply(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", note="keep me")
        s.insert("Widget", title="B", note="")
    edited = WIDGET.replace("  - {name: note, type: Data, label: Note}\n", "") + "  - {name: colour, type: Data}\n"
    site = reopen(open_site, site, app(edited))
    p = site.migrate(dry_run=True)
    assert kinds(p) == [("add_column", "colour")]  # the other steps are not held up
    assert [s.column for s in p.kept_columns] == ["note"]
    assert "kept         Widget.note: no longer defined; column and its 1 value(s) kept" in str(p)
    assert site.migrate().applied  # no --force needed: nothing is lost
    assert column_type(site, "tab_widget", "note") and column_type(site, "tab_widget", "colour")
    with site.session() as s:
        s.insert("Widget", title="C", colour="Red")  # the kept column is not in the way
        assert s.get_doc("Widget", "A").title == "A"
    with site.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT note FROM tab_widget WHERE name = 'A'")).scalar() == "keep me"
    p = site.migrate(dry_run=True, drop_removed=True)
    assert kinds(p) == [("drop_column", "note")] and "its 1 value(s) are dropped with it" in str(p)
    assert site.migrate(drop_removed=True).applied
    assert column_type(site, "tab_widget", "note") == ""
    assert not site.migrate(dry_run=True) and not site.migrate(dry_run=True).kept_columns


def test_a_removed_fields_empty_column_is_dropped_without_force(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", note="")
    site = reopen(open_site, site, app(WIDGET.replace("  - {name: note, type: Data, label: Note}\n", "")))
    assert kinds(site.migrate(dry_run=True)) == [("drop_column", "note")]
    assert site.migrate().applied and column_type(site, "tab_widget", "note") == ""


def test_a_new_fields_fixed_default_fills_the_records_already_there(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="Old")
    widget = WIDGET + ("  - {name: stock, type: Int, default: 5, required: true}\n"
                       "  - {name: seen, type: Date, default: Today}\n")
    site = reopen(open_site, site, app(widget))
    p = site.migrate(dry_run=True)
    assert "add column   Widget.stock: BIGINT, existing records get the default 5" in str(p)
    site.migrate()
    with site.session() as s:
        old = s.get_doc("Widget", "Old")
        assert old.stock == 5 and old.seen is None  # a moving default (Today) is not made up for the past
        old.save()  # the required field has its value: the old record still saves


def test_force_refuses_a_type_change_that_would_round_or_reject_values(app, open_site):
    widget = WIDGET + "  - {name: weight, type: Float, precision: 3}\n  - {name: level, type: Int}\n"
    site = open_site(app(widget))
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", weight=1.256, level=1)
        s.insert("Widget", title="B", weight=2.5, level=3)
    changed = widget.replace("{name: weight, type: Float, precision: 3}", "{name: weight, type: Currency}")
    changed = changed.replace("{name: level, type: Int}", "{name: level, type: Check}")
    site = reopen(open_site, site, app(changed))
    with pytest.raises(SchemaSyncError) as exc:
        site.migrate(force=True)
    message = str(exc.value)
    assert "Widget, column weight" in message or "weight" in message
    assert "1.256 in 'A' (it would become Decimal('1.26'))" in message
    assert "level" in message and "outside 0..1 (e.g. in 'B')" in message
    with site.engine.connect() as conn:  # nothing applied
        assert conn.execute(sa.text("SELECT weight FROM tab_widget WHERE name = 'A'")).scalar() == 1.256


def test_a_unique_index_on_a_converted_column_is_checked_on_the_new_values(app, open_site, backend):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", qty="0100")
        s.insert("Widget", title="B", qty="100")
    changed = WIDGET.replace("{name: qty, type: Data, label: Quantity}", "{name: qty, type: Int, unique: true}")
    site = reopen(open_site, site, app(changed + "  - {name: extra, type: Data}\n"))
    before = {c["name"]: str(c["type"]) for c in sa.inspect(site.engine).get_columns("tab_widget")}
    with pytest.raises(SchemaSyncError, match=r"cannot add unique index ux_tab_widget_qty: duplicate values 100 "
                                              r"\(2 records\)"):
        site.migrate(force=True)
    after = {c["name"]: str(c["type"]) for c in sa.inspect(site.engine).get_columns("tab_widget")}
    assert after == before  # refused before anything ran, MariaDB included


def test_type_change_converts_values_or_names_the_ones_that_do_not(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", qty="12")
        s.insert("Widget", title="B", qty="1,000")
        s.insert("Widget", title="C", qty="lots")
    site = reopen(open_site, site, app(WIDGET.replace("name: qty, type: Data", "name: qty, type: Int")))
    p = site.migrate(dry_run=True)
    assert kinds(p) == [("change_type", "qty")]
    with pytest.raises(SchemaSyncError) as exc:
        site.migrate(force=True)
    assert "Widget, field Quantity (qty): cannot change VARCHAR(140) to BIGINT: 1 value(s) do not fit" in str(exc.value)
    assert "'lots' in 'C'" in str(exc.value)
    with site.engine.begin() as conn:
        conn.execute(sa.table("tab_widget", sa.column("name"), sa.column("qty")).delete().where(
            sa.column("name") == "C"))
    site.migrate(force=True)
    assert column_type(site, "tab_widget", "qty").startswith("BIGINT")
    assert not site.migrate(dry_run=True)
    with site.session() as s:
        assert [s.get_doc("Widget", n).qty for n in ("A", "B")] == [12, 1000]
        assert s.get_list("Widget", fields=["name"], filters={"qty": [">", 100]}) == [{"name": "B"}]


def test_a_renamed_field_keeps_its_values_and_its_index(app, open_site, backend):
    widget = WIDGET.replace("{name: note, type: Data, label: Note}",
                            "{name: note, type: Data, label: Note, in_filter: true}")
    site = open_site(app(widget))
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", note="first", code="c1")
        s.insert("Widget", title="B", note="second", code="c2")
    renamed = widget.replace("{name: note, type: Data, label: Note, in_filter: true}",
                             "{name: remark, type: Data, label: Remark, in_filter: true, renamed_from: note}")
    renamed = renamed.replace("{name: code, type: Data, label: Code, length: 200}",
                              "{name: sku, type: Data, length: 250, renamed_from: [item_code, code]}")
    site = reopen(open_site, site, app(renamed))
    p = site.migrate(dry_run=True)
    assert kinds(p) == [("drop_index", None), ("rename_column", "remark"), ("rename_column", "sku"), ("widen", "sku")]
    assert "rename column Widget.remark: renamed from note, values kept" in str(p)
    assert all(s.safe for s in p.steps) and not p.kept_columns
    assert site.migrate().applied
    assert column_type(site, "tab_widget", "note") == "" and column_type(site, "tab_widget", "code") == ""
    assert column_type(site, "tab_widget", "sku") == "VARCHAR(250)"
    assert not site.migrate(dry_run=True)  # renamed_from stays in the YAML and pairs nothing once done
    with site.session() as s:
        assert s.get_doc("Widget", "A").remark == "first" and s.get_doc("Widget", "B").sku == "c2"
        assert s.get_list("Widget", fields=["name"], filters={"remark": "second"}) == [{"name": "B"}]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        indexes = {ix["name"] for ix in sa.inspect(site.engine).get_indexes("tab_widget")}
    assert "ix_tab_widget_remark_modified" in indexes and "ix_tab_widget_note_modified" not in indexes


def test_a_renamed_fields_type_change_and_unique_index_are_checked_on_the_old_columns_values(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", qty="12", note="same")
        s.insert("Widget", title="B", qty="lots", note="same")
    renamed = WIDGET.replace("{name: qty, type: Data, label: Quantity}",
                             "{name: quantity, type: Int, renamed_from: qty}")
    renamed = renamed.replace("{name: note, type: Data, label: Note}",
                              "{name: memo, type: Data, unique: true, renamed_from: note}")
    site = reopen(open_site, site, app(renamed))
    assert kinds(site.migrate(dry_run=True)) == [("rename_column", "memo"), ("rename_column", "quantity"),
                                                 ("change_type", "quantity")]
    with pytest.raises(SchemaSyncError) as exc:
        site.migrate(force=True)
    message = str(exc.value)
    assert "Widget, field Quantity (quantity): cannot change VARCHAR(140) to BIGINT: 1 value(s) do not fit" in message
    assert "'lots' in 'B'" in message
    assert "cannot add unique index ux_tab_widget_memo: duplicate values 'same' (2 records)" in message
    assert column_type(site, "tab_widget", "qty")  # nothing applied
    with site.engine.begin() as conn:
        conn.execute(sa.text("UPDATE tab_widget SET qty = '7', note = 'other' WHERE name = 'B'"))
    assert site.migrate(force=True).applied
    with site.session() as s:
        assert [(d["name"], d["quantity"], d["memo"]) for d in
                s.get_list("Widget", fields=["name", "quantity", "memo"], order_by="name asc")] == [
            ("A", 12, "same"), ("B", 7, "other")]


@pytest.mark.parametrize(("field", "message"), [
    ("{name: memo, type: Data, renamed_from: title}", "renamed_from: 'title' is still a column of Widget"),
    ("{name: memo, type: Data, renamed_from: memo}", "renamed_from: names the field itself"),
    ("{name: memo, type: Data, renamed_from: Old-Name}", "renamed_from"),
    ("{name: memo, type: Section Break, renamed_from: old}", "a Section Break field has no column to rename"),
])
def test_renamed_from_mistakes_name_the_doctype_and_field(app, open_site, field, message):
    with pytest.raises(MetaError) as exc:
        open_site(app(WIDGET + f"  - {field}\n"))
    assert "Widget" in str(exc.value) and "memo" in str(exc.value) and message in str(exc.value)


def test_two_fields_cannot_claim_the_same_old_name(app, open_site):
    widget = WIDGET + "  - {name: one, type: Data, renamed_from: old}\n  - {name: two, type: Data, renamed_from: old}\n"
    with pytest.raises(MetaError, match="renamed_from: 'old' is already claimed by field 'one'"):
        open_site(app(widget))


def test_removed_doctype_keeps_its_table(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Gadget", label_text="still here")
    site = reopen(open_site, site, app(gadget=False))
    p = site.migrate(dry_run=True)
    assert not p
    assert p.kept == ["Gadget"] or p.kept == ["tab_gadget"]  # SQLite has no table comments
    assert "no longer defined; table and data kept" in str(p)
    site.migrate(force=True)
    with site.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sa.table("tab_gadget"))).scalar() == 1


def test_new_unique_field_refused_while_values_are_duplicated(app, open_site):
    site = open_site(app())
    site.migrate()
    with site.session() as s:
        s.insert("Widget", title="A", code="same")
        s.insert("Widget", title="B", code="same")
    site = reopen(open_site, site, app(WIDGET.replace("length: 200", "length: 200, unique: true")))
    with pytest.raises(SchemaSyncError) as exc:
        site.migrate()
    assert "Widget, field Code (code): cannot add unique index ux_tab_widget_code: " in str(exc.value)
    assert "duplicate values 'same' (2 records)" in str(exc.value)


def test_copy_of_test_app_with_a_new_field(tmp_path, open_site):
    root = tmp_path / "app"
    shutil.copytree(TEST_APP, root)
    yaml_file = root / "doctypes" / "test_group.yaml"
    text = yaml_file.read_text().replace("permissions:", "  - {name: region, type: Data, label: Region}\npermissions:")
    yaml_file.write_text(text)
    original = open_site(TEST_APP)
    original.migrate()
    site = reopen(open_site, original, root)
    assert kinds(site.migrate()) == [("add_column", "region")]
    with site.session() as s:
        s.insert("Test Group", group_name="All", is_group=1, region="EU")
        assert s.get_value("Test Group", "All", "region") == "EU"


DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(), "mysql": mysql.dialect()}


@pytest.mark.parametrize("dialect, reflected, declared, expected", [
    # what each backend reports back for what we declare: equal
    ("mysql", mysql.BIGINT(display_width=20), sa.BigInteger(), "same"),
    ("mysql", mysql.SMALLINT(display_width=6), sa.SmallInteger(), "same"),
    ("mysql", mysql.DOUBLE(asdecimal=True), sa.Float(53), "same"),
    ("mysql", mysql.DATETIME(fsp=6), datetime_type(), "same"),
    ("mysql", mysql.LONGTEXT(collation="utf8mb4_bin"), sa.JSON(), "same"),
    ("mysql", mysql.LONGTEXT(), long_text_type(), "same"),
    ("mysql", mysql.DECIMAL(18, 6), ExactDecimal(), "same"),
    ("mysql", mysql.TIME(fsp=6), TimeOfDay(), "same"),
    ("postgresql", postgresql.TIME(), TimeOfDay(), "same"),
    ("sqlite", sa.TIME(), TimeOfDay(), "same"),
    ("postgresql", postgresql.DOUBLE_PRECISION(precision=53), sa.Float(53), "same"),
    ("postgresql", postgresql.TIMESTAMP(), datetime_type(), "same"),
    ("postgresql", sa.NUMERIC(18, 6), ExactDecimal(), "same"),
    ("postgresql", sa.TEXT(), long_text_type(), "same"),
    ("sqlite", sa.FLOAT(), sa.Float(53), "same"),
    ("sqlite", sa.NUMERIC(18, 6), ExactDecimal(), "same"),
    ("sqlite", sa.DATETIME(), datetime_type(), "same"),
    # real differences
    ("mysql", mysql.TINYINT(), sa.SmallInteger(), "widen"),
    ("mysql", mysql.TEXT(), long_text_type(), "widen"),
    ("mysql", mysql.DATETIME(), datetime_type(), "widen"),
    ("mysql", mysql.TIME(), TimeOfDay(), "widen"),
    ("mysql", mysql.FLOAT(), sa.Float(53), "widen"),
    ("mysql", mysql.LONGTEXT(), sa.JSON(), "change_type"),
    ("mysql", mysql.LONGTEXT(collation="utf8mb4_bin"), sa.Text(), "change_type"),
    ("postgresql", sa.INTEGER(), sa.BigInteger(), "widen"),
    ("postgresql", sa.VARCHAR(140), sa.Text(), "widen"),
    ("postgresql", sa.NUMERIC(18, 6), sa.NUMERIC(20, 4), "narrow"),
    ("postgresql", sa.VARCHAR(200), sa.String(100), "narrow"),
    ("sqlite", sa.BIGINT(), ExactDecimal(), "change_type"),
    ("sqlite", sa.VARCHAR(140), sa.BigInteger(), "change_type"),
])
def test_type_comparison_sees_through_backend_spellings(dialect, reflected, declared, expected):
    d = DIALECTS[dialect]
    assert relation(type_info(reflected, d), type_info(declared, d), d) == expected


def test_a_step_the_database_refuses_is_named_and_on_mariadb_what_stayed_applied(app, open_site, monkeypatch,
                                                                                 backend):
    from engine.storage import sync

    site = open_site(app())
    site.migrate()
    site = reopen(open_site, site, app(WIDGET + "  - {name: colour, type: Data}\n  - {name: size, type: Data}\n"))
    real_plan = sync.plan

    def plan_twice(*args, **kwargs):  # the second add of `size` fails in the database itself
        p = real_plan(*args, **kwargs)
        p.steps.append(next(s for s in p.steps if s.column == "size"))
        return p

    monkeypatch.setattr(sync, "plan", plan_twice)
    with pytest.raises(SchemaSyncError) as exc:
        site.migrate()
    message = str(exc.value)
    assert message.startswith("Widget, field Size (size): the database refused 'add column   Widget.size")
    if backend == "mysql":
        assert "MariaDB commits every schema change at once, so the steps before it stay applied" in message
        assert "add column   Widget.colour" in message
    else:
        assert message.endswith("Nothing was changed.")
        assert column_type(site, "tab_widget", "colour") == ""  # rolled back

"""Compiling metadata to tables: pure, standard columns, indexes, exact types, and the DDL on every database."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from engine import Site
from engine.errors import DuplicateEntryError
from engine.metadata.app import load_app_doctypes
from engine.metadata.doctype import ENGINE_TABLES, DocType
from engine.metadata.fieldtypes import FIELD_TYPES, ExactDecimal
from engine.metadata.loader import load_doctypes
from engine.storage.schema import NAMING_COUNTER_TABLE, compile_schema, index_name

TEST_APP = Path(__file__).parent.parent / "app"
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(), "mysql": mysql.dialect()}
STANDARD = ["name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"]


@pytest.fixture(scope="module")
def doctypes() -> dict[str, DocType]:
    return load_app_doctypes(TEST_APP)


def ddl(md: sa.MetaData, dialect: str) -> list[str]:
    """Every CREATE TABLE and CREATE INDEX statement of a compiled schema, in a stable order."""
    out = []
    for table in sorted(md.tables.values(), key=lambda t: t.name):
        out.append(str(CreateTable(table).compile(dialect=DIALECTS[dialect])))
        for ix in sorted(table.indexes, key=lambda i: i.name or ""):
            out.append(str(CreateIndex(ix).compile(dialect=DIALECTS[dialect])))
    return out


def indexes(table: sa.Table) -> dict[str, tuple[bool, tuple[str, ...]]]:
    return {ix.name: (bool(ix.unique), tuple(str(e) for e in ix.expressions)) for ix in table.indexes}


# ------------------------------------------------------------------ purity


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_compile_is_pure_same_input_gives_equal_tables(doctypes: dict[str, DocType], dialect: str) -> None:
    first = compile_schema(doctypes, dialect)
    second = compile_schema(doctypes, dialect)
    reloaded = compile_schema(load_app_doctypes(TEST_APP), dialect)
    assert first is not second
    assert ddl(first, dialect) == ddl(second, dialect) == ddl(reloaded, dialect)
    assert {t.name for t in first.tables.values()} == {d.table_name for d in doctypes.values()} | ENGINE_TABLES


def test_compile_needs_no_database_and_leaves_metadata_alone(
    doctypes: dict[str, DocType], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_database(*args: object, **kwargs: object) -> None:
        raise AssertionError("compile_schema must not touch a database")

    monkeypatch.setattr(sa.engine.Engine, "connect", no_database)
    monkeypatch.setattr(sa, "create_engine", no_database)
    before = {name: (d.fields, d.naming, dict(d.permissions)) for name, d in doctypes.items()}
    for dialect in DIALECTS:
        assert ddl(compile_schema(doctypes, dialect), dialect)
    assert {name: (d.fields, d.naming, dict(d.permissions)) for name, d in doctypes.items()} == before


# ---------------------------------------------------------------- columns


def test_standard_columns_come_first_then_fields_in_yaml_order(doctypes: dict[str, DocType]) -> None:
    table = compile_schema(doctypes).tables["tab_test_customer"]
    meta = doctypes["Test Customer"]
    assert [c.name for c in table.columns] == STANDARD + [f.name for f in meta.data_fields]
    assert [c.name for c in table.primary_key.columns] == ["name"]
    assert table.c.name.type.length == 140
    assert not table.c.docstatus.nullable and table.c.docstatus.server_default.arg == "0"
    assert not table.c.idx.nullable and isinstance(table.c.idx.type, sa.Integer)
    assert table.comment == "Test Customer"


def test_table_and_layout_fields_have_no_column(doctypes: dict[str, DocType]) -> None:
    table = compile_schema(doctypes).tables["tab_test_customer"]
    for absent in ("rows", "details_section", "col1"):
        assert absent not in table.c


def test_child_tables_add_parent_columns_and_one_ordered_index(doctypes: dict[str, DocType]) -> None:
    table = compile_schema(doctypes).tables["tab_test_customer_row"]
    assert [c.name for c in table.columns][:10] == [*STANDARD, "parent", "parenttype", "parentfield"]
    ix = indexes(table)
    parent_ix = ix.pop("ix_tab_test_customer_row_parent")
    assert parent_ix == (False, tuple(f"tab_test_customer_row.{c}" for c in ("parent", "parenttype",
                                                                            "parentfield", "idx")))
    assert "ix_tab_test_customer_row_group" in ix  # a Link in a child row is indexed too
    assert not any(name.endswith("_modified") or name.endswith("_name_ci") for name in ix)


def test_tree_tables_have_an_indexed_path_parent_link_and_group_flag(doctypes: dict[str, DocType]) -> None:
    table = compile_schema(doctypes).tables["tab_test_group"]
    assert {"tree_path", "parent_test_group", "is_group"} <= set(table.c.keys())
    assert table.c.tree_path.type.length == 1000
    ix = indexes(table)
    assert ix["ix_tab_test_group_tree_path"] == (False, ("tab_test_group.tree_path",))
    assert ix["ix_tab_test_group_parent_test_group_modified"] == (
        False, ("tab_test_group.parent_test_group", "tab_test_group.modified"))
    assert "tree_path" not in compile_schema(doctypes).tables["tab_test_customer"].c


def test_indexes_on_links_filters_index_unique_and_modified(doctypes: dict[str, DocType]) -> None:
    ix = indexes(compile_schema(doctypes).tables["tab_test_customer"])
    t = "tab_test_customer"
    assert ix == {
        f"ix_{t}_modified": (False, (f"{t}.modified",)),
        # in_filter fields (a Select, a Link) paired with the default sort: a filtered list is a range
        f"ix_{t}_customer_type_modified": (False, (f"{t}.customer_type", f"{t}.modified")),
        f"ix_{t}_test_group_modified": (False, (f"{t}.test_group", f"{t}.modified")),
        f"ux_{t}_customer_number": (True, (f"{t}.customer_number",)),  # unique
        f"ux_{t}_name_ci": (True, (f"lower({t}.name)",)),                # IDs are case-insensitive
    }
    version = indexes(compile_schema(doctypes).tables["tab_version"])
    # index: true, paired with Version's sort_field (creation), which has an index of its own
    assert version["ix_tab_version_docname_creation"] == (False, ("tab_version.docname", "tab_version.creation"))
    assert version["ix_tab_version_creation"] == (False, ("tab_version.creation",))


def test_mariadb_ids_are_case_insensitive_by_collation_not_an_index(doctypes: dict[str, DocType]) -> None:
    table = compile_schema(doctypes, "mysql").tables["tab_test_customer"]
    assert "ux_tab_test_customer_name_ci" not in indexes(table)
    assert table.dialect_options["mysql"]["collate"] == "utf8mb4_unicode_ci"


def test_dynamic_links_are_indexed(doctypes: dict[str, DocType]) -> None:
    ix = indexes(compile_schema(doctypes).tables["tab_test_note"])
    assert {"ix_tab_test_note_link_doctype", "ix_tab_test_note_link_name"} <= set(ix)


# ----------------------------------------------------------------- names


def write_app(root: Path, *docs: str) -> Path:
    (root / "doctypes").mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(docs):
        (root / "doctypes" / f"d{i}.yaml").write_text(text)
    return root


LONG_DOCTYPE = "Very Long Doctype Name For Testing Identifier Limits Abcdef"  # 59 characters, the maximum
LONG_FIELD = "f" * 60
LONG_LINK = "g" * 60
LONG_APP = f"""\
name: {LONG_DOCTYPE}
naming: {{rule: field, field: {LONG_FIELD}}}
is_tree: true
parent_field: parent_node
fields:
  - {{name: {LONG_FIELD}, type: Data, required: true}}
  - {{name: {LONG_LINK}, type: Link, options: {LONG_DOCTYPE}, in_filter: true}}
  - {{name: {"h" * 60}, type: Data, unique: true}}
  - {{name: {"h" * 59 + "i"}, type: Data, unique: true}}
"""


def test_index_names_stay_within_60_characters_and_distinct(tmp_path: Path) -> None:
    doctypes = load_doctypes([write_app(tmp_path, LONG_APP) / "doctypes"])
    for dialect in DIALECTS:
        table = compile_schema(doctypes, dialect).tables["tab_" + LONG_DOCTYPE.lower().replace(" ", "_")]
        names = [ix.name for ix in table.indexes]
        assert len(names) == len(set(names)) >= 6
        assert all(len(name) <= 60 for name in names), names
    assert index_name("ix", "tab_x", "y") == "ix_tab_x_y"
    assert index_name("ux", "t" * 40, "c" * 40) != index_name("ux", "t" * 40, "c" * 39 + "d")


def test_longest_names_migrate_and_work_on_every_database(tmp_path: Path, new_database: Callable[[], str]) -> None:
    site = Site(new_database(), write_app(tmp_path, LONG_APP))
    try:
        assert site.migrate()
        assert not site.migrate(dry_run=True), "a second migrate must find nothing to do"
        with site.session() as s:
            s.insert(LONG_DOCTYPE, {LONG_FIELD: "Root", "is_group": 1, "h" * 60: "a"})
            child = s.insert(LONG_DOCTYPE, {LONG_FIELD: "root", "parent_node": "Root", LONG_LINK: "Root"})
            assert child.name == "root-1"
            assert s.get_list(LONG_DOCTYPE, fields=["name"], filters={LONG_LINK: "Root"}, pluck="name") == ["root-1"]
            assert s.get_list(LONG_DOCTYPE, filters={"name": ["descendants of", "Root"]},
                              pluck="name") == ["root-1"]
            with pytest.raises(DuplicateEntryError):
                s.insert(LONG_DOCTYPE, {LONG_FIELD: "Other", "h" * 60: "a"})
    finally:
        site.dispose()


# ------------------------------------------------------------------ types


def column_ddl(dialect: str, table: str, column: str, doctypes: dict[str, DocType]) -> str:
    t = compile_schema(doctypes, dialect).tables[table]
    return t.c[column].type.compile(dialect=DIALECTS[dialect])


@pytest.mark.parametrize(("column", "expected"), [
    ("customer_name", {"sqlite": "VARCHAR(140)", "postgresql": "VARCHAR(140)", "mysql": "VARCHAR(140)"}),
    ("customer_number", {"sqlite": "VARCHAR(20)", "postgresql": "VARCHAR(20)", "mysql": "VARCHAR(20)"}),
    ("credit_limit", {"sqlite": "DECIMAL(18, 6)", "postgresql": "NUMERIC(18, 6)", "mysql": "NUMERIC(18, 6)"}),
    ("last_contact", {"sqlite": "DATETIME", "postgresql": "TIMESTAMP WITHOUT TIME ZONE", "mysql": "DATETIME(6)"}),
    ("creation", {"sqlite": "DATETIME", "postgresql": "TIMESTAMP WITHOUT TIME ZONE", "mysql": "DATETIME(6)"}),
    ("modified", {"sqlite": "DATETIME", "postgresql": "TIMESTAMP WITHOUT TIME ZONE", "mysql": "DATETIME(6)"}),
    ("is_frozen", {"sqlite": "SMALLINT", "postgresql": "SMALLINT", "mysql": "SMALLINT"}),
    ("visits", {"sqlite": "BIGINT", "postgresql": "BIGINT", "mysql": "BIGINT"}),
    ("score", {"sqlite": "FLOAT", "postgresql": "FLOAT(53)", "mysql": "FLOAT(53)"}),
    ("long_notes", {"sqlite": "TEXT", "postgresql": "TEXT", "mysql": "LONGTEXT"}),
    ("since", {"sqlite": "DATE", "postgresql": "DATE", "mysql": "DATE"}),
    ("call_time", {"sqlite": "TIME", "postgresql": "TIME WITHOUT TIME ZONE", "mysql": "TIME(6)"}),
    ("api_secret", {"sqlite": "VARCHAR(255)", "postgresql": "VARCHAR(255)", "mysql": "VARCHAR(255)"}),
    ("settings", {"sqlite": "JSON", "postgresql": "JSON", "mysql": "JSON"}),
])
def test_sql_types_per_database(doctypes: dict[str, DocType], column: str, expected: dict[str, str]) -> None:
    for dialect, sql in expected.items():
        assert column_ddl(dialect, "tab_test_customer", column, doctypes) == sql, dialect


def test_currency_is_an_exact_decimal_never_a_float(doctypes: dict[str, DocType]) -> None:
    table = compile_schema(doctypes).tables["tab_test_customer"]
    for name in ("credit_limit", "group_rate"):
        assert isinstance(table.c[name].type, ExactDecimal)
    assert not any(isinstance(c.type, ExactDecimal) for c in table.columns if c.name in ("score", "discount"))


def test_mariadb_tables_use_utf8mb4_and_microsecond_datetimes(doctypes: dict[str, DocType]) -> None:
    statements = ddl(compile_schema(doctypes, "mysql"), "mysql")
    creates = [s for s in statements if s.lstrip().startswith("CREATE TABLE")]
    assert len(creates) == len(doctypes) + len(ENGINE_TABLES)
    for create in creates:
        assert "CHARSET=utf8mb4" in create
        assert "ENGINE=InnoDB" in create or NAMING_COUNTER_TABLE in create
        assert " DATETIME " not in create and " DATETIME," not in create  # always DATETIME(6)
    customer = next(s for s in creates if "tab_test_customer (" in s)
    assert "creation DATETIME(6)" in customer and "last_contact DATETIME(6)" in customer
    assert "COLLATE utf8mb4_unicode_ci" in customer


def test_every_field_type_with_a_column_compiles_on_every_database(doctypes: dict[str, DocType]) -> None:
    used = {f.type for d in doctypes.values() for f in d.fields}
    with_column = {name for name, ft in FIELD_TYPES.items() if ft.has_column}
    assert with_column <= used, f"the test app misses field types {with_column - used}"
    for dialect in DIALECTS:
        assert ddl(compile_schema(doctypes, dialect), dialect)


# -------------------------------------------------------- the live database


def test_live_columns_match_the_compiled_types(site: Site, backend: str) -> None:
    inspector = sa.inspect(site.engine)
    columns = {c["name"]: c for c in inspector.get_columns("tab_test_customer")}
    assert list(columns)[:7] == STANDARD
    assert isinstance(columns["is_frozen"]["type"], sa.SmallInteger)
    assert isinstance(columns["visits"]["type"], sa.BigInteger)
    numeric = columns["credit_limit"]["type"]
    assert isinstance(numeric, sa.Numeric) and (numeric.precision, numeric.scale) == (18, 6)
    if backend == "mysql":
        assert columns["modified"]["type"].fsp == 6
        assert columns["last_contact"]["type"].fsp == 6
        with site.engine.connect() as conn:
            charset = conn.exec_driver_sql(
                "SELECT CCSA.character_set_name FROM information_schema.TABLES T "
                "JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA "
                "ON CCSA.collation_name = T.table_collation "
                "WHERE T.table_schema = DATABASE() AND T.table_name = 'tab_test_customer'"
            ).scalar_one()
        assert charset == "utf8mb4"
    with warnings.catch_warnings():  # SQLite cannot reflect the lower(name) expression index
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        names = {ix["name"] for ix in inspector.get_indexes("tab_test_customer")}
    assert {"ix_tab_test_customer_modified", "ix_tab_test_customer_test_group_modified",
            "ux_tab_test_customer_customer_number"} <= names


def test_microseconds_exact_currency_and_four_byte_text_survive_a_round_trip(session, site: Site) -> None:
    moment = dt.datetime(2024, 2, 29, 23, 59, 58, 123456)
    doc = session.insert("Test Customer", {
        "customer_name": "Ünïcode 😀 Ltd", "last_contact": moment, "credit_limit": "9999999999.99",
        "score": 0.1, "is_frozen": True,
    })
    loaded = session.get_doc("Test Customer", doc.name)
    assert loaded.name == "Ünïcode 😀 Ltd"
    assert loaded.last_contact == moment
    assert loaded.modified.microsecond == doc.modified.microsecond
    assert loaded.credit_limit == Decimal("9999999999.99") and isinstance(loaded.credit_limit, Decimal)
    assert loaded.is_frozen == 1
    table = site.table("Test Customer")
    with site.engine.connect() as conn:
        stored = conn.execute(sa.select(table.c.credit_limit).where(table.c.name == doc.name)).scalar_one()
        assert stored == Decimal("9999999999.99")
        if site.engine.dialect.name == "sqlite":  # no decimal type: exact integers of millionths
            raw = conn.execute(sa.text("SELECT credit_limit, typeof(credit_limit) FROM tab_test_customer")).one()
            assert tuple(raw) == (9999999999990000, "integer")

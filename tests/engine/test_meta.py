"""Doctype YAML loading: every broken file is reported, with file, doctype and field, all at once."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Document, Site
from engine.errors import MetaError, MetaProblem
from engine.metadata.app import load_app_doctypes
from engine.metadata.doctype import DOCUMENT_ATTRIBUTES, RESERVED_NAMES
from engine.metadata.loader import load_doctypes

TEST_APP = Path(__file__).parent.parent / "app"


def doctype(name: str, *fields: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {"name": name, **keys, "fields": list(fields)}


def fld(name: str, type: str = "Data", **keys: Any) -> dict[str, Any]:
    return {"name": name, "type": type, **keys}


GROUP = doctype("Group", fld("group_name"), is_tree=True, naming={"rule": "field", "field": "group_name"})
ROW = doctype("Customer Row", fld("item"), fld("amount", "Currency"), is_child=True)


def write(folder: Path, files: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        (folder / filename).write_text(text, "utf-8")
    return folder


def problems(folder: Path, files: dict[str, Any]) -> list[MetaProblem]:
    write(folder, files)
    with pytest.raises(MetaError) as info:
        load_doctypes([folder])
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return info.value.problems


def only(folder: Path, files: dict[str, Any]) -> MetaProblem:
    found = problems(folder, files)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def assert_names(problem: MetaProblem, file: Path, doctype: str | None, field: str | None, *words: str) -> None:
    text = str(problem)
    assert text.startswith(str(file) + ":"), text
    assert (problem.doctype, problem.field) == (doctype, field), text
    if doctype:
        assert f"doctype {doctype!r}" in text
    if field:
        assert f"field {field!r}" in text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


# ------------------------------------------------------------------ files


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    p = only(tmp_path, {"broken.yaml": "name: Customer\nfields:\n  - {name: a, type: Data\n  - x: [\n"})
    assert_names(p, tmp_path / "broken.yaml", None, None, "invalid YAML at line 4, column")


def test_duplicate_key_in_a_mapping_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = "name: Customer\nfields:\n  - name: a\n    type: Data\n    type: Int\n"
    p = only(tmp_path, {"dup.yaml": text})
    assert_names(p, tmp_path / "dup.yaml", None, None, "invalid YAML at line 5, column 5", "duplicate key 'type'")


@pytest.mark.parametrize("text", ["", "- name: Customer\n", "just text\n", "42\n"])
def test_a_file_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    p = only(tmp_path, {"thing.yaml": text})
    assert_names(p, tmp_path / "thing.yaml", None, None, "must be a mapping with 'name' and 'fields'")


def test_unreadable_file_and_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"name: Caf\xe9\nfields: []\n")
    with pytest.raises(MetaError) as info:
        load_doctypes([tmp_path, tmp_path / "nowhere"])
    texts = [str(p) for p in info.value.problems]
    assert texts[0].startswith(f"{tmp_path / 'latin1.yaml'}: cannot read file")
    assert texts[1] == f"{tmp_path / 'nowhere'}: doctypes folder does not exist"


def test_editor_lock_and_backup_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, {"group.yaml": GROUP, ".#group.yaml": "{{{", "group.yaml~": "{{{", "notes.txt": "{{{"})
    assert list(load_doctypes([tmp_path])) == ["Group"]


# ----------------------------------------------------------- the schema


def test_missing_name_and_fields(tmp_path: Path) -> None:
    found = problems(tmp_path, {"a.yaml": {"module": "Selling"}, "b.yaml": {"name": "Customer"}})
    assert [str(p) for p in found] == [
        f"{tmp_path / 'a.yaml'}: 'name' is required",
        f"{tmp_path / 'a.yaml'}: 'fields' is required",
        f"{tmp_path / 'b.yaml'}: doctype 'Customer': 'fields' is required",
    ]


def test_unknown_top_level_key_suggests_the_right_one(tmp_path: Path) -> None:
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld("a"), titel_field="a")})
    assert_names(p, tmp_path / "c.yaml", "Customer", None, "unknown key(s): titel_field (did you mean 'title_field'?)")


def test_unknown_field_key(tmp_path: Path) -> None:
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld("a", reqd=True))})
    assert_names(p, tmp_path / "c.yaml", "Customer", "a", "unknown key(s) of the field: reqd")


def test_unknown_naming_key_and_rule(tmp_path: Path) -> None:
    found = problems(tmp_path, {
        "c.yaml": doctype("Customer", fld("a"), naming={"rule": "field", "feld": "a"}),
        "d.yaml": doctype("Dealer", fld("a"), naming={"rule": "feild", "field": "a"}),
    })
    assert "unknown key(s) in naming: feld (did you mean 'field'?)" in str(found[0])
    assert "naming.rule: 'feild' is not one of 'field', 'series'" in str(found[1])
    assert "(did you mean 'field'?)" in str(found[1])


@pytest.mark.parametrize(("key", "value", "message"), [
    ("required", "yes", "required: 'yes' is not of type 'boolean'"),
    ("required", 1, "required: 1 is not of type 'boolean'"),
    ("length", "ten", "length: 'ten' is not of type 'integer'"),
    ("length", 0, "length: 0 is less than the minimum of 1"),
    ("precision", 9, "precision: 9 is greater than the maximum of 6"),
    ("type", "Strng", "type: 'Strng' is not one of"),
    ("options", [], "options: [] must be text or a non-empty list of distinct choices"),
    ("options", {"a": 1}, "options: {'a': 1} must be text or a non-empty list"),
    ("default", [1, 2], "default: [1, 2] is not of type"),
    ("fetch_from", "group", "fetch_from: 'group' does not match"),
])
def test_wrong_field_value_types(tmp_path: Path, key: str, value: Any, message: str) -> None:
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld("code", **{key: value}))})
    assert_names(p, tmp_path / "c.yaml", "Customer", "code", message)


def test_yes_in_yaml_is_text_not_a_boolean(tmp_path: Path) -> None:
    text = "name: Customer\nfields:\n  - {name: a, type: Data, required: yes}\n"
    p = only(tmp_path, {"c.yaml": text})
    assert_names(p, tmp_path / "c.yaml", "Customer", "a", "required: 'yes' is not of type 'boolean'")


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "Customer", "fields": "abc"}, "fields: 'abc' is not of type 'array'"),
    ({"name": "Customer", "fields": [], "search_fields": "a"}, "search_fields: 'a' is not of type 'array'"),
    ({"name": "Customer", "fields": [], "is_tree": "no"}, "is_tree: 'no' is not of type 'boolean'"),
    ({"name": "Customer", "fields": [], "permissions": {"Sales": ["read", "fly"]}},
     "permissions.Sales.1: 'fly' is not one of 'read'"),
    ({"name": "Customer", "fields": [], "sort_order": "up"}, "sort_order: 'up' is not one of 'asc', 'desc'"),
])
def test_wrong_doctype_value_types(tmp_path: Path, raw: dict[str, Any], message: str) -> None:
    p = only(tmp_path, {"c.yaml": raw})
    assert_names(p, tmp_path / "c.yaml", "Customer", None, message)


def test_a_field_that_is_not_a_mapping_is_named_by_position(tmp_path: Path) -> None:
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld("a"), "oops")})  # type: ignore[arg-type]
    assert_names(p, tmp_path / "c.yaml", "Customer", "fields[1]", "'oops' is not of type 'object'")


@pytest.mark.parametrize(("name", "hint"), [
    ("Customer Name", "e.g. 'customer_name'"), ("1abc", "use lower_snake_case"), ("CustomerName", "customername"),
    ("a" * 61, "is too long (at most 60 characters)"),
])
def test_bad_field_names(tmp_path: Path, name: str, hint: str) -> None:
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld(name))})
    assert_names(p, tmp_path / "c.yaml", "Customer", name, hint)


@pytest.mark.parametrize("name", ["customer", "Customer  Group", "Customer_Group", "C" * 60, " Customer"])
def test_bad_doctype_names(tmp_path: Path, name: str) -> None:
    p = only(tmp_path, {"c.yaml": doctype(name, fld("a"))})
    assert p.file == str(tmp_path / "c.yaml")
    assert "doctype name" in p.message or "is too long" in p.message


def test_longest_names_are_accepted(tmp_path: Path) -> None:
    write(tmp_path, {"c.yaml": doctype("C" * 59, fld("a" * 60))})
    assert list(load_doctypes([tmp_path])) == ["C" * 59]


# ------------------------------------------------------------ field rules


def test_duplicate_field_names(tmp_path: Path) -> None:
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld("code"), fld("city"), fld("code", "Int"))})
    assert_names(p, tmp_path / "c.yaml", "Customer", "code", "duplicate field name")


@pytest.mark.parametrize("name", [
    "name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "parent", "parenttype",
    "parentfield", "tree_path", "doctype", "class", "def", *DOCUMENT_ATTRIBUTES,
])
def test_reserved_field_names(tmp_path: Path, name: str) -> None:
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld(name))})
    assert_names(p, tmp_path / "c.yaml", "Customer", name, "is a reserved name")


@pytest.mark.parametrize("name", sorted(a for a in dir(Document) if not a.startswith("_")))
def test_every_public_document_attribute_is_reserved(tmp_path: Path, name: str) -> None:
    """Methods added to Document later are refused as field names too (doc.<name> would be the method)."""
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld(name))})
    assert_names(p, tmp_path / "c.yaml", "Customer", name, "is a reserved name")


def test_document_attributes_are_reserved() -> None:
    assert {"insert", "save", "as_dict", "get_doc_before_save", "flags", "meta", "parent_doc"} <= RESERVED_NAMES


@pytest.mark.parametrize(("spec", "message"), [
    (fld("kind", "Select"), "Select needs 'options'"),
    (fld("email", options="Mail"), "Data options must be one of Email, Phone, URL, not 'Mail'"),
    (fld("count", "Int", options="x"), "options does not apply to Int fields"),
    (fld("code", non_negative=True), "non_negative applies only to Int, Float, Currency and Percent, not Data"),
    (fld("count", "Int", length=5), "length does not apply to Int fields"),
    (fld("code", precision=2), "precision applies only to Float, Currency and Percent, not Data"),
    (fld("sec", "Section Break", required=True), "Section Break is layout only"),
    (fld("notes", "Text", unique=True), "unique is not supported for Text fields"),
    (fld("notes", "Long Text", index=True), "index is not supported for Long Text fields"),
    (fld("secret", "Password", in_filter=True), "in_filter is not supported for Password fields"),
    (fld("rows", "Table", options="Customer Row", in_filter=True), "in_filter is not supported for Table fields"),
    (fld("sec", "Column Break", index=True), "index is not supported for Column Break fields"),
    (fld("group", "Link"), "Link needs 'options' naming the target doctype"),
    (fld("group", "Link", options=["A", "B"]), "Link needs 'options'"),
    (fld("rows", "Table", options="Customer Row", required=True), "Table fields take neither"),
    (fld("count", "Int", default="abc"), "default 'abc' is not valid for a Int field"),
    (fld("count", "Int", default=float("inf")), "default inf is not valid for a Int field"),
    (fld("rate", "Currency", default="1e20"), "is too large"),
    (fld("flag", "Check", default=2), "default 2 is not valid for a Check field"),
    (fld("kind", "Select", options=["A", "B"], default="C"), "'C' is not one of 'A', 'B'"),
    (fld("count", "Int", default="Today"), "default 'Today' applies only to Date, Datetime fields, not Int"),
    (fld("at", "Time", default="Now"), "default 'Now' applies only to Date, Datetime fields, not Time"),
    (fld("day", "Date", default="31/01/2024"), "is not a date"),
    (fld("secret", "Password", default="hunter2"), "Password fields cannot have a default"),
    (fld("email", options="Email", default="nobody"), "'nobody' is not a valid email address"),
    (fld("code", length=3, default="ABCD"), "is too long"),
    (fld("code", depends_on="status = 'Open'"), "depends_on: unexpected character '=' (use '==') at column 8"),
    (fld("code", mandatory_depends_on="__import__('os')"), "mandatory_depends_on: names starting with '__'"),
    (fld("code", read_only_depends_on="doc.x.y"), "read_only_depends_on: unexpected token '.' at column 6"),
    (fld("code", depends_on="statuss == 'Open'"), "depends_on refers to unknown field(s) statuss"),
])
def test_field_rules(tmp_path: Path, spec: dict[str, Any], message: str) -> None:
    found = problems(tmp_path, {"row.yaml": ROW, "c.yaml": doctype("Customer", fld("status"), spec)})
    assert len(found) == 1, "\n".join(map(str, found))
    assert_names(found[0], tmp_path / "c.yaml", "Customer", spec["name"], message)


def test_valid_defaults_and_yaml_12_scalars(tmp_path: Path) -> None:
    text = """\
name: Customer
fields:
  - {name: answer, type: Select, options: [Yes, No, On, Off], default: No}
  - {name: call_at, type: Time, default: 10:30}
  - {name: since, type: Date, default: 2024-01-31}
  - {name: today, type: Date, default: Today}
  - {name: stamp, type: Datetime, default: Now}
  - {name: made_by, type: Link, options: DocType, default: __user}
  - {name: count, type: Int, default: 010}
  - {name: flag, type: Check, default: true}
  - {name: code, type: Data, length: 5.0}
"""
    write(tmp_path, {"c.yaml": text})
    meta = load_doctypes([tmp_path])["Customer"]
    f = meta.fields_by_name
    assert f["answer"].select_options == ("Yes", "No", "On", "Off")
    assert (f["answer"].default, f["call_at"].default, f["since"].default) == ("No", "10:30", "2024-01-31")
    assert f["count"].default == 10
    assert f["flag"].default is True
    assert f["code"].length == 5 and isinstance(f["code"].length, int)


# --------------------------------------------------------- cross-references


def test_link_to_missing_doctype_suggests_a_close_name(tmp_path: Path) -> None:
    p = only(tmp_path, {"g.yaml": GROUP, "c.yaml": doctype("Customer", fld("group", "Link", options="Grop"))})
    assert_names(p, tmp_path / "c.yaml", "Customer", "group", "Link to unknown doctype 'Grop' (did you mean 'Group'?)")


def test_table_of_missing_doctype(tmp_path: Path) -> None:
    p = only(tmp_path, {"c.yaml": doctype("Customer", fld("rows", "Table", options="Nothing"))})
    assert_names(p, tmp_path / "c.yaml", "Customer", "rows", "Table of unknown doctype 'Nothing'")


def test_table_whose_options_is_not_a_child_doctype(tmp_path: Path) -> None:
    p = only(tmp_path, {"g.yaml": GROUP, "c.yaml": doctype("Customer", fld("rows", "Table", options="Group"))})
    assert_names(p, tmp_path / "c.yaml", "Customer", "rows", "Table options 'Group' is not a child doctype")


def test_link_to_a_child_doctype(tmp_path: Path) -> None:
    p = only(tmp_path, {"r.yaml": ROW, "c.yaml": doctype("Customer", fld("row", "Link", options="Customer Row"))})
    assert_names(p, tmp_path / "c.yaml", "Customer", "row", "Link to child doctype 'Customer Row'; use a Table field")


def test_child_doctype_with_a_table_field(tmp_path: Path) -> None:
    inner = doctype("Inner Row", fld("x"), is_child=True)
    outer = doctype("Outer Row", fld("rows", "Table", options="Inner Row"), is_child=True)
    p = only(tmp_path, {"i.yaml": inner, "o.yaml": outer})
    assert_names(p, tmp_path / "o.yaml", "Outer Row", "rows", "child doctypes cannot have Table fields")


@pytest.mark.parametrize("options", ["nowhere", "code", "group"])
def test_dynamic_link_options_must_name_a_link_to_doctype_field(tmp_path: Path, options: str) -> None:
    c = doctype("Customer", fld("code"), fld("group", "Link", options="Group"),
                fld("ref", "Dynamic Link", options=options))
    p = only(tmp_path, {"g.yaml": GROUP, "c.yaml": c})
    message = f"Dynamic Link options {options!r} must name a Link-to-DocType"
    assert_names(p, tmp_path / "c.yaml", "Customer", "ref", message)


def test_dynamic_link_through_a_link_to_doctype_is_valid(tmp_path: Path) -> None:
    c = doctype("Note", fld("ref_type", "Link", options="DocType"), fld("ref", "Dynamic Link", options="ref_type"))
    write(tmp_path, {"n.yaml": c})
    assert load_doctypes([tmp_path])["Note"].fields_by_name["ref"].options == "ref_type"


@pytest.mark.parametrize(("keys", "field", "message"), [  # a name that is no field is not reported as one
    ({"title_field": "titel"}, None, "title_field 'titel' is not a field with a value (did you mean 'title'?)"),
    ({"sort_field": "created"}, None, "sort_field 'created' is not a field with a value"),
    ({"sort_field": "rows"}, None, "sort_field 'rows' is not a field with a value"),
    ({"title_field": "sec"}, None, "title_field 'sec' is not a field with a value"),
    ({"search_fields": ["title", "nope"]}, None, "search_fields: 'nope' is not a searchable field"),
    ({"duplicate_fields": ["rows"]}, "rows", "duplicate_fields: 'rows' is not a Data or Link field"),
])
def test_list_settings_must_name_fields(tmp_path: Path, keys: dict[str, Any], field: str | None, message: str) -> None:
    c = doctype("Customer", fld("title"), fld("sec", "Section Break"),
                fld("rows", "Table", options="Customer Row"), **keys)
    found = problems(tmp_path, {"r.yaml": ROW, "c.yaml": c})
    assert len(found) == 1, found
    assert_names(found[0], tmp_path / "c.yaml", "Customer", field, message)


@pytest.mark.parametrize(("fetch", "message"), [
    ("group.default_rate", "Group has no field 'default_rate' with a value"),
    ("code.group_name", "'code' is not a Link field of Customer"),
    ("nothing.group_name", "'nothing' is not a Link field of Customer"),
])
def test_fetch_from(tmp_path: Path, fetch: str, message: str) -> None:
    c = doctype("Customer", fld("code"), fld("group", "Link", options="Group"),
                fld("rate", "Currency", fetch_from=fetch))
    p = only(tmp_path, {"g.yaml": GROUP, "c.yaml": c})
    assert_names(p, tmp_path / "c.yaml", "Customer", "rate", f"fetch_from {fetch!r}: {message}")


def test_duplicate_doctype_names_in_two_files(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": doctype("Customer", fld("a")), "b.yaml": doctype("Customer", fld("b"))})
    assert_names(p, tmp_path / "b.yaml", "Customer", None, f"doctype also defined in {tmp_path / 'a.yaml'}")


def test_doctypes_that_would_share_a_table(tmp_path: Path) -> None:
    p = only(tmp_path, {"a.yaml": doctype("Sales Order", fld("a")), "b.yaml": doctype("Sales order", fld("b"))})
    assert_names(p, tmp_path / "b.yaml", "Sales order", None, "table tab_sales_order is also the table of doctype")


@pytest.mark.parametrize("name", ["DocType", "Naming Counter", "All Doctypes"])
def test_doctype_names_reserved_by_the_engine(tmp_path: Path, name: str) -> None:
    p = only(tmp_path, {"a.yaml": doctype(name, fld("a"))})
    assert_names(p, tmp_path / "a.yaml", name, None, "reserved")


@pytest.mark.parametrize(("keys", "message"), [
    ({"permissions": {"Sales User": ["read"]}}, "a child doctype cannot have permissions"),
    ({"is_submittable": True}, "a child doctype cannot have is_submittable"),
    ({"track_changes": True, "naming": {"rule": "hash"}}, "cannot have track_changes, naming"),
])
def test_child_doctype_with_parent_only_keys(tmp_path: Path, keys: dict[str, Any], message: str) -> None:
    p = only(tmp_path, {"r.yaml": doctype("Customer Row", fld("item"), is_child=True, **keys)})
    assert_names(p, tmp_path / "r.yaml", "Customer Row", None, message)


def test_tree_parent_field_must_link_to_the_tree(tmp_path: Path) -> None:
    g = doctype("Group", fld("group_name"), fld("parent_group", "Data"), fld("is_group", "Int"),
                is_tree=True, parent_field="parent_group")
    found = problems(tmp_path, {"g.yaml": g})
    assert [(p.field, p.message) for p in found] == [
        ("parent_group", "the tree parent field must be a Link to Group"),
        ("is_group", "is_group of a tree doctype must be a Check field"),
    ]


def test_parent_field_needs_is_tree(tmp_path: Path) -> None:
    p = only(tmp_path, {"g.yaml": doctype("Group", fld("a"), parent_field="parent_group")})
    assert_names(p, tmp_path / "g.yaml", "Group", "parent_group", "parent_field is only for is_tree doctypes")


# ----------------------------------------------------------------- naming


@pytest.mark.parametrize(("naming", "field", "message"), [
    ({"rule": "field"}, None, "naming: rule 'field' needs 'field' naming a field of Customer"),
    ({"rule": "field", "field": "titel"}, "titel", "rule 'field' needs 'field' naming a field of Customer "
                                                   "(did you mean 'title'?)"),
    ({"rule": "field", "field": "rows"}, "rows", "naming: the naming field cannot be of type Table"),
    ({"rule": "field", "field": "title", "pattern": "X-.#"}, None, "naming: 'pattern' does not apply to rule 'field'"),
    ({"rule": "hash", "field": "title"}, None, "naming: 'field' does not apply to rule 'hash'"),
    ({"rule": "autoincrement", "on_duplicate": "error"}, None, "'on_duplicate' does not apply to rule 'autoincrement'"),
    ({"rule": "series"}, None, "naming: rule 'series' needs a 'pattern'"),
    ({"rule": "series", "pattern": "CUST-.YYYY.-"}, None, "needs exactly one counter part of '#' between dots"),
    ({"rule": "series", "pattern": "CUST-#####"}, None, "(found none in 'CUST-#####')"),
    ({"rule": "series", "pattern": "C.##.-.###"}, None, "(found 2 in 'C.##.-.###')"),
    ({"rule": "series", "pattern": "C-.{regoin}.-.###"}, "regoin", "refers to unknown field 'regoin'"),
    ({"rule": "expression"}, None, "naming: rule 'expression' needs a 'pattern'"),
    ({"rule": "expression", "pattern": "{customer}-{title}"}, "customer", "refers to unknown field 'customer'"),
    ({"rule": "expression", "pattern": "{title.__class__}"}, None, "{title.__class__} must be a plain field name"),
    ({"rule": "expression", "pattern": "{title[0]}"}, None, "{title[0]} must be a plain field name"),
    ({"rule": "expression", "pattern": "{title!r}"}, None, "{title} must be a plain field name"),
    ({"rule": "expression", "pattern": "{title:{title}}"}, None, "must be a plain field name"),
    ({"rule": "expression", "pattern": "{title"}, None, "invalid pattern '{title'"),
    ({"rule": "expression", "pattern": "FIXED"}, None, "must use at least one {field}"),
    ({"rule": "expression", "pattern": "{sec}"}, "sec", "'sec' holds no value"),
])
def test_naming_rules(tmp_path: Path, naming: dict[str, Any], field: str | None, message: str) -> None:
    c = doctype("Customer", fld("title"), fld("sec", "Section Break"),
                fld("rows", "Table", options="Customer Row"), naming=naming)
    found = problems(tmp_path, {"r.yaml": ROW, "c.yaml": c})
    assert len(found) == 1, "\n".join(map(str, found))
    assert_names(found[0], tmp_path / "c.yaml", "Customer", field, message)


def test_valid_naming_rules_load(tmp_path: Path) -> None:
    files = {
        "a.yaml": doctype("Alpha", fld("title"), naming={"rule": "field", "field": "title", "on_duplicate": "error"}),
        "b.yaml": doctype("Beta", fld("region"), naming={"rule": "series", "pattern": "B-.{region}.-.YYYY.-.####"}),
        "c.yaml": doctype("Gamma", fld("title"), fld("day", "Date"),
                          naming={"rule": "expression", "pattern": "{title}-{day}", "separator": "_"}),
        "d.yaml": doctype("Delta", fld("a"), naming={"rule": "prompt"}),
        "e.yaml": doctype("Epsilon", fld("a"), naming={"rule": "autoincrement"}),
    }
    write(tmp_path, files)
    loaded = load_doctypes([tmp_path])
    assert loaded["Gamma"].naming.separator == "_"
    assert loaded["Beta"].naming.pattern == "B-.{region}.-.YYYY.-.####"


# ---------------------------------------------------- everything at once


def test_all_problems_of_all_files_are_reported_together(tmp_path: Path) -> None:
    files = {
        "a_syntax.yaml": "name: [unclosed\n",
        "b_schema.yaml": doctype("Bravo", fld("x", required="yes"), fld("Bad Name")),
        "c_refs.yaml": doctype("Charlie", fld("g", "Link", options="Nowhere"), fld("g2", "Link", options="Nowhere 2"),
                               title_field="missing"),
        "d_fields.yaml": doctype("Delta", fld("owner"), fld("n", "Int", default="abc"), fld("n", "Int")),
        "e_ok.yaml": GROUP,
    }
    found = problems(tmp_path, files)
    by_file: dict[str, list[str]] = {}
    for p in found:
        by_file.setdefault(Path(p.file).name, []).append(f"{p.field}: {p.message}")
    assert list(by_file) == ["a_syntax.yaml", "b_schema.yaml", "c_refs.yaml", "d_fields.yaml"]
    assert len(by_file["b_schema.yaml"]) == 2
    assert len(by_file["c_refs.yaml"]) == 3
    assert by_file["d_fields.yaml"] == [
        "owner: 'owner' is a reserved name; choose another field name",
        "n: default 'abc' is not valid for a Int field: 'abc' is not a whole number",
        "n: duplicate field name",
    ]


def test_a_broken_doctype_does_not_make_its_links_fail(tmp_path: Path) -> None:
    """One typo in Customer is one problem, not one more for every doctype linking to it."""
    files = {
        "customer.yaml": doctype("Customer", fld("title", lenght=5)),
        "invoice.yaml": doctype("Invoice", fld("customer", "Link", options="Customer")),
    }
    p = only(tmp_path, files)
    assert_names(p, tmp_path / "customer.yaml", "Customer", "title", "lenght (did you mean 'length'?)")


def test_a_broken_field_does_not_hide_the_other_problems_of_its_file(tmp_path: Path) -> None:
    c = doctype(
        "Customer",
        fld("Customer Name"),                                   # schema: bad name (field left out)
        fld("code", required="yes", lenght=3),                  # schema: bad value, unknown key (keys left out)
        fld("group", "Link", options="Nowhere"),                # cross-reference, still found
        fld("count", "Int", default="abc"),                     # field rule, still found
        fld("ref", "Dynamic Link", options="Customer Name"),    # refers to the left-out field: not reported
        title_field="Customer Name", search_fields=["code"],
        naming={"rule": "field", "field": "Customer Name"},
    )
    found = problems(tmp_path, {"c.yaml": c})
    assert [(p.field, p.message.split(":")[0]) for p in found] == [
        ("Customer Name", "field name 'Customer Name' is not valid"),
        ("code", "unknown key(s) of the field"),
        ("code", "required"),
        ("count", "default 'abc' is not valid for a Int field"),
        ("group", "Link to unknown doctype 'Nowhere'"),
    ]


def test_the_test_app_and_core_doctypes_load() -> None:
    doctypes = load_app_doctypes(TEST_APP)
    assert {"Version", "Test Customer", "Test Group", "Test Customer Row"} <= set(doctypes)
    group = doctypes["Test Group"]
    assert group.parent_field == "parent_test_group"
    assert group.fields_by_name["parent_test_group"].length == 140


def test_site_refuses_a_broken_app_and_lists_every_problem(tmp_path: Path) -> None:
    app = tmp_path / "app"
    write(app / "doctypes", {"a.yaml": doctype("Alpha", fld("x", "Link", options="Nowhere")),
                             "b.yaml": doctype("Bravo", fld("idx"))})
    with pytest.raises(MetaError) as info:
        Site(f"sqlite:///{tmp_path / 'x.db'}", app)
    assert [(Path(p.file).name, p.doctype, p.field) for p in info.value.problems] == [
        ("b.yaml", "Bravo", "idx"), ("a.yaml", "Alpha", "x"),
    ]
    assert info.value.status == 500
    assert not (tmp_path / "x.db").exists()


# ----------------------------------------------------------- immutability


def test_metadata_is_immutable() -> None:
    meta = load_app_doctypes(TEST_APP)["Test Customer"]
    field = meta.fields_by_name["customer_name"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.name = "Other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        field.required = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.naming.rule = "hash"  # type: ignore[misc]
    with pytest.raises(TypeError):
        meta.permissions["Guest"] = ("read",)  # type: ignore[index]
    with pytest.raises(TypeError):
        meta.fields_by_name["x"] = field  # type: ignore[index]
    assert isinstance(meta.fields, tuple) and isinstance(meta.search_fields, tuple)
    assert isinstance(meta.permissions["System Manager"], tuple)
    assert isinstance(meta.fields_by_name["customer_type"].options, tuple)
    assert hash(meta) == hash(load_app_doctypes(TEST_APP)["Test Customer"])


# ------------------------------------------------------------------ fuzz

_KEYS = ["name", "fields", "naming", "is_tree", "is_child", "title_field", "search_fields", "duplicate_fields",
         "sort_field",
         "permissions", "parent_field", "type", "options", "default", "length", "rule", "pattern", "field",
         "depends_on", "fetch_from", "required", "unique", "precision", "bogus"]
_TYPES = ["Data", "Int", "Link", "Table", "Select", "Dynamic Link", "Check", "Currency", "Date", "Time",
          "Section Break", "Password", "JSON"]
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["Customer", "Other", "x", "a.b", "{x}", "X-.##", "Today", "Email", "", "__user",
                     "name", "Customer Row", "DocType", "field", "series", "expression", "x == 1", "(("]),
    st.sampled_from(_TYPES), st.text(max_size=8),
)
_values = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(_KEYS), st.integers(0, 2), st.none()), _scalars, max_size=3),
    st.lists(st.dictionaries(st.sampled_from(_KEYS), _scalars, max_size=3), max_size=2),
)
_field = st.fixed_dictionaries(
    {"name": st.sampled_from(["x", "customer", "a_b", "idx", "Bad Name"]), "type": st.sampled_from(_TYPES)},
    optional={k: _values for k in ("options", "default", "length", "required", "depends_on", "fetch_from",
                                   "precision", "unique", "non_negative", "bogus")},
)
_doctype = st.fixed_dictionaries(
    {"name": st.sampled_from(["Customer", "Customer Row", "Other", "bad"]),
     "fields": st.one_of(st.lists(st.one_of(_field, _values), max_size=5), _values)},
    optional={k: _values for k in ("naming", "is_tree", "is_child", "title_field", "search_fields", "sort_field",
                                   "permissions", "parent_field", "bogus")}
    | {"naming": st.fixed_dictionaries({"rule": st.sampled_from(["field", "series", "expression", "hash"])},
                                       optional={"field": _values, "pattern": _values, "separator": _values})},
)


def _load_only_meta_errors(files: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, content in enumerate(files):
            text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
            (folder / f"f{i}.yaml").write_text(text, "utf-8")
        try:
            loaded = load_doctypes([folder])
        except MetaError as exc:
            assert exc.problems
            for p in exc.problems:
                assert str(p).startswith(str(folder / "f")) and p.message
            return
        assert all(d.source.startswith(tmp) for d in loaded.values())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_doctype, _values), min_size=1, max_size=3))
def test_random_doctype_dicts_give_a_meta_error_or_doctypes(files: list[Any]) -> None:
    _load_only_meta_errors(files)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="name: fields[]{}-,'\"\n #&*!|>?%@`\t\\x0", max_size=80))
def test_random_yaml_text_gives_a_meta_error_or_doctypes(text: str) -> None:
    _load_only_meta_errors([text])

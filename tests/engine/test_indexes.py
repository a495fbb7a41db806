"""Indexes as metadata: declared in the YAML, paired with the default sort, migrated, and checked."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine import Site
from engine.cli import docframe
from engine.errors import MetaError, SchemaSyncError, UniqueValidationError
from engine.metadata.app import load_app_doctypes
from engine.metadata.loader import load_doctypes
from engine.storage.indexes import list_index_gaps, serves, table_indexes

ORDER = """\
name: Order
naming: {{rule: field, field: title}}
sort_field: {sort}
fields:
  - {{name: title, type: Data, required: true}}
  - {{name: customer, type: Link, options: Party, in_filter: true}}
  - {{name: region, type: Data, search_index: true}}
  - {{name: agent, type: Link, options: Party}}
  - {{name: code, type: Data, length: 40}}
  - {{name: country, type: Data}}
  - {{name: notes, type: Small Text}}
  - {{name: order_date, type: Date}}
{extra}"""

PARTY = """\
name: Party
naming: {rule: field, field: party_name}
fields:
  - {name: party_name, type: Data, required: true}
"""


def write_app(root: Path, *, sort: str = "modified", extra: str = "") -> Path:
    (root / "doctypes").mkdir(parents=True, exist_ok=True)
    (root / "doctypes" / "order.yaml").write_text(ORDER.format(sort=sort, extra=extra))
    (root / "doctypes" / "party.yaml").write_text(PARTY)
    return root


def indexes_of(site: Site, table: str) -> dict[str, tuple[tuple[str, ...], bool]]:
    """The database's own indexes of ``table`` (expression indexes left out): name -> (columns, unique)."""
    out = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        found = sa.inspect(site.engine).get_indexes(table)
    for ix in found:
        if all(ix["column_names"]):
            out[ix["name"]] = (tuple(ix["column_names"]), bool(ix["unique"]))
    return out


# ------------------------------------------------------------------ the metadata


def test_filters_and_search_indexes_pair_with_the_default_sort(tmp_path: Path) -> None:
    dt = load_doctypes([write_app(tmp_path, sort="order_date") / "doctypes"])["Order"]
    planned = {ix.columns: ix for ix in table_indexes(dt)}
    assert ("customer", "order_date") in planned  # in_filter Link
    assert ("region", "order_date") in planned  # search_index
    assert ("agent",) in planned  # a plain Link: its own index (link checks)
    assert ("order_date",) in planned and ("modified",) in planned
    assert ("customer",) not in planned and ("code",) not in planned and ("notes",) not in planned


def test_declared_indexes_composite_and_unique(tmp_path: Path) -> None:
    extra = "indexes:\n  - {fields: [country, region]}\n  - {fields: [code, country], unique: true}\n"
    dt = load_doctypes([write_app(tmp_path, extra=extra) / "doctypes"])["Order"]
    assert [(ix.fields, ix.unique) for ix in dt.indexes] == [(("country", "region"), False),
                                                              (("code", "country"), True)]
    planned = {ix.columns: ix.unique for ix in table_indexes(dt)}
    assert planned[("country", "region")] is False and planned[("code", "country")] is True


@pytest.mark.parametrize(("extra", "message"), [
    ("indexes:\n  - {fields: [county]}\n", "field 'county': indexes[1]: 'county' is not a field with a value "
                                             "(did you mean 'country'?)"),
    ("indexes:\n  - {fields: [notes, code]}\n", "field 'notes': indexes[1]: Small Text fields cannot be indexed"),
    ("indexes:\n  - {fields: [code]}\n  - {fields: [code]}\n",
     "field 'code': indexes[2]: the same columns as an earlier index"),
    ("indexes:\n  - {fields: []}\n", "indexes"),
    ("indexes:\n  - {columns: [code]}\n", "columns"),
])
def test_bad_index_declarations_name_the_doctype_and_field(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(MetaError) as err:
        load_doctypes([write_app(tmp_path, extra=extra) / "doctypes"])
    text = str(err.value)
    assert "doctype 'Order'" in text and message in text, text


def test_search_index_on_a_text_field_is_refused(tmp_path: Path) -> None:
    root = write_app(tmp_path)
    path = root / "doctypes" / "order.yaml"
    path.write_text(path.read_text().replace("{name: notes, type: Small Text}",
                                             "{name: notes, type: Small Text, search_index: true}"))
    with pytest.raises(MetaError, match="field 'notes': search_index is not supported for Small Text fields"):
        load_doctypes([root / "doctypes"])


def test_serves_needs_the_filter_then_the_sort() -> None:
    assert serves(("territory", "modified"), {"territory"}, "modified")
    assert serves(("territory", "disabled", "modified"), {"territory", "disabled"}, "modified")
    assert serves(("modified",), set(), "modified")
    assert not serves(("modified",), {"territory"}, "modified")  # walks everything, filtering
    assert not serves(("territory",), {"territory"}, "modified")  # reads every match, then sorts
    assert not serves(("disabled", "territory", "modified"), {"territory"}, "modified")


# ------------------------------------------------------------------ docframe check


def test_check_warns_about_a_list_no_index_serves(tmp_path: Path) -> None:
    root = write_app(tmp_path, sort="notes")
    path = root / "doctypes" / "order.yaml"
    path.write_text(path.read_text().replace("{name: country, type: Data}",
                                             "{name: country, type: Data, in_filter: true}"))
    result = CliRunner().invoke(docframe, ["--app", str(root), "check"])
    assert result.exit_code == 0, result.output
    assert ("warning: Order: the default sort 'notes desc' cannot be indexed (a Small Text field); "
            "every list page sorts the whole table") in result.output
    assert "OK: 2 doctypes, 1 warning(s)" in result.output


def test_check_reads_the_default_filters_hook(tmp_path: Path) -> None:
    root = write_app(tmp_path)
    (root / "hooks").mkdir()
    (root / "hooks" / "__init__.py").write_text("")
    (root / "hooks" / "order.py").write_text(
        "from engine import hookimpl\n\n\n@hookimpl\ndef default_filters(ctx):\n"
        "    return [['country', '=', 'DE']]\n")
    result = CliRunner().invoke(docframe, ["--app", str(root), "check"])
    assert result.exit_code == 0, result.output
    assert ("warning: Order: the list filtered by Country (country), sorted by modified desc, has no index (each page "
            "reads every matching row and sorts them); declare it under indexes: - {fields: [country, modified]}"
            ) in result.output
    # The customer filter on top of the default one is served by (customer, modified).
    assert "OK: 2 doctypes, 1 warning(s)" in result.output
    # Declaring the index the warning names silences it.
    path = root / "doctypes" / "order.yaml"
    path.write_text(path.read_text() + "indexes:\n  - {fields: [country, modified]}\n")
    result = CliRunner().invoke(docframe, ["--app", str(root), "check"])
    assert result.exit_code == 0 and "warning" not in result.output, result.output


def test_the_bundled_app_has_no_list_without_an_index() -> None:
    result = CliRunner().invoke(docframe, ["check"])
    assert result.exit_code == 0 and "warning" not in result.output, result.output
    root = Path(__file__).resolve().parents[2]
    for dt in load_app_doctypes(root).values():
        assert list_index_gaps(dt, [["works_at", "is", "not set"]] if dt.name == "Customer" else []) == [], dt.name


# ------------------------------------------------------------------ migrate


def test_migrate_adds_and_drops_declared_indexes(tmp_path: Path, open_site) -> None:
    root = write_app(tmp_path)
    site = open_site(root)
    site.migrate()
    url = site.engine.url.render_as_string(hide_password=False)
    before = indexes_of(site, "tab_order")
    assert before["ix_tab_order_customer_modified"] == (("customer", "modified"), False)
    assert before["ix_tab_order_agent"] == (("agent",), False)
    site.dispose()

    write_app(tmp_path, extra=("indexes:\n  - {fields: [country, region]}\n"
                               "  - {fields: [code, country], unique: true}\n"))
    site = open_site(root, url)
    plan = site.migrate(dry_run=True)
    assert [str(s) for s in plan.steps] == [
        "add index    Order: ix_tab_order_country_region",
        "add index    Order: unique ux_tab_order_code_country",
    ]
    site.migrate()
    after = indexes_of(site, "tab_order")
    assert after["ix_tab_order_country_region"] == (("country", "region"), False)
    assert after["ux_tab_order_code_country"] == (("code", "country"), True)
    assert not site.migrate(dry_run=True)
    with site.session() as s:
        s.insert("Order", title="A", code="X1", country="DE")
        with pytest.raises(UniqueValidationError, match="Order: Code and Country 'X1', 'DE' together are already "
                                                        "used by another Order"):
            s.insert("Order", title="B", code="X1", country="DE")
        s.insert("Order", title="C", code="X1", country="FR")
    site.dispose()

    write_app(tmp_path)  # both declared indexes removed again
    site = open_site(root, url)
    assert [str(s) for s in site.migrate(dry_run=True).steps] == [
        "drop index   Order: ix_tab_order_country_region",
        "drop index   Order: ux_tab_order_code_country",
    ]
    site.migrate()
    assert indexes_of(site, "tab_order") == before


def test_a_unique_index_is_refused_while_values_repeat(tmp_path: Path, open_site) -> None:
    root = write_app(tmp_path)
    site = open_site(root)
    site.migrate()
    with site.session() as s:
        for title in ("A", "B"):
            s.insert("Order", title=title, code="X1", country="DE")
    url = site.engine.url.render_as_string(hide_password=False)
    site.dispose()
    write_app(tmp_path, extra="indexes:\n  - {fields: [code, country], unique: true}\n")
    site = open_site(root, url)
    with pytest.raises(SchemaSyncError, match=r"Order, field Code \(code\): cannot add unique index "
                                              r"ux_tab_order_code_country on code \+ country: duplicate values "
                                              r"'X1' / 'DE' \(2 records\)"):
        site.migrate()
    assert "ux_tab_order_code_country" not in indexes_of(site, "tab_order")


def test_changing_the_sort_field_moves_the_filter_indexes(tmp_path: Path, open_site) -> None:
    root = write_app(tmp_path)
    site = open_site(root)
    site.migrate()
    url = site.engine.url.render_as_string(hide_password=False)
    site.dispose()
    write_app(tmp_path, sort="order_date")
    site = open_site(root, url)
    steps = [str(s) for s in site.migrate(dry_run=True).steps]
    assert "drop index   Order: ix_tab_order_customer_modified" in steps
    assert "add index    Order: ix_tab_order_customer_order_date" in steps
    site.migrate()
    assert indexes_of(site, "tab_order")["ix_tab_order_region_order_date"] == (("region", "order_date"), False)

"""``docframe report``: the app's reports from the command line, as on the desk's report page."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from engine import Site
from engine.cli import docframe
from tests.conftest import REPO_ROOT


@pytest.fixture
def report(new_database: Callable[[], str], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """report(*args): ``docframe report ...`` on the bundled app with three customers and a Sales User."""
    url = new_database()
    site = Site(url, REPO_ROOT)
    site.migrate()
    with site.session() as s:
        s.insert("User", name="rep@example.com", email="rep@example.com", roles=[{"role": "Sales User"}])
        s.insert("Customer", customer_name="Umbrella", customer_type="Company", customer_manager="rep@example.com")
        s.insert("Customer", customer_name="Wayne", customer_type="Individual", first_name="B", last_name="Wayne")
        s.insert("Customer", customer_name="Stark", customer_type="Company")
    site.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOCFRAME_APP", raising=False)
    monkeypatch.delenv("DOCFRAME_REPLICA_URLS", raising=False)
    runner = CliRunner()
    yield lambda *args: runner.invoke(docframe, ["--db", url, "report", *args], catch_exceptions=False)


def test_without_a_name_it_lists_the_reports_with_their_filters(report) -> None:
    result = report()
    assert result.exit_code == 0, result.output
    listed = {line.split(" on ")[0].strip(): line for line in result.stdout.splitlines()}
    assert {"Customers by Group", "Accounts Receivable", "Balance Report"} <= set(listed)
    assert "filters: territory, customer_type" in listed["Customers by Group"]


def test_it_prints_a_table_or_writes_csv_and_xlsx(report, tmp_path: Path) -> None:
    text = report("Customers by Group")
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines() == ["Customer Group          Customers",
                                        "----------------------  ---------",
                                        "Default Customer Group          3",
                                        "(1 row)"]
    csv = report("customers-by-group", "--filter", "customer_type=Company", "--format", "csv")
    assert csv.stdout.splitlines() == ["Customer Group,Customers", "Default Customer Group,2"]
    xlsx = report("Customers by Group", "--format", "xlsx", "-o", "groups.xlsx")
    assert xlsx.exit_code == 0 and "Wrote 1 row(s) of Customers by Group to groups.xlsx" in xlsx.stdout
    sheet = load_workbook(io.BytesIO((tmp_path / "groups.xlsx").read_bytes())).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [["Customer Group", "Customers"],
                                                                   ["Default Customer Group", 3]]


def test_the_users_permissions_and_record_rules_decide(report) -> None:
    mine = report("Customers by Group", "--user", "rep@example.com", "--format", "csv")
    assert mine.exit_code == 0, mine.output
    assert mine.stdout.splitlines()[1:] == ["Default Customer Group,1"]  # a Sales User counts their own
    nobody = report("Customers by Group", "--user", "nobody@example.com")
    assert nobody.exit_code == 1
    assert "User 'nobody@example.com' has no permission to see the report 'Customers by Group'" in nobody.output


def test_bad_input_is_one_clear_line(report) -> None:
    bad_value = report("Customers by Group", "--filter", "customer_type=Robot")
    assert bad_value.exit_code == 1
    assert "Error: Customers by Group: Customer Type 'Robot' is not one of" in bad_value.output
    unknown = report("Customers by Group", "--filter", "colour=red")
    assert unknown.exit_code == 2
    assert "has no filter 'colour'; its filters are: customer_type, territory" in unknown.output
    malformed = report("Customers by Group", "--filter", "customer_type")
    assert malformed.exit_code == 2 and "'customer_type' is not NAME=VALUE" in malformed.output
    missing = report("No Such Report")
    assert missing.exit_code == 1
    assert "Report 'No Such Report' not found; the reports are: Accounts Receivable" in missing.output
    assert "Traceback" not in bad_value.output + unknown.output + missing.output

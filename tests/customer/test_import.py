"""The data import tool on the customer master: every mode, dry run, error file, bad files, the CLI, a kill."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import Workbook

from engine import Site
from engine.errors import PermissionError
from engine.site import importer
from engine.site.importer import Importer
from engine.site.session import Session
from engine.site.tabular import ImportFileError

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def run(cm: Session, path: Path, **options) -> tuple[object, list]:
    results: list = []
    errors = options.pop("errors", None)
    summary = Importer(cm, options.pop("doctype", "Customer"), on_row=results.append, **options).run(path, errors)
    return summary, results


def _company(cm: Session) -> None:
    cm.insert("Company", company_name="Docframe Inc", abbr="DI", default_currency="USD")


def test_insert_with_continuation_rows_runs_the_hooks(cm: Session, tmp_path: Path):
    _company(cm)
    path = write_csv(tmp_path / "c.csv", [
        ["Customer Name", "Customer Type", "Company", "price_lists.price_list"],
        ["Acme", "Company", "Docframe Inc", "Standard Selling"],
        ["Globex", "Company", "Docframe Inc", ""],
    ])
    summary, results = run(cm, path)
    assert summary.counts["create"] == 2 and [r.name for r in results] == ["Acme", "Globex"]
    assert [r.price_list for r in cm.get_doc("Customer", "Acme").price_lists] == ["Standard Selling"]
    # every imported customer got its receivable account, as from the form
    assert cm.exists("Account", "Acme - DI") and cm.exists("Account", "Globex - DI")


def test_dry_run_shows_the_ids_and_errors_and_writes_nothing(cm: Session, tmp_path: Path):
    cm.insert("Customer", customer_name="Acme")
    path = write_csv(tmp_path / "c.csv", [
        ["Customer Name", "Customer Group", "credit_days"],
        ["Acme", "", ""], ["Acme", "", ""], ["Initech", "No Such Group", "-3"],
    ])
    summary, results = run(cm, path, dry_run=True)
    assert [(r.action, r.name) for r in results] == [("create", "Acme-1"), ("create", "Acme-2"), ("error", None)]
    assert results[0].messages == ["possible duplicate: a Customer named 'Acme' exists, so this one is 'Acme-1'"]
    assert any("does not exist" in m for m in results[2].messages)
    assert any("negative" in m for m in results[2].messages)  # every error of the row at once
    assert summary.rolled_back and cm.get_count("Customer") == 1


def test_dry_run_flags_possible_duplicates_by_tax_id_email_and_near_identical_name(cm: Session, tmp_path: Path,
                                                                                   monkeypatch):
    monkeypatch.setattr(importer, "BULK_SIZE", 2)  # earlier rows of the file in earlier batches, and in the same
    cm.insert("Customer", customer_name="ACME, Inc.", tax_id="DE 136 695 976")
    path = write_csv(tmp_path / "c.csv", [
        ["Customer Name", "Tax ID"],
        ["Acme Inc", ""],          # near-identical to the stored one
        ["Globex", "DE 136 695 976"],  # the stored one's tax ID
        ["Initech", "US-9"], ["Initrode", "US-9"],  # the same tax ID twice in the file: the second is flagged
        ["Umbrella", ""], ["umbrella."], ["Globex Ltd", ""],
    ])
    _, results = run(cm, path, dry_run=True)
    assert results[0].messages == ["possible duplicate: Customer 'ACME, Inc.' has a near-identical name"]
    assert results[1].messages == ["possible duplicate: Customer 'ACME, Inc.' has the same Tax ID 'DE 136 695 976'"]
    assert results[2].messages == [] and results[4].messages == []
    assert results[3].messages == ["possible duplicate: Customer 'Initech' has the same Tax ID 'US-9'"]
    assert results[5].messages == ["possible duplicate: Customer 'Umbrella' has a near-identical name"]
    assert results[6].messages == []
    assert all(r.action == "create" for r in results) and cm.get_count("Customer") == 1
    cm.insert("Contact", first_name="Jane", email_id="jane@example.com")
    contacts = write_csv(tmp_path / "p.csv", [["First Name", "Email Address"], ["Janet", "Jane@Example.com"]])
    _, results = run(cm, contacts, doctype="Contact", dry_run=True)
    assert results[0].messages == ["possible duplicate: Contact 'Jane' has the same Email Address 'jane@example.com'"]


def test_error_file_can_be_fixed_and_imported_again(cm: Session, tmp_path: Path):
    path = write_csv(tmp_path / "c.csv", [["Customer Name", "Customer Group"], ["Good", ""], ["Bad", "Nope"]])
    errors = tmp_path / "errors.csv"
    summary, _ = run(cm, path, errors=errors)
    assert summary.counts == {"create": 1, "update": 0, "unchanged": 0, "error": 1}
    rows = list(csv.reader(errors.open()))
    assert rows[0] == ["Customer Name", "Customer Group", "Row", "Column", "Message"]
    assert rows[1][:4] == ["Bad", "Nope", "3", "Customer Group"] and "does not exist" in rows[1][4]
    fixed = write_csv(tmp_path / "fixed.csv", [rows[0][:2], ["Bad", "Commercial" if cm.exists(
        "Customer Group", "Commercial") else "Default Customer Group"]])
    summary, _ = run(cm, fixed)
    assert summary.counts["create"] == 1 and cm.exists("Customer", "Bad")
    # the error file itself, its messages left as they were, imported again: the old messages are not data
    # and the new error file has one Row, Column and Message each
    again = write_csv(tmp_path / "again.csv", [rows[0], ["Worse", "Nowhere", "3", "Customer Group", "stale"]])
    errors2 = tmp_path / "errors2.csv"
    summary, _ = run(cm, again, errors=errors2)
    assert summary.unknown_columns == [] and summary.counts["error"] == 1
    rows2 = list(csv.reader(errors2.open()))
    assert rows2[0] == ["Customer Name", "Customer Group", "Row", "Column", "Message"]
    assert rows2[1][:4] == ["Worse", "Nowhere", "2", "Customer Group"] and "stale" not in rows2[1][4]


def test_all_or_nothing_writes_nothing_when_a_row_fails(cm: Session, tmp_path: Path):
    path = write_csv(tmp_path / "c.csv", [["Customer Name", "Customer Group"], ["One", ""], ["Two", "Nope"]])
    summary, _ = run(cm, path, all_or_nothing=True)
    assert summary.rolled_back and cm.get_count("Customer") == 0


def test_update_leaves_other_fields_and_rows_alone(cm: Session, tmp_path: Path):
    cm.insert("Customer", customer_name="Acme", notes="keep me", price_lists=[{"price_list": "Standard Selling"}])
    path = write_csv(tmp_path / "u.csv", [["ID", "Alternate Name"], ["Acme", "ACME Corp"], ["Missing", "x"]])
    _, results = run(cm, path, mode="update")
    doc = cm.get_doc("Customer", "Acme")
    assert doc.alternate_name == "ACME Corp" and doc.notes == "keep me" and len(doc.price_lists) == 1
    assert results[0].action == "update" and results[1].action == "error"
    _, results = run(cm, path, mode="update")
    assert results[0].action == "unchanged"


def test_upsert_is_idempotent_and_takes_a_natural_key(cm: Session, tmp_path: Path):
    path = write_csv(tmp_path / "u.csv", [["Customer Number", "Customer Name", "price_lists.price_list"],
                                          ["C-1", "Acme", "Standard Selling"], ["C-2", "Globex", ""]])
    first, _ = run(cm, path, mode="upsert", key="customer_number")
    again, results = run(cm, path, mode="upsert", key="customer_number")
    assert first.counts["create"] == 2 and again.counts["unchanged"] == 2
    assert len(cm.get_doc("Customer", "Acme").price_lists) == 1  # the row is not added twice
    changed = write_csv(tmp_path / "v.csv", [["Customer Number", "Alternate Name"], ["C-2", "Globex Corp"]])
    _, results = run(cm, changed, mode="upsert", key="customer_number")
    assert results[0].action == "update" and cm.get_value("Customer", "Globex", "alternate_name") == "Globex Corp"


def test_links_resolve_by_title_when_unambiguous(cm: Session, tmp_path: Path):
    cm.insert("Customer", customer_name="Acme")
    path = write_csv(tmp_path / "c.csv", [["Customer Name", "Customer Type", "First Name", "Last Name", "Works At"],
                                          ["Jane Roe", "Individual", "Jane", "Roe", "acme"]])
    _, results = run(cm, path)
    assert results[0].action == "create" and cm.get_value("Customer", "Jane Roe", "works_at") == "Acme"


def test_contacts_and_addresses_with_their_links_from_one_file_each(cm: Session, tmp_path: Path):
    cm.insert("Customer", customer_name="Acme")
    cm.insert("Customer", customer_name="Globex")
    contacts = write_csv(tmp_path / "contacts.csv", [
        ["First Name", "Email Address", "links.link_doctype", "links.link_name"],
        ["Jane", "jane@example.com", "Customer", "Acme"],
        ["", "", "Customer", "Globex"],  # continuation: Jane also works for Globex
        ["Hank", "hank@example.com", "Customer", "Globex"],
    ])
    summary, _ = run(cm, contacts, doctype="Contact")
    assert summary.counts["create"] == 2
    assert cm.get_count("Contact", [["Dynamic Link", "link_name", "=", "Globex"]]) == 2
    addresses = write_csv(tmp_path / "addresses.csv", [
        ["Address Title", "Address Line 1", "City", "Country", "links.link_doctype", "links.link_name"],
        ["Acme HQ", "1 Main St", "Springfield", "US", "Customer", "Acme"],
    ], delimiter=";")
    summary, _ = run(cm, addresses, doctype="Address")
    assert summary.counts["create"] == 1 and cm.get_count("Address") == 1


def test_xlsx_with_dates_numbers_and_formulas(cm: Session, tmp_path: Path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Customer Name", "Credit Days"])
    sheet.append(["Acme", 30])
    sheet.append(["Globex", "=10+5"])  # never computed by a spreadsheet program: no cached value
    book.save(tmp_path / "c.xlsx")
    _, results = run(cm, tmp_path / "c.xlsx")
    assert results[0].action == "create" and cm.get_value("Customer", "Acme", "credit_days") == 30
    assert results[1].action == "create" and cm.get_value("Customer", "Globex", "credit_days") is None


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"\x00\x01\x02binary", r"not a text \(CSV\) file"),
    (b'Customer Name\n"unterminated\n', None),
])
def test_bad_csv_files_are_clear_errors(cm: Session, tmp_path: Path, content: bytes, message: str | None):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    if message is None:  # bad quoting: read to the end as one cell, reported as a row, never a crash
        summary, _ = run(cm, path)
        assert summary.documents <= 1
        return
    with pytest.raises(ImportFileError, match=message):
        run(cm, path)


def test_header_only_ragged_rows_unknown_columns_and_windows_encoding(cm: Session, tmp_path: Path):
    summary, _ = run(cm, write_csv(tmp_path / "h.csv", [["Customer Name"]]))
    assert summary.documents == 0
    with pytest.raises(ImportFileError, match="not an XLSX"):
        run(cm, write_csv(tmp_path / "fake.xlsx", [["x"]]))
    path = write_csv(tmp_path / "w.csv", [["Customer Name", "Shoe Size"], ["Café Müller", "42", "extra"],
                                          ["Short"]], encoding="cp1252")
    summary, results = run(cm, path)
    assert summary.unknown_columns == ["Shoe Size"]
    assert [r.name for r in results] == ["Café Müller", "Short"]


def test_import_needs_the_import_permission(cm: Session, cm_site: Site, tmp_path: Path):
    cm.insert("User", name="clerk@example.com", email="clerk@example.com", roles=[{"role": "Sales User"}])
    with cm_site.session("clerk@example.com") as clerk, pytest.raises(PermissionError, match="import"):
        Importer(clerk, "Customer")


def test_cli_import_export_and_a_kill_mid_way(cm: Session, cm_site: Site, tmp_path: Path):
    if cm_site.engine.dialect.name != "sqlite":
        pytest.skip("the CLI test uses its own SQLite file")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    cli = [sys.executable, "-m", "engine.cli", "--db", db]
    subprocess.run([*cli, "migrate", "--admin-password", "pw"], check=True, capture_output=True, timeout=120)
    big = write_csv(tmp_path / "big.csv", [["Customer Name"]] + [[f"Customer {i}"] for i in range(20000)])
    # all-or-nothing: killed mid-way, the database is as before
    proc = subprocess.Popen([*cli, "import", "Customer", str(big), "--all-or-nothing"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(2.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    site = Site(db)
    try:
        with site.session() as s:
            assert s.get_count("Customer") == 0
    finally:
        site.dispose()
    small = write_csv(tmp_path / "small.csv", [["Customer Name"], ["Acme"], ["Acme"]])
    done = subprocess.run([*cli, "import", "Customer", str(small), "--dry-run"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "create    Acme-1" in done.stdout and "Dry run, nothing written" in done.stdout
    long = write_csv(tmp_path / "long.csv", [["Customer Name", "Customer Group"], *[[f"C{i}", ""] for i in range(250)],
                                             ["Late", "Nope"]])
    done = subprocess.run([*cli, "import", "Customer", str(long), "--dry-run"], capture_output=True, text=True,
                          timeout=120)
    late = [line for line in done.stdout.splitlines() if "row    252" in line]  # after the first 200: still listed
    assert late and "error" in late[0] and "does not exist" in late[0], done.stdout[-500:]
    assert "50 more not listed" in done.stdout
    done = subprocess.run([*cli, "import", "Customer", str(small)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "2 create" in done.stdout and "rows/s" in done.stdout
    out = tmp_path / "out.xlsx"
    done = subprocess.run([*cli, "export", "Customer", "--format", "xlsx", "-o", str(out)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "Wrote 2 Customer" in done.stdout
    again = subprocess.run([*cli, "import", "Customer", str(out), "--upsert"], capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and "2 unchanged" in again.stdout
    both = subprocess.run([*cli, "import", "Customer", str(out), "--update", "--upsert"], capture_output=True,
                          text=True, timeout=120)
    assert both.returncode == 2 and "--update and --upsert exclude each other" in both.stderr

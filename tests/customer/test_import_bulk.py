"""The import's bulk path gives every row the outcome the form gives it, one document at a time.

Files longer than one batch (``BULK_SIZE``), with repeated names across batches, rows
that fail their checks and rows that only the database refuses (a repeated unique
customer number), compared with inserting the same rows one by one.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import DocframeError
from engine.site import importer
from engine.site.fixtures import install_fixtures
from engine.site.session import Session
from tests.customer.conftest import clear_tables
from tests.customer.test_import import run, write_csv

HEADER = ["Customer Name", "Customer Group", "Customer Number", "Company"]


def _rows(count: int) -> list[list[str]]:
    rows = []
    for i in range(count):
        group = "Nope" if i % 97 == 5 else "Commercial" if i % 2 else ""
        number = "N-dup" if i in (30, 530) else f"N-{i}"  # the second one is refused by the unique index
        rows.append([f"Cust {i % 400}", group, number, "Docframe Inc"])
    return rows


def _setup(cm: Session) -> None:
    cm.insert("Company", company_name="Docframe Inc", abbr="DI", default_currency="USD")
    cm.insert("Customer Group", customer_group_name="Commercial", parent_customer_group="All Customer Groups")
    cm.insert("Customer", customer_name="Cust 7")


def _one_by_one(cm: Session, rows: list[list[str]]) -> list[tuple[str, str | None]]:
    outcomes: list[tuple[str, str | None]] = []
    for name, group, number, company in rows:
        try:
            doc = cm.insert("Customer", customer_name=name, customer_group=group or None, customer_number=number,
                            company=company)
        except DocframeError:
            outcomes.append(("error", None))
        else:
            outcomes.append(("create", doc.name))
    return outcomes


def _state(cm: Session) -> dict[str, object]:
    return {
        "customers": sorted(cm.get_list("Customer", pluck="name", limit=None)),
        "accounts": cm.get_count("Account", [["account_type", "=", "Receivable"]]),
        "versions": cm.get_count("Version", [["ref_doctype", "=", "Customer"]]),
    }


def test_bulk_import_matches_one_by_one(cm: Session, cm_site, tmp_path: Path):
    rows = _rows(1100)
    _setup(cm)
    expected = _one_by_one(cm, rows)
    expected_state = _state(cm)
    clear_tables(cm_site)
    with cm_site.session(ignore_permissions=True) as seed:
        install_fixtures(seed)
    _setup(cm)

    path = write_csv(tmp_path / "c.csv", [HEADER, *rows])
    errors = tmp_path / "errors.csv"
    summary, results = run(cm, path, errors=errors)
    assert [(r.action, r.name) for r in results] == expected
    assert _state(cm) == expected_state
    assert summary.counts["error"] == sum(1 for action, _ in expected if action == "error") > 10
    refused = next(r for r in results if r.line == 532)  # the header is row 1
    assert any("Customer Number" in m and "N-dup" in m for m in refused.messages), refused.messages
    assert cm.get_doc("Customer", "Cust 7-2").accounts[0].account  # its ledger account, from the batch hook
    assert len(errors.read_text().splitlines()) == summary.counts["error"] + 1


def test_bulk_all_or_nothing_and_dry_run_write_nothing(cm: Session, tmp_path: Path):
    _setup(cm)
    rows = _rows(700)
    path = write_csv(tmp_path / "c.csv", [HEADER, *rows])
    summary, _ = run(cm, path, all_or_nothing=True)
    assert summary.rolled_back and cm.get_count("Customer") == 1 and cm.get_count("Account", [
        ["account_type", "=", "Receivable"]]) == 1
    summary, dry = run(cm, path, dry_run=True)
    assert summary.rolled_back and cm.get_count("Customer") == 1
    summary, done = run(cm, path)
    assert [(r.action, r.name) for r in dry] == [(r.action, r.name) for r in done]  # the dry run told the truth


def test_a_small_bulk_size_gives_the_same_ids(cm: Session, tmp_path: Path, monkeypatch):
    """Repeats across many batch boundaries: the names still follow file order."""
    monkeypatch.setattr(importer, "BULK_SIZE", 3)
    path = write_csv(tmp_path / "c.csv", [["Customer Name"], *[["Same"]] * 8])
    _, results = run(cm, path)
    assert [r.name for r in results] == ["Same", *[f"Same-{i}" for i in range(1, 8)]]


def test_suffixes_continue_across_imports_and_after_a_hand_set_suffix(cm: Session, tmp_path: Path):
    """The second import finds the counters the first one created; a hand-made ``Same-9`` raises the floor."""
    path = write_csv(tmp_path / "c.csv", [["Customer Name"], ["Same"], ["Same"], ["Other"], ["Other"]])
    _, first = run(cm, path)
    cm.insert("Customer", customer_name="Same-9")
    _, again = run(cm, path)
    assert [r.name for r in first] == ["Same", "Same-1", "Other", "Other-1"]
    assert [r.name for r in again] == ["Same-10", "Same-11", "Other-2", "Other-3"]

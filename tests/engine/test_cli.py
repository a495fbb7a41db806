"""The docframe command line, through click's CliRunner against real databases."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from engine import Site
from engine.cli import docframe
from engine.site.demo import demo_files, read_demo

WIDGET = """\
name: Widget
naming: {rule: field, field: title}
title_field: title
fields:
  - {name: title, type: Data, label: Title, required: true}
  - {name: code, type: Data, label: Code, length: 200}
"""


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """run(*args, env=None): invoke docframe in tmp_path, with no DOCFRAME_* variables from outside."""
    monkeypatch.chdir(tmp_path)
    for var in ("DOCFRAME_DATABASE_URL", "DOCFRAME_APP"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(docframe, list(args), env=env, catch_exceptions=False)

    return invoke


def write_app(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# -------------------------------------------------------------------- check

def test_check_bundled_app_passes(run):
    result = run("check")
    assert result.exit_code == 0, result.output
    bundled = len(list((Path(__file__).resolve().parents[2] / "doctypes").glob("*.yaml")))
    assert result.stdout.strip() == f"OK: {bundled} doctypes"


BROKEN = {
    "doctypes/syntax.yaml": "name: Syntax\nfields:\n  - {name: a, type: Data\n  - {name: b, type: Data}\n",
    "doctypes/unknown_key.yaml": "name: Unknown Key\nfields:\n  - {name: a, type: Data, colour: red}\n",
    "doctypes/wrong_type.yaml": "name: Wrong Type\nfields:\n  - {name: a, type: Data, required: maybe}\n",
    "doctypes/missing_link.yaml": "name: Missing Link\nfields:\n  - {name: grp, type: Link, options: Nowhere}\n",
    "doctypes/duplicate.yaml": "name: Duplicate\nfields:\n  - {name: a, type: Data}\n  - {name: a, type: Int}\n",
    "doctypes/bad_select.yaml": "name: Bad Select\nfields:\n  - {name: status, type: Select}\n",
    "doctypes/repeated.yaml": "name: Repeated\nfields:\n  - {name: kind, type: Select, options: [A, A]}\n",
    "doctypes/bad_tree.yaml": "name: Bad Tree\nis_tree: true\nparent_field: tree_path\n"
                              "fields:\n  - {name: a, type: Data}\n",
}


def test_check_prints_every_problem_on_its_own_line(run, tmp_path):
    write_app(tmp_path / "app", BROKEN)
    result = run("--app", "app", "check")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stdout.splitlines()
    d = "app/doctypes/"

    def has(prefix: str, *words: str) -> bool:
        return any(line.startswith(prefix) and all(w in line for w in words) for line in lines)

    assert has(f"{d}syntax.yaml: invalid YAML at line 4", "column")
    assert has(f"{d}unknown_key.yaml: doctype 'Unknown Key': field 'a': ", "unknown key", "colour")
    assert has(f"{d}wrong_type.yaml: doctype 'Wrong Type': field 'a': ", "required", "'maybe'")
    assert has(f"{d}missing_link.yaml: doctype 'Missing Link': field 'grp': ", "unknown doctype 'Nowhere'")
    assert has(f"{d}duplicate.yaml: doctype 'Duplicate': field 'a': ", "duplicate field")
    assert has(f"{d}bad_select.yaml: doctype 'Bad Select': field 'status': ", "options")
    assert has(f"{d}repeated.yaml: doctype 'Repeated': field 'kind': ", "options", "distinct")
    assert has(f"{d}bad_tree.yaml: doctype 'Bad Tree': field 'tree_path': ", "parent_field", "is a reserved name")
    assert result.stderr.startswith("Error: ") and "problem(s)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_check_reports_the_rest_of_a_doctype_past_its_broken_keys(run, tmp_path):
    write_app(tmp_path / "app", {"doctypes/widget.yaml": (
        "name: Widget\ncolour: red\nsort_order: sideways\nnaming: {rule: field, field: titel}\n"
        "permissions: {Sales User: {read: true}}\n"
        "fields:\n  - {name: title, type: Data}\n  - {name: qty, type: Integer}\n  - {name: sel, type: Select}\n")})
    result = run("--app", "app", "check")
    assert result.exit_code == 1 and "Traceback" not in result.output
    out = result.stdout
    assert "doctype 'Widget': unknown key(s): colour" in out
    assert "sort_order: 'sideways' is not one of 'asc', 'desc'" in out
    assert "field 'qty': type: 'Integer' is not one of" in out and "(use 'Int')" in out
    assert "permissions.Sales User: {'read': True} is not a list of actions: write each role as Role: [read" in out
    # past the broken keys, the rest of the doctype is checked in the same run
    assert "field 'sel': Select needs 'options'" in out
    assert "naming: rule 'field' needs 'field' naming a field of Widget (did you mean 'title'?)" in out
    assert "6 problem(s)" in result.stderr


def test_check_warns_about_a_role_no_standard_record_creates(run, tmp_path):
    write_app(tmp_path / "app", {
        "doctypes/widget.yaml": "name: Widget\nfields:\n  - {name: title, type: Data}\n"
                                "permissions: {Sales Usr: [read], Sales User: [read, write]}\n",
        "fixtures/roles.yaml": "- {doctype: Role, name: Sales User}\n"})
    result = run("--app", "app", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "warning: Widget: permissions names role 'Sales Usr', which no standard record (fixtures/) creates (did "
        "you mean 'Sales User'?); unless it is created as a Role record, nobody has it",
        "OK: 1 doctypes, 1 warning(s)"]


def test_check_reports_a_misspelled_hook(run, tmp_path):
    write_app(tmp_path / "app", {
        "doctypes/widget.yaml": WIDGET,
        "hooks/widget.py": "from engine import hookimpl\n\n\n@hookimpl\ndef validat(doc, ctx):\n    pass\n",
    })
    result = run("--app", "app", "check")
    assert result.exit_code == 1
    assert "unknown hook 'validat'" in result.stdout and "widget.py" in result.stdout
    assert "Traceback" not in result.output


def test_check_app_from_environment(run, tmp_path):
    write_app(tmp_path / "mine", {"doctypes/widget.yaml": WIDGET})
    result = run("check", env={"DOCFRAME_APP": str(tmp_path / "mine")})
    assert (result.exit_code, result.stdout.strip()) == (0, "OK: 1 doctypes")


# ------------------------------------------------------------------ migrate

def test_migrate_dry_run_then_apply(run, tmp_path, new_database):
    write_app(tmp_path / "app", {"doctypes/widget.yaml": WIDGET})
    url = new_database()
    dry = run("--db", url, "--app", "app", "migrate", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "create table Widget: " in dry.stdout and "add index    Widget: ix_tab_widget_modified" in dry.stdout
    assert "Dry run:" in dry.stdout and "not applied" in dry.stdout
    engine = sa.create_engine(Site(url, tmp_path / "app").engine.url)
    assert "tab_widget" not in sa.inspect(engine).get_table_names()
    applied = run("--app", "app", "migrate", env={"DOCFRAME_DATABASE_URL": url})
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.splitlines()[-1].startswith("Applied ")
    again = run("--db", url, "--app", "app", "migrate")
    assert again.exit_code == 0 and "Database is up to date" in again.stdout
    engine.dispose()


def test_a_dry_run_creates_no_sqlite_file_and_a_missing_folder_is_named(run, tmp_path):
    write_app(tmp_path / "app", {"doctypes/widget.yaml": WIDGET})
    file = tmp_path / "new.db"
    dry = run("--db", f"sqlite:///{file}", "--app", "app", "migrate", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith(f"Plan for sqlite:///{file} (not created yet):")
    assert "create table Widget: " in dry.stdout and not file.exists()
    missing = run("--db", f"sqlite:///{tmp_path}/nowhere/new.db", "--app", "app", "migrate")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert missing.stderr.strip() == (f"Error: cannot open the SQLite database {tmp_path}/nowhere/new.db: "
                                      f"the folder {tmp_path}/nowhere does not exist")


def test_migrate_refuses_unsafe_steps_with_one_clear_error(run, tmp_path, new_database):
    app = write_app(tmp_path / "app", {"doctypes/widget.yaml": WIDGET})
    url = new_database()
    assert run("--db", url, "--app", "app", "migrate").exit_code == 0
    site = Site(url, app)
    with site.session() as s:
        s.insert("Widget", title="Long", code="x" * 150)
    site.dispose()
    write_app(app, {"doctypes/widget.yaml": WIDGET.replace("length: 200", "length: 100")})

    refused = run("--db", url, "--app", "app", "migrate")
    assert refused.exit_code == 1
    assert "narrow       Widget.code: VARCHAR(200) -> VARCHAR(100)  [unsafe: needs --force]" in refused.stdout
    assert refused.stderr.startswith("Error: Refusing 1 unsafe schema change(s)")
    assert "Traceback" not in refused.output

    forced = run("--db", url, "--app", "app", "migrate", "--force")
    assert forced.exit_code == 1
    assert "Widget, field Code (code): cannot narrow VARCHAR(200) to VARCHAR(100)" in forced.stderr
    assert "longer than 100 characters" in forced.stderr


def test_default_database_is_docframe_db_in_the_current_folder(run, tmp_path):
    write_app(tmp_path / "app", {"doctypes/widget.yaml": WIDGET})
    result = run("--app", "app", "migrate")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "docframe.db").exists()


@pytest.mark.parametrize("url, message", [
    ("nosuch://x", "unsupported database 'nosuch'"),
    ("sqlite:////no/such/folder/x.db", "cannot open the SQLite database /no/such/folder/x.db: the folder "
                                       "/no/such/folder does not exist"),
    ("not a url", "database error: Could not parse"),
])
def test_bad_database_is_one_line_error(run, url, message):
    result = run("--db", url, "migrate")
    assert result.exit_code != 0
    assert message in result.stderr and "Traceback" not in result.output


# --------------------------------------------------------------------- demo

def test_demo_creates_database_with_bundled_data(run, tmp_path):
    result = run("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    out = result.stdout
    bundled = read_demo(demo_files(Path(__file__).resolve().parents[2] / "demo"))
    assert f"Loaded {len(bundled)} documents" in out
    counts = {" ".join(line.split()[:-1]): line.split()[-1] for line in out.splitlines() if line.startswith("  ")}
    assert (counts.get("Customer"), counts.get("Customer Group"), counts.get("Territory")) == ("15", "6", "6")
    assert "site = Site(" in out and "s.get_list('" in out
    site = Site(f"sqlite:///{tmp_path / 'demo.db'}")
    with site.session() as s:
        smiths = s.get_list("Customer", fields=["name", "territory"], filters={"customer_name": "John Smith"},
                            order_by="name asc")
        assert smiths == [{"name": "John Smith", "territory": "United States"},
                          {"name": "John Smith-1", "territory": "Germany"}]
        europe = s.get_count("Customer", filters={"territory": ["descendants of", "Europe"]})
        assert europe == 7
    site.dispose()

    again = run("demo", "--no-serve")
    assert again.exit_code == 0 and "Using the existing" in again.stdout and "Loaded" not in again.stdout
    rebuilt = run("demo", "--reset", "--no-serve")
    assert rebuilt.exit_code == 0 and "Loaded" in rebuilt.stdout


def test_demo_is_generic_and_all_or_nothing(run, tmp_path):
    write_app(tmp_path / "app", {
        "doctypes/widget.yaml": WIDGET,
        "demo/01_widgets.yaml": "- {doctype: Widget, title: One}\n- {doctype: Widget, title: Two, code: c}\n",
        "demo/02_more.yaml": "- {doctype: Widget, title: Three}\n- {doctype: Widget, colour: red}\n",
    })
    result = run("--app", "app", "demo", "--no-serve", "--db", "out/widgets.db")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 02_more.yaml: document 2 (Widget): ")
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "widgets.db").exists()

    write_app(tmp_path / "app", {"demo/02_more.yaml": "- {doctype: Widget, title: Three}\n"})
    ok = run("--app", "app", "demo", "--no-serve", "--db", "sqlite:///out/widgets.db")
    assert ok.exit_code == 0, ok.output
    assert "  Widget  3" in ok.stdout


def test_demo_only_on_sqlite(run):
    result = run("demo", "--no-serve", "--db", "postgresql://postgres@127.0.0.1:5432/test")
    assert result.exit_code == 2 and "SQLite" in result.stderr


def test_console_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "check"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    bundled = len(list((Path(__file__).resolve().parents[2] / "doctypes").glob("*.yaml")))
    assert (proc.returncode, proc.stdout.strip()) == (0, f"OK: {bundled} doctypes")


@pytest.mark.slow
def test_readme_demo_command_serves_the_api(tmp_path):
    """`docframe demo` as a new user runs it: builds the demo, then serves it on a real port."""
    import json
    import urllib.request

    import liveserver

    port = liveserver.free_port()
    cmd = [*liveserver.DOCFRAME, "demo", "--port", str(port)]
    with liveserver.serving("docframe demo", cmd, port, tmp_path / "demo.log", cwd=tmp_path, timeout=120) as server:
        base = server.url  # it answered /api/method/ping with {"message": "pong"}
        login = urllib.request.Request(f"{base}/api/method/login", method="POST",
                                       data=json.dumps({"usr": "Administrator", "pwd": "admin"}).encode(),
                                       headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(login, timeout=10) as answer:
            cookie = answer.headers["Set-Cookie"].split(";")[0]
            assert json.load(answer)["message"] == "Logged In"
        listing = urllib.request.Request(f"{base}/api/resource/Customer?limit_page_length=100",
                                         headers={"Cookie": cookie})
        with urllib.request.urlopen(listing, timeout=10) as answer:
            names = [row["name"] for row in json.load(answer)["data"]]
        assert "John Smith" in names and "John Smith-1" in names

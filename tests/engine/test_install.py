"""A regular (non-editable) install carries the bundled app: ``docframe`` works from any folder.

Builds the wheel, installs it without dependencies into a folder of its own (the test's
virtualenv has them), and runs the CLI from elsewhere with only that folder first on
the path, so nothing is read from the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the checkout (a build leaves build/ and *.egg-info behind)."""
    dist, src = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("src") / "docframe"
    shutil.copytree(REPO_ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.db", ".pytest_cache", ".ruff_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
                   check=True, capture_output=True, timeout=300)
    return next(dist.glob("docframe-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return target


def on_installed(target: Path, cwd: Path, code: str) -> str:
    """What Python ``code`` prints, run in ``cwd`` with the installed copy first on the path."""
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**os.environ, "PYTHONPATH": str(target)},
                          capture_output=True, text=True, check=True, timeout=300)
    return done.stdout


def run_installed(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("DOCFRAME_APP", None)
    env.pop("DOCFRAME_DATABASE_URL", None)
    code = "import sys; from engine.cli import main; sys.argv[0] = 'docframe'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_wheel_holds_the_engine_data_and_the_bundled_app(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("engine/metadata/doctype.schema.json", "engine/metadata/core_doctypes/user.yaml",
                     "docframe_app/doctypes/customer.yaml", "docframe_app/hooks/customer.py",
                     "docframe_app/fixtures/00_roles.yaml", "docframe_app/demo/03_customers.yaml",
                     "docframe_app/templates/api_docs.html", "docframe_app/templates/desk/form.html",
                     "docframe_app/templates/desk/fields/link.html", "engine/web/ui/views.py",
                     "engine/web/static/desk.js", "engine/web/static/desk.css"):
        assert expected in names, f"{expected} is missing from the installed package"
    assert not any(n.startswith(("tests/", "bench/", "hooks/")) for n in names)
    for init in (REPO_ROOT / "engine").rglob("__init__.py"):  # every package of the engine is packaged
        assert str(init.relative_to(REPO_ROOT)) in names, f"add {init.parent.name} to packages in pyproject.toml"


def test_the_installed_cli_finds_the_bundled_app_from_any_folder(installed: Path, tmp_path: Path):
    where = run_installed(installed, tmp_path, "--help")
    assert where.returncode == 0, where.stderr
    engine_file, app_dir = on_installed(installed, tmp_path, "import engine; from engine.metadata.app import "
                                        "bundled_app_dir; print(engine.__file__); print(bundled_app_dir())").split()
    assert Path(engine_file).is_relative_to(installed) and Path(app_dir).is_relative_to(installed)

    check = run_installed(installed, tmp_path, "check")
    assert check.returncode == 0, check.stderr
    demo = run_installed(installed, tmp_path, "demo", "--no-serve")
    assert demo.returncode == 0, demo.stderr
    assert "Loaded" in demo.stdout and (tmp_path / "demo.db").exists()
    # The installed hooks ran: every demo customer with a company got its receivable account.
    count = on_installed(installed, tmp_path, "from engine import Site; s = Site('sqlite:///demo.db').session(); "
                         "print(s.get_count('Account', {'account_type': 'Receivable', 'is_group': 0}))")
    assert int(count) > 0

"""Browser tests: Playwright (the pip package) driving Debian's chromium against a live docframe demo.

The server is ``docframe demo`` built in a temporary folder, then ``docframe serve`` on a
free loopback port. Without chromium (``DOCFRAME_CHROMIUM``, default /usr/bin/chromium)
or playwright the tests are skipped, except in CI (``CI`` set), where they fail.
Screenshots go to ``DOCFRAME_SCREENSHOTS`` (default tests/browser/screenshots/).
axe-core (tests/browser/package.json, ``npm install`` there) checks accessibility.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import liveserver

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("DOCFRAME_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("DOCFRAME_SCREENSHOTS") or HERE / "screenshots")
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DEMO_PASSWORD = "admin"
BACKGROUND_ROWS = 100


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"no chromium at {CHROMIUM} (apt-get install -y chromium)"
    if not AXE.exists():
        return f"axe-core is not installed ({AXE}: npm install in tests/browser)"
    return None


@pytest.fixture(scope="session")
def browser_tools() -> None:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)


@dataclass(frozen=True)
class Demo:
    url: str  # the served desk
    db: str  # its database URL, for setting up users and records beside the browser


@pytest.fixture(scope="session")
def demo(browser_tools: None, tmp_path_factory: pytest.TempPathFactory,
         request: pytest.FixtureRequest) -> Iterator[Demo]:
    """The demo, served. Users and records the tests make stay for the session."""
    folder = tmp_path_factory.mktemp("desk")
    db = folder / "demo.db"
    liveserver.docframe("demo", "--db", str(db), "--no-serve", cwd=folder, timeout=300)
    port = liveserver.free_port()
    cmd = [*liveserver.DOCFRAME, "--db", f"sqlite:///{db}", "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {"DOCFRAME_IMPORT_BACKGROUND_ROWS": str(BACKGROUND_ROWS)}  # a test's larger file goes to a job
    with liveserver.serving("docframe serve", cmd, port, folder / "serve.log", cwd=folder, env=env) as server, \
            liveserver.log_on_failure(request.config, server, "demo"):
        yield Demo(server.url, f"sqlite:///{db}")


@pytest.fixture(scope="session")
def browser(browser_tools: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, demo: Demo, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the live server; a failing test leaves a screenshot."""
    context = browser.new_context(base_url=demo.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # script errors and CSP refusals; a 4xx answer the test asked for is not one
    pg.on("console", lambda msg: errors.append(msg.text)
          if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    pg.js_errors = errors
    yield pg
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    def take(pg: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def check_a11y() -> Callable[[Any], list[str]]:
    """axe-core on the current page: the critical and serious violations, one line each."""

    def run(pg: Any) -> list[str]:
        pg.evaluate(AXE.read_text("utf-8"))  # through the devtools protocol: the page's CSP stays as it is
        result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [f"{v['id']} ({v['impact']}): {v['help']} -- {v['nodes'][0]['target']}"
                for v in result["violations"] if v["impact"] in ("critical", "serious")]

    return run


def login(pg: Any, user: str = "Administrator", password: str = DEMO_PASSWORD) -> None:
    pg.goto("/login")
    pg.fill("#usr", user)
    pg.fill("#pwd", password)
    pg.click("button[type=submit]")
    pg.wait_for_url("**/app")

"""A database behind its YAML (migrate not run): a clear 503 naming what is missing, never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from engine import Site
from engine.site.auth import ensure_administrator
from engine.web import create_app
from tests.web.conftest import APP_CONFIG

WIDGET = """\
name: Widget
naming: {rule: field, field: title}
fields:
  - {name: title, type: Data, required: true, in_list_view: true}
permissions:
  System Manager: [read, write, create, delete]
"""


def _app(root: Path, extra: str = "") -> Path:
    (root / "doctypes").mkdir(parents=True, exist_ok=True)
    (root / "doctypes" / "widget.yaml").write_text(WIDGET.replace("permissions:", extra + "permissions:"))
    return root


def test_a_field_added_without_migrate_answers_503_naming_it_until_migrate_runs(
        tmp_path: Path, open_site: Callable[..., Site], monkeypatch, caplog) -> None:
    site = open_site(_app(tmp_path / "app"))
    site.migrate()
    ensure_administrator(site, "pw-behind")
    with site.session() as s:
        s.insert("Widget", title="W1")
    url = site.engine.url.render_as_string(hide_password=False)
    site.dispose()
    site = open_site(_app(tmp_path / "app", "  - {name: colour, type: Data, in_list_view: true}\n"), url)
    client = create_app(site, APP_CONFIG).test_client()
    assert client.post("/api/method/login", data={"usr": "Administrator", "pwd": "pw-behind"}).status_code == 200

    expected = ("The database is behind the doctype definitions (Widget: no column for field colour): "
                "an administrator must run `docframe migrate`")
    for path in ("/api/resource/Widget/W1", '/api/resource/Widget?fields=["name","colour"]'):
        r = client.get(path)
        assert r.status_code == 503, (path, r.get_data(as_text=True))
        assert (r.get_json()["exc_type"], r.get_json()["errors"][0]["message"]) == ("ServiceUnavailableError", expected)
    r = client.get("/api/v2/document/Widget/W1")
    assert r.status_code == 503 and r.get_json()["errors"][0]["message"] == expected
    page = client.get("/app/widget")  # a clerk gets a desk page, not JSON
    assert page.status_code == 503 and page.content_type.startswith("text/html")
    assert expected in page.get_data(as_text=True)

    # gunicorn's create_app() says so at start-up
    monkeypatch.setenv("DOCFRAME_DATABASE_URL", url)
    monkeypatch.setenv("DOCFRAME_APP", str(tmp_path / "app"))
    with caplog.at_level(logging.WARNING, logger="engine.web"):
        create_app().extensions["docframe.site"].dispose()
    assert expected in caplog.text

    site.migrate()
    assert client.get("/api/resource/Widget/W1").get_json()["data"]["colour"] is None
    assert client.get("/app/widget").status_code == 200

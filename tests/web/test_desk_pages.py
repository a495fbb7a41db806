"""Every page a clerk can reach from the sidebar opens, on the bundled app with its demo data."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from engine.site.demo import demo_files, load_demo, read_demo
from engine.web.ui.desk import slug
from tests.web.conftest import WebEnv

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_list_form_tree_and_report_of_the_sidebar_opens(web: WebEnv) -> None:
    with web.site.session() as s:
        load_demo(s, read_demo(demo_files(REPO_ROOT / "demo")))
    home = web.client.get("/app")
    assert home.status_code == 200
    links = sorted(set(re.findall(r'href="(/app/[a-z0-9-]+(?:/view/tree)?|/app/report/[a-z0-9-]+)"', home.text)))
    assert "/app/customer" in links and "/app/gl-entry" in links and any("/report/" in u for u in links)
    failed = []
    for url in links:
        r = web.client.get(url)
        if r.status_code != 200:
            failed.append((url, r.status_code, r.text[-300:]))
    for name, meta in web.site.doctypes.items():
        if meta.is_child:
            continue
        with web.site.session() as s:
            first = s.get_list(name, fields=["name"], limit=1, pluck="name")
        for url in [f"/app/{slug(name)}/new", *(f"/app/{slug(name)}/{quote(str(n), safe='')}" for n in first)]:
            r = web.client.get(url)
            if r.status_code != 200:
                failed.append((url, r.status_code, r.text[-300:]))
    assert not failed, failed

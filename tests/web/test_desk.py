"""The desk through Flask's test client: login, list, form, grid, tree, search and permissions.

On the test app (every field type) and on the bundled customer master (record rules,
connections), on the configured database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from engine import Site
from engine.site.auth import ensure_administrator
from engine.web import create_app
from tests.conftest import TEST_APP
from tests.web.conftest import ADMIN_PASSWORD, APP_CONFIG, WebEnv

PASSWORD = "desk-test-password"


def token(client: FlaskClient, url: str = "/app") -> str:
    page = client.get(url)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {url} ({page.status_code})"
    return found.group(1)


def errors_at(html: str) -> dict[str, str]:
    """field (or table-row-field input name) -> its inline error."""
    found = {}
    for m in re.finditer(r'id="f-([\w-]+)-error">([^<]+)<', html):
        found[m.group(1)] = unescape(m.group(2))
    return found


def login(client: FlaskClient, usr: str, pwd: str) -> None:
    r = client.post("/login", data={"usr": usr, "pwd": pwd, "csrf_token": token(client, "/login")})
    assert r.status_code == 302, r.text


@dataclass
class Desk:
    site: Site
    client: FlaskClient


@pytest.fixture(scope="module")
def sink_site(databases) -> Iterator[Site]:
    """The test app (every field type) on a database of its own, with Administrator's password set."""
    site = Site(databases.new(), TEST_APP)
    site.migrate()
    ensure_administrator(site, PASSWORD)
    yield site
    site.dispose()


@pytest.fixture
def desk(sink_site: Site) -> Iterator[Desk]:
    client = create_app(sink_site, APP_CONFIG).test_client()
    login(client, "Administrator", PASSWORD)
    yield Desk(sink_site, client)
    with sink_site.engine.begin() as conn:
        for name in ("Test Customer", "Test Customer Row", "Test Group", "Test Invoice", "Test Invoice Item",
                     "Version"):
            conn.execute(sink_site.table(name).delete())


# ------------------------------------------------------------------ front door and login

def test_front_door_sends_guests_to_login_and_users_to_the_desk(desk: Desk, sink_site: Site):
    guest = create_app(sink_site, APP_CONFIG).test_client()
    assert guest.get("/").headers["Location"] == "/login"
    r = guest.get("/app/test-customer?test_group=A")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/app/test-customer")
    assert desk.client.get("/").headers["Location"] == "/app"
    assert guest.get("/", query_string={"cmd": "ping"}).get_json() == {"message": "pong"}  # the API keeps Frappe's
    # the whole address survives the login, every argument of it
    wanted = "/app/test-customer?test_group=A&customer_name=B%20C&sort=modified"
    sent = guest.get(wanted).headers["Location"]
    login_page = guest.get(sent)
    assert f'name="next" value="{wanted}"' in unescape(login_page.text)
    r = guest.post("/login", data={"usr": "Administrator", "pwd": PASSWORD, "next": wanted,
                                   "csrf_token": token(guest, sent)})
    assert r.headers["Location"] == wanted


def test_login_errors_csrf_and_open_redirects(sink_site: Site):
    client = create_app(sink_site, APP_CONFIG).test_client()
    r = client.post("/login", data={"usr": "Administrator", "pwd": "wrong", "csrf_token": token(client, "/login")})
    assert r.status_code == 401 and "Invalid login credentials" in r.text
    r = client.post("/login", data={"usr": "Administrator", "pwd": PASSWORD})
    assert r.status_code == 403  # no CSRF token
    r = client.post("/login", data={"usr": "Administrator", "pwd": PASSWORD, "next": "//evil.example/x",
                                    "csrf_token": token(client, "/login")})
    assert r.headers["Location"] == "/app"
    assert client.get("/app").status_code == 200
    r = client.post("/logout", data={"csrf_token": token(client)})
    assert r.headers["Location"] == "/login" and client.get("/app").status_code == 302


# ------------------------------------------------------------------ lists

def _customers(site: Site, n: int, **values) -> None:
    with site.session() as s, s.atomic():
        for i in range(n):
            s.insert("Test Customer", customer_name=f"Cust {i:02d}", **values)


def test_list_columns_count_sort_pages_and_filters(desk: Desk):
    with desk.site.session() as s:
        s.insert("Test Group", group_name="All", is_group=1)
        s.insert("Test Group", group_name="North", parent_test_group="All")
    _customers(desk.site, 25)
    _customers(desk.site, 0)
    with desk.site.session() as s:
        s.insert("Test Customer", customer_name="Zed North", test_group="North")
    page = desk.client.get("/app/test-customer?sort=customer_name&order=asc")
    assert page.status_code == 200
    assert "1\u201320 of 26" in page.text and "Page 1 of 2" in page.text
    names = re.findall(r'<tr data-name="([^"]+)"', page.text)
    assert names[:2] == ["Cust 00", "Cust 01"] and len(names) == 20
    second = desk.client.get("/app/test-customer?sort=customer_name&order=asc&page=2")
    assert re.findall(r'<tr data-name="([^"]+)"', second.text)[-1] == "Zed North"
    only = desk.client.get("/app/test-customer?test_group=North")
    assert re.findall(r'<tr data-name="([^"]+)"', only.text) == ["Zed North"]
    # "Add filter" folds into the bookmarkable f parameter, tree operators included
    r = desk.client.get("/app/test-customer?f_field=test_group&f_op=descendants of (inclusive)&f_value=All")
    assert r.status_code == 302 and "f=test_group%7Cdescendants+of+%28inclusive%29%7CAll" in r.headers["Location"]
    assert re.findall(r'<tr data-name="([^"]+)"', desk.client.get(r.headers["Location"]).text) == ["Zed North"]
    searched = desk.client.get("/app/test-customer?q=zed")
    assert re.findall(r'<tr data-name="([^"]+)"', searched.text) == ["Zed North"]


def test_a_bad_filter_is_a_message_not_an_error(desk: Desk):
    r = desk.client.get("/app/test-customer?f=nope|=|1")
    assert r.status_code == 200 and "nope" in unescape(r.text) and 'class="flash error"' in r.text
    r = desk.client.get("/app/test-customer?f=broken&sort=drop table&page=x")
    assert r.status_code == 200 and "is not field|operator|value" in unescape(r.text)


def test_export_and_bulk_delete_follow_the_filters(desk: Desk):
    _customers(desk.site, 3)
    with desk.site.session() as s:
        s.insert("Test Customer", customer_name="Other", customer_type="Individual", first_name="O",
                 settings={"theme": "dark", "tags": [1, None]})
    r = desk.client.get("/app/test-customer/-/export.csv?customer_type=Company")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][0] == "ID" and sorted(r[0] for r in rows[1:]) == ["Cust 00", "Cust 01", "Cust 02"]
    other = list(csv.DictReader(io.StringIO(desk.client.get("/app/test-customer/-/export.csv?customer_type="
                                                            "Individual").text)))
    assert other[0]["Settings"] == '{"theme": "dark", "tags": [1, null]}'  # JSON, as an import reads it back
    from openpyxl import load_workbook

    xlsx = desk.client.get("/app/test-customer/-/export.xlsx?customer_type=Company&sort=name")
    sheet = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert sheet[0][0] == "ID" and sorted(r[0] for r in sheet[1:]) == ["Cust 00", "Cust 01", "Cust 02"]
    r = desk.client.post("/app/test-customer/-/delete", data={"names": ["Cust 00", "Cust 01"],
                                                              "csrf_token": token(desk.client)})
    assert r.status_code == 302
    with desk.site.session() as s:
        assert sorted(s.get_list("Test Customer", pluck="name")) == ["Cust 02", "Other"]
    r = desk.client.post("/app/test-customer/-/delete", data={"csrf_token": token(desk.client)})
    assert "Nothing deleted: tick the Test Customer records to delete first." in desk.client.get(
        r.headers["Location"]).text
    r = desk.client.post("/app/test-customer/-/delete", data={"names": ["Cust 02"]})
    assert r.status_code == 403  # no CSRF token: nothing deleted
    with desk.site.session() as s:
        assert s.exists("Test Customer", "Cust 02")


# ------------------------------------------------------------------ forms

WIDGETS = {  # field -> what its input looks like
    "customer_name": r'<input id="f-customer_name" name="customer_name" value=""\s+type="text"',
    "customer_type": r'<select id="f-customer_type" name="customer_type"',
    "email": r'name="email" value=""\s+type="email"', "phone": r'type="tel"', "website": r'type="url"',
    "notes": r'<textarea id="f-notes"', "long_notes": r'<textarea id="f-long_notes" name="long_notes" rows="8"',
    "visits": r'name="visits" value="" type="number" step="1" inputmode="numeric" min="0"',
    "score": r'name="score" value="" type="text" inputmode="decimal"',
    "is_frozen": r'name="is_frozen" value="1" type="checkbox"',
    "since": r'name="since" value="\d{4}-\d\d-\d\d" type="date"',
    "last_contact": r'type="datetime-local"', "call_time": r'type="time"',
    "api_secret": r'name="api_secret" type="password"', "settings": r'<textarea id="f-settings" name="settings"',
    "display": r'<output id="f-display"', "test_group": r'data-link-doctype="Test Group"',
}


def test_every_field_type_renders_its_widget(desk: Desk):
    page = desk.client.get("/app/test-customer/new")
    assert page.status_code == 200
    for name, pattern in WIDGETS.items():
        assert re.search(pattern, page.text), f"{name}: {pattern}"
    assert '<h2>Details</h2>' in page.text and 'class="columns cols-2"' in page.text  # section with 2 columns
    assert re.search(r'<label for="f-customer_name">Customer Name<span class="req"', page.text)
    assert 'data-table="rows"' in page.text and 'name="rows-__i__-item"' in page.text  # the grid's row template
    assert 'data-field="legal_form"' in page.text and "depends_on" in unescape(page.text)  # conditions for the browser
    assert 'name="group_rate"' in page.text and 'readonly' in page.text  # fetch_from: shown read-only


def test_every_error_shows_at_its_field_at_once_and_nothing_is_saved(desk: Desk):
    r = desk.client.post("/app/test-customer/new", data={
        "csrf_token": token(desk.client), "customer_name": "", "customer_type": "Individual", "email": "nope",
        "visits": "-1", "score": "abc", "since": "31/12/2020", "test_group": "Missing",
        "rows-present": "1", "rows-1-item": "", "rows-1-amount": "-5", "rows-2-item": "ok", "rows-2-qty": "x"})
    assert r.status_code == 417
    errors = errors_at(r.text)
    assert errors["customer_name"].startswith("Customer Name is required")
    assert "not a valid email" in errors["email"] and "cannot be negative" in errors["visits"]
    assert "not a number" in errors["score"] and "not a date" in errors["since"]
    assert "does not exist" in errors["test_group"] and "First Name is required" in errors["first_name"]
    assert "Item is required" in errors["rows-1-item"] and "negative" in errors["rows-1-amount"]
    assert "whole number" in errors["rows-2-qty"]
    assert 'value="nope"' in r.text  # what the user typed stays in the form
    assert re.search(r'name="score" value="abc"', r.text) and 'value="31/12/2020"' in r.text  # unconverted too
    with desk.site.session() as s:
        assert s.get_count("Test Customer") == 0


def test_save_suffix_notice_child_rows_and_reorder(desk: Desk):
    tok = token(desk.client)
    base = {"csrf_token": tok, "customer_name": "Acme", "rows-present": "1",
            "rows-1-item": "first", "rows-1-amount": "1.50", "rows-2-item": "second"}
    r = desk.client.post("/app/test-customer/new", data=base)
    assert r.status_code == 302 and r.headers["Location"] == "/app/test-customer/Acme"
    r = desk.client.post("/app/test-customer/new", data=base)
    page = desk.client.get(r.headers["Location"])
    assert r.headers["Location"] == "/app/test-customer/Acme-1"
    assert "already exists, so the ID got a suffix" in page.text
    with desk.site.session() as s:
        doc = s.get_doc("Test Customer", "Acme")
        first, second = (row.name for row in doc.rows)
        assert [row.item for row in doc.rows] == ["first", "second"]
    form = desk.client.get("/app/test-customer/Acme").text
    modified = re.search(r'name="modified" value="([^"]+)"', form).group(1)
    # the grid posts rows in their new order; a row left out is removed; a new one added
    r = desk.client.post("/app/test-customer/Acme", data={
        "csrf_token": tok, "modified": modified, "action": "save", "rows-present": "1",
        "rows-1-name": second, "rows-1-item": "second", "rows-2-item": "third"})
    assert r.status_code == 302, errors_at(r.text)
    with desk.site.session() as s:
        doc = s.get_doc("Test Customer", "Acme")
        assert [(row.name == second, row.item) for row in doc.rows] == [(True, "second"), (False, "third")]
        assert first not in [row.name for row in doc.rows]
    history = desk.client.get("/app/test-customer/Acme").text
    assert "<h2>History</h2>" in history and "row(s) removed" in history


def test_a_stale_form_is_refused_with_a_reload(desk: Desk):
    with desk.site.session() as s:
        s.insert("Test Customer", customer_name="Busy")
    form = desk.client.get("/app/test-customer/Busy").text
    modified = re.search(r'name="modified" value="([^"]+)"', form).group(1)
    with desk.site.session() as s:
        s.set_value("Test Customer", "Busy", {"notes": "changed meanwhile"})
    r = desk.client.post("/app/test-customer/Busy", data={"csrf_token": token(desk.client), "modified": modified,
                                                          "action": "save", "notes": "mine"})
    assert r.status_code == 409 and "Reload the saved version" in r.text
    with desk.site.session() as s:
        assert s.get_value("Test Customer", "Busy", "notes") == "changed meanwhile"


def test_set_only_once_and_submit_cancel_delete(desk: Desk):
    with desk.site.session() as s:
        s.insert("Test Customer", customer_name="Once")
    form = desk.client.get("/app/test-customer/Once").text
    assert re.search(r'<select id="f-customer_type" name="customer_type"[^>]*readonly', form)
    tok = token(desk.client)
    r = desk.client.post("/app/test-invoice/new", data={"csrf_token": tok, "customer": "Once",
                                                         "posting_date": "2026-01-05"})
    assert r.status_code == 302, errors_at(r.text)
    url = r.headers["Location"]
    page = desk.client.get(url).text
    assert 'value="submit"' in page and "Draft" in page
    modified = re.search(r'name="modified" value="([^"]+)"', page).group(1)
    assert desk.client.post(url, data={"csrf_token": tok, "modified": modified, "action": "submit"}).status_code == 302
    page = desk.client.get(url).text
    assert "Submitted" in page and 'value="cancel"' in page and 'value="delete"' not in page
    assert 'name="customer" value="Once"' in page and "readonly" in page
    modified = re.search(r'name="modified" value="([^"]+)"', page).group(1)
    assert desk.client.post(url, data={"csrf_token": tok, "modified": modified, "action": "cancel"}).status_code == 302
    assert "Cancelled" in desk.client.get(url).text
    r = desk.client.post(url, data={"csrf_token": tok, "action": "delete"})
    assert r.status_code == 302 and r.headers["Location"] == "/app/test-invoice"
    r = desk.client.post("/app/test-customer/Once", data={"csrf_token": tok, "action": "delete"})
    assert r.status_code == 302


def test_unknown_pages_and_documents_are_html_404s(desk: Desk):
    for url in ("/app/no-such-doctype", "/app/test-customer/Missing", "/app/test-customer-row",
                "/app/test-customer/view/tree"):
        r = desk.client.get(url)
        assert r.status_code == 404 and r.content_type.startswith("text/html"), url


# ------------------------------------------------------------------ trees and search

def test_tree_add_move_rename_and_cycles(desk: Desk):
    tok = token(desk.client)
    post = lambda **data: desk.client.post("/app/test-group/view/tree", data={"csrf_token": tok, **data})  # noqa: E731
    assert post(action="add", title="Root", parent="", is_group="1").status_code == 302
    assert post(action="add", title="Europe", parent="Root", is_group="1").status_code == 302
    assert post(action="add", title="France", parent="Europe").status_code == 302
    assert post(action="add", title="Asia", parent="Root", is_group="1").status_code == 302
    assert post(action="move", name="France", parent="Asia").status_code == 302
    page = desk.client.get("/app/test-group/view/tree").text
    assert re.search(r'data-name="Asia".*data-name="France"', page, re.S)
    r = post(action="move", name="Root", parent="Asia")
    assert r.status_code == 417 and "cannot be moved under its own descendant" in unescape(r.text)
    assert post(action="rename", name="Asia", new_name="Asia Pacific").status_code == 302
    with desk.site.session() as s:
        assert s.get_value("Test Group", "France", "parent_test_group") == "Asia Pacific"


def test_search_and_link_options(desk: Desk):
    with desk.site.session() as s:
        s.insert("Test Group", group_name="Nordic", is_group=1)
        s.insert("Test Customer", customer_name="Nordic Foods", test_group="Nordic")
    r = desk.client.get("/app/search?q=nordic")
    assert "Nordic Foods" in r.text and "Test Customer" in r.text and "Test Group" in r.text
    r = desk.client.get("/app/search?q=nordic foods&go=1")
    assert r.headers["Location"] == "/app/test-customer/Nordic%20Foods"
    options = desk.client.get("/app/-/link?doctype=Test Customer&q=food").get_json()["results"]
    assert options == [{"value": "Nordic Foods", "title": "Nordic Foods", "details": []}]


def test_templates_resolve_most_specific_first(databases, tmp_path: Path):
    app_dir = tmp_path / "ownapp"
    (app_dir / "doctypes").mkdir(parents=True)
    (app_dir / "doctypes" / "note.yaml").write_text("name: Note\nmodule: Notes\nfields:\n"
                                                    "  - {name: text, type: Data, label: Text}\n")
    override = app_dir / "templates" / "desk" / "doctypes" / "note"
    override.mkdir(parents=True)
    (override / "form.html").write_text('{% extends "desk/form.html" %}{% block form_header %}'
                                        '<p id="note-header">Only for notes</p>{% endblock %}')
    site = Site(databases.new(), app_dir)
    site.migrate()
    ensure_administrator(site, PASSWORD)
    client = create_app(site, APP_CONFIG).test_client()
    login(client, "Administrator", PASSWORD)
    page = client.get("/app/note/new").text
    assert 'id="note-header"' in page and 'id="doc-form"' in page  # the override extends the generic form
    assert 'id="note-header"' not in client.get("/app/user/Administrator").text
    site.dispose()


# ------------------------------------------------------------------ the customer master, as each role

def _sales_user(web: WebEnv, email: str) -> FlaskClient:
    with web.site.session() as s:
        s.insert("User", name=email, email=email, roles=[{"role": "Sales User"}], password=ADMIN_PASSWORD)
    client = web.anon()
    login(client, email, ADMIN_PASSWORD)
    return client


def test_a_restricted_user_never_sees_another_users_customers(web: WebEnv):
    mine = _sales_user(web, "mine@example.com")
    with web.site.session() as s:
        s.insert("Customer", customer_name="Own Co", customer_manager="mine@example.com")
        s.insert("Customer", customer_name="Secret Co")
    page = mine.get("/app/customer").text
    assert "Own Co" in page and "Secret Co" not in page and "1\u20131 of 1" in page
    assert mine.get("/app/customer/Secret%20Co").status_code == 403
    assert "Secret Co" not in mine.get("/app/search?q=co").text
    assert [o["value"] for o in mine.get("/app/-/link?doctype=Customer&q=co").get_json()["results"]] == ["Own Co"]
    assert mine.get("/app/customer/-/export.csv").status_code == 403  # Sales User may not export
    assert mine.get("/app/company/new").status_code == 403
    nav = mine.get("/app").text
    assert 'href="/app/customer"' in nav and 'href="/app/user"' not in nav  # the sidebar lists readable doctypes


def test_a_sales_users_new_customer_is_theirs_to_manage_and_stays_in_their_list(web: WebEnv):
    clerk = _sales_user(web, "newbie@example.com")
    r = clerk.post("/app/customer/new", data={"csrf_token": token(clerk), "customer_name": "Fresh Co",
                                              "customer_type": "Company"})
    assert r.status_code == 302, errors_at(r.text)
    assert clerk.get(r.headers["Location"]).status_code == 200
    assert "Fresh Co" in clerk.get("/app/customer").text
    with web.site.session() as s:
        assert s.get_value("Customer", "Fresh Co", "customer_manager") == "newbie@example.com"
        assert s.insert("Customer", customer_name="Admin Co").customer_manager is None  # not for Administrator


def test_connections_offer_a_prefilled_new_contact(web: WebEnv):
    with web.site.session() as s:
        s.insert("Customer", customer_name="Globex")
        s.insert("Contact", first_name="Hank", links=[{"link_doctype": "Customer", "link_name": "Globex"}])
    page = web.client.get("/app/customer/Globex").text
    assert "<h2>Connections</h2>" in page
    with web.site.session() as s:
        s.insert("Contact", first_name="Other")  # linked to no customer
    listed = unescape(re.search(r'<a href="(/app/contact\?[^"]+)">Contact</a>', page).group(1))
    contacts = web.client.get(listed).text  # the customer's own contacts, not every contact
    assert "Hank" in contacts and "Other" not in contacts and "Dynamic Link: Link Name" in contacts
    new = unescape(re.search(r'href="(/app/contact/new\?[^"]+)"', page).group(1))
    form = web.client.get(new).text
    assert 'name="links-1-link_doctype" value="Customer"' in form and 'name="links-1-link_name" value="Globex"' in form
    r = web.client.post("/app/contact/new", data={"csrf_token": token(web.client), "first_name": "Ivy",
                                                  "links-present": "1", "links-1-link_doctype": "Customer",
                                                  "links-1-link_name": "Globex"})
    assert r.status_code == 302, errors_at(r.text)
    with web.site.session() as s:
        assert s.get_count("Contact", [["Dynamic Link", "link_name", "=", "Globex"]]) == 2


def test_contact_persons_leave_the_customer_list_and_pickers_until_filtered(web: WebEnv):
    with web.site.session() as s:
        s.insert("Customer", customer_name="Initech", customer_type="Company")
        s.insert("Customer", customer_name="Peter Gibbons", customer_type="Individual", first_name="Peter",
                 last_name="Gibbons", works_at="Initech")
    listed = re.findall(r'<tr data-name="([^"]+)"', web.client.get("/app/customer").text)
    assert "Initech" in listed and "Peter Gibbons" not in listed
    home = web.client.get("/app").text  # the home page counts what the list shows
    assert '<a href="/app/customer">Customer</a> <span class="count">1</span>' in home
    shown = re.findall(r'<tr data-name="([^"]+)"', web.client.get("/app/customer?f=works_at|is|set").text)
    assert shown == ["Peter Gibbons"]
    options = web.client.get("/app/-/link?doctype=Customer&q=e").get_json()["results"]
    assert [o["value"] for o in options] == ["Initech"]
    person = web.client.get("/app/customer/Peter%20Gibbons").text
    assert "cannot be invoiced" in person and 'href="/app/customer/Initech"' in person


def test_the_customer_form_overrides_the_header_with_its_defaults(web: WebEnv):
    with web.site.session() as s:
        s.insert("Customer", customer_name="Hooli", customer_type="Company")
    page = web.client.get("/app/customer/Hooli").text
    assert "New sales documents start with" in page and "Price list" in page and "Standard Selling" in page
    assert 'id="doc-form"' in page  # still the generic form below the header


def test_report_page_table_chart_exports_and_permissions(web: WebEnv):
    import json

    from openpyxl import load_workbook

    with web.site.session() as s:
        s.insert("Customer", customer_name="Umbrella", customer_type="Company")
        s.insert("Customer", customer_name="Wayne", customer_type="Individual", first_name="B", last_name="Wayne")
    page = web.client.get("/app/report/customers-by-group")
    assert page.status_code == 200
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page.text)
    assert cells == ["Default Customer Group", "2"]
    figure = json.loads(unescape(re.search(r'data-figure="([^"]+)"', page.text).group(1)))
    assert figure["data"][0]["type"] == "bar" and figure["data"][0]["y"] == [2]
    assert '<script src="/assets/vendor/plotly.min.js"' in page.text
    assert web.client.get("/assets/vendor/plotly.min.js").data.startswith(b"/**\n* plotly.js")
    only = web.client.get("/app/report/customers-by-group?customer_type=Individual")
    assert re.findall(r"<td[^>]*>([^<]*)</td>", only.text) == ["Default Customer Group", "1"]
    bad = web.client.get("/app/report/customers-by-group?customer_type=Robot")
    assert bad.status_code == 417 and "is not one of" in unescape(bad.text)
    assert web.client.get("/app/report/customers-by-group?format=csv").text.splitlines() == [
        "Customer Group,Customers", "Default Customer Group,2"]
    xlsx = web.client.get("/app/report/customers-by-group?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [["Customer Group", "Customers"],
                                                                   ["Default Customer Group", 2]]
    assert web.client.get("/app/report/no-such-report").status_code == 404
    clerk = _sales_user(web, "clerk@example.com")  # record rules apply: a Sales User counts only their customers
    with web.site.session() as s:
        s.insert("Customer", customer_name="Clerk Co", customer_manager="clerk@example.com")
    assert re.findall(r"<td[^>]*>([^<]*)</td>", clerk.get("/app/report/customers-by-group").text) == [
        "Default Customer Group", "1"]
    assert clerk.get("/app/report/customers-by-group?format=csv").status_code == 403  # no export permission
    with web.site.session() as s:
        s.insert("User", name="norole@example.com", email="norole@example.com", password=ADMIN_PASSWORD)
    nobody = web.anon()
    login(nobody, "norole@example.com", ADMIN_PASSWORD)
    assert nobody.get("/app/report/customers-by-group").status_code == 403
    assert "customers-by-group" not in nobody.get("/app").text


def test_csrf_tokens_hold_across_workers_with_different_keys(sink_site: Site):
    """Two gunicorn workers each make their own app: a form from one posts to the other."""
    one = create_app(sink_site, {**APP_CONFIG, "SECRET_KEY": "worker-one"}).test_client()
    two = create_app(sink_site, {**APP_CONFIG, "SECRET_KEY": "worker-two"}).test_client()
    login(one, "Administrator", PASSWORD)
    two.set_cookie("sid", one.get_cookie("sid").value)
    r = two.post("/app/test-group/view/tree", data={"csrf_token": token(one), "action": "add", "title": "Shared",
                                                    "parent": "", "is_group": "1"})
    assert r.status_code == 302
    r = two.post("/app/test-group/view/tree", data={"csrf_token": "0" * 64, "action": "add", "title": "Forged"})
    assert r.status_code == 403
    with sink_site.session() as s:
        assert s.exists("Test Group", "Shared") and not s.exists("Test Group", "Forged")
        s.delete_doc("Test Group", "Shared")


def test_import_page_dry_run_then_import_with_an_error_file(web: WebEnv):
    web.site.session().insert("Customer", customer_name="Acme")
    csv_bytes = b"Customer Name,Customer Group\nAcme,\nWidgets Ltd,Nope\n"
    page = web.client.get("/app/customer/-/import")
    assert page.status_code == 200 and 'type="file"' in page.text
    assert 'href="/app/customer/-/import"' in web.client.get("/app/customer").text
    tok = token(web.client)
    dry = web.client.post("/app/customer/-/import", content_type="multipart/form-data", data={
        "csrf_token": tok, "action": "dry_run", "mode": "insert", "file": (io.BytesIO(csv_bytes), "c.csv")})
    assert dry.status_code == 200
    cells = re.findall(r"<td>([^<]*)</td>", dry.text)
    assert cells[:3] == ["2", "create", "Acme-1"] and cells[4:6] == ["3", "error"]
    assert "Customer Name → Customer Name" in unescape(dry.text) and "Download the failed rows" in dry.text
    with web.site.session() as s:
        assert s.get_count("Customer") == 1  # a dry run writes nothing
    done = web.client.post("/app/customer/-/import", content_type="multipart/form-data", data={
        "csrf_token": tok, "action": "import", "mode": "insert", "file": (io.BytesIO(csv_bytes), "c.csv")})
    assert "Imported c.csv" in done.text
    with web.site.session() as s:
        assert s.exists("Customer", "Acme-1") and not s.exists("Customer", "Widgets Ltd")
    clerk = _sales_user(web, "importer@example.com")  # Sales User: no import permission
    assert clerk.get("/app/customer/-/import").status_code == 403


def test_a_user_given_id_is_asked_on_the_new_form_and_a_user_can_be_made_with_a_password(desk: Desk,
                                                                                        sink_site: Site):
    page = desk.client.get("/app/role/new")
    assert 'name="__newname"' in page.text and "The Role&#39;s ID" in page.text
    missing = desk.client.post("/app/role/new", data={"csrf_token": token(desk.client, "/app/role/new"),
                                                      "description": "Reads the books"})
    assert missing.status_code == 417
    assert errors_at(missing.text).get("__newname") == "enter an ID (name); this doctype is named by the user"
    made = desk.client.post("/app/role/new", data={"csrf_token": token(desk.client, "/app/role/new"),
                                                   "__newname": "Auditor", "description": "Reads the books"})
    assert made.status_code == 302 and made.headers["Location"] == "/app/role/Auditor"
    assert "Leave empty to use the Email." in desk.client.get("/app/user/new").text
    made = desk.client.post("/app/user/new", data={
        "csrf_token": token(desk.client, "/app/user/new"), "email": "ann@example.com", "full_name": "Ann",
        "password": "a-long-Passw0rd", "roles-present": "1", "roles-0-role": "Auditor"})
    assert made.status_code == 302 and made.headers["Location"] == "/app/user/ann%40example.com"
    fresh = create_app(sink_site, APP_CONFIG).test_client()
    assert fresh.post("/api/method/login", json={"usr": "ann@example.com", "pwd": "a-long-Passw0rd"}).status_code == 200
    with sink_site.session() as s:
        s.delete_doc("User", "ann@example.com")
        s.delete_doc("Role", "Auditor")


def test_a_tree_group_in_the_filter_bar_lists_everything_under_it(web: WebEnv):
    with web.site.session() as s:
        s.insert("Territory", territory_name="Europe", parent_territory="All Territories", is_group=1)
        s.insert("Territory", territory_name="Germany", parent_territory="Europe")
        s.insert("Customer", customer_name="Berlin Co", territory="Germany")
        s.insert("Customer", customer_name="Elsewhere Co")
    europe = web.client.get("/app/customer", query_string={"territory": "Europe"}).text
    assert "Berlin Co" in europe and "Elsewhere Co" not in europe
    germany = web.client.get("/app/customer", query_string={"territory": "Germany"}).text
    assert "Berlin Co" in germany and "Elsewhere Co" not in germany
    sorted_badly = web.client.get("/app/customer", query_string={"sort": "nonexistent"}).text
    assert "Customer cannot be sorted by &#39;nonexistent&#39;" in sorted_badly and "Berlin Co" in sorted_badly


def test_the_apps_rules_are_reported_with_the_built_in_problems_in_one_save(web: WebEnv):
    with web.site.session() as s:
        s.insert("Sales Person", sales_person_name="Ann", parent_sales_person="Sales Team")
    r = web.client.post("/app/customer/new", data={
        "csrf_token": token(web.client), "customer_type": "Company", "customer_name": "", "credit_days": "-5",
        "sales_team-present": "1", "sales_team-1-sales_person": "Ann", "sales_team-1-allocated_percentage": "90"})
    assert r.status_code == 417
    text = unescape(r.text)
    assert "Customer Name is required" in text  # a built-in check
    assert "must total exactly 100" in text  # and the app's rule, in the same answer
    assert "cannot be negative" in text


def test_the_account_tree_shows_one_companys_chart_when_asked(web: WebEnv):
    with web.site.session() as s:
        s.insert("Company", company_name="North Co", abbr="NC", default_currency="USD")
        s.insert("Company", company_name="South Co", abbr="SC", default_currency="USD")
    both = web.client.get("/app/account/view/tree").text
    assert "Cash - NC" in both and "Cash - SC" in both
    assert '<select id="tflt-company" name="company">' in both and "<option>North Co</option>" in both
    north = web.client.get("/app/account/view/tree", query_string={"company": "North Co"}).text
    assert "Cash - NC" in north and "Cash - SC" not in north
    assert "<option selected>North Co</option>" in north

"""A clerk's day in a real browser: log in, create, fix an error, filter, pick, edit rows, move a tree node.

Each page the tests pass through is saved as a screenshot, and checked with axe-core.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from engine import Site
from tests.browser.conftest import login


def _a11y_clean(check_a11y, page) -> None:
    problems = check_a11y(page)
    assert not problems, "\n".join(problems)


def test_login_home_and_sidebar(page, screenshot, check_a11y):
    page.goto("/")
    assert page.url.endswith("/login")
    screenshot(page, "01-login")
    _a11y_clean(check_a11y, page)
    page.fill("#usr", "Administrator")
    page.fill("#pwd", "wrong")
    page.click("button[type=submit]")
    assert "Invalid login credentials" in page.inner_text(".flash.error")
    login(page)
    assert page.is_visible("nav.sidebar a[href='/app/customer']")
    screenshot(page, "02-home")
    _a11y_clean(check_a11y, page)
    assert not page.js_errors


def test_create_a_customer_fix_an_error_then_add_a_contact_and_an_address(page, screenshot, check_a11y):
    login(page)
    page.goto("/app/customer/new")
    page.select_option("#f-customer_type", "Individual")
    assert page.is_visible("#f-first_name")  # depends_on shows the person's names
    assert not page.is_visible("#f-legal_form")
    page.fill("#f-first_name", "Grace")
    page.click("button[value=save]")
    # the server refuses, and marks the field (the full name is made from first and last name)
    assert "Last Name is required" in page.inner_text(".field[data-field=last_name] .field-error")
    assert page.input_value("#f-first_name") == "Grace"  # what was typed stays
    screenshot(page, "03-form-errors")
    _a11y_clean(check_a11y, page)
    tag = uuid.uuid4().hex[:6]
    page.fill("#f-last_name", f"Hopper {tag}")
    page.fill("#f-customer_name", f"Grace Hopper {tag}")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/app/customer/Grace%20Hopper"))
    assert "created" in page.inner_text(".flash")
    screenshot(page, "04-customer-saved")
    _a11y_clean(check_a11y, page)
    # New Contact from the customer's connections: the link to the customer is filled in
    page.click(".connections a.btn:has-text('New Contact')")
    assert page.input_value("[name='links-1-link_name']") == f"Grace Hopper {tag}"
    page.fill("#f-first_name", "Grace")
    page.fill("#f-email_id", f"grace.{tag}@example.com") if page.is_visible("#f-email_id") else None
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/app/contact/"))
    page.go_back()
    page.goto(f"/app/customer/Grace%20Hopper%20{tag}")
    page.click(".connections a.btn:has-text('New Address')")
    page.fill("#f-address_title", f"Grace {tag}")
    page.fill("#f-address_line1", "1 Navy Way")
    page.fill("#f-city", "Arlington")
    page.fill("#f-country", "United States")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/app/address/"))
    screenshot(page, "05-address")
    page.goto(f"/app/customer/Grace%20Hopper%20{tag}")
    connections = page.inner_text(".connections")
    assert re.search(r"Contact\s+1", connections) and re.search(r"Address\s+1", connections)
    assert not page.js_errors


def test_filter_the_list_and_sort(page, screenshot, check_a11y):
    login(page)
    page.goto("/app/customer")
    total = int(re.search(r"of (\d+)", page.inner_text(".list-count")).group(1))
    page.fill("#flt-customer_group", "Commercial")
    page.click(".list-filters button[type=submit]")
    page.wait_for_url(re.compile(r"customer_group=Commercial"))
    rows = page.locator("table.list-table tbody tr")
    assert 0 < rows.count() < total
    assert all("Commercial" in rows.nth(i).inner_text() for i in range(rows.count()))
    page.click("th a:has-text('Customer Name')")
    assert "sort=customer_name" in page.url and "customer_group=Commercial" in page.url  # bookmarkable state
    screenshot(page, "06-list-filtered")
    _a11y_clean(check_a11y, page)


def test_link_type_ahead_and_child_rows(page, screenshot, check_a11y):
    login(page)
    page.goto("/app/customer/new")
    page.click("#f-customer_group")
    page.fill("#f-customer_group", "Comm")
    expect(page.locator("#f-customer_group-options li")).to_have_count(1)  # only the matching group
    assert "Commercial" in page.inner_text("#f-customer_group-options li")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#f-customer_group") == "Commercial"
    grid = page.locator("table.grid[data-table=price_lists] tbody")
    page.click("[data-grid-add=price_lists]")
    page.click("[data-grid-add=price_lists]")
    assert grid.locator("tr.grid-row").count() == 2
    assert page.locator("[name='price_lists-2-price_list']").count() == 1  # rows renumbered for posting
    page.fill("[name='price_lists-1-price_list']", "Standard Selling")
    grid.locator("tr.grid-row").nth(1).locator(".grid-remove").click()
    assert grid.locator("tr.grid-row").count() == 1
    screenshot(page, "07-grid")
    _a11y_clean(check_a11y, page)
    tag = uuid.uuid4().hex[:6]
    page.fill("#f-customer_name", f"Row Test {tag}")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/app/customer/Row%20Test"))
    assert page.input_value("[name='price_lists-1-price_list']") == "Standard Selling"


def test_move_a_tree_node(page, screenshot, demo, check_a11y):
    login(page)
    tag = uuid.uuid4().hex[:6]
    page.goto("/app/territory/view/tree")
    page.fill("#add-title", f"Region {tag}")
    page.select_option("#add-parent", "All Territories")
    page.check("input[name=is_group]")
    page.click("form:has(#add-title) button[type=submit]")
    assert "Added" in page.inner_text(".flash")
    page.fill("#add-title", f"Town {tag}")
    page.click("form:has(#add-title) button[type=submit]")
    page.fill("#move-name", f"Town {tag}")
    page.select_option("#move-parent", f"Region {tag}")
    page.click("form:has(#move-name) button[type=submit]")
    assert "Moved" in page.inner_text(".flash")
    node = page.locator(f"li.tree-node[data-name='Region {tag}'] li.tree-node[data-name='Town {tag}']")
    assert node.count() == 1
    page.fill("#move-name", f"Region {tag}")
    page.select_option("#move-parent", f"Region {tag}")
    page.click("form:has(#move-name) button[type=submit]")
    assert "cannot be its own parent" in page.inner_text(".flash.error")
    screenshot(page, "08-tree")
    _a11y_clean(check_a11y, page)


def test_a_restricted_user_cannot_see_another_users_customer(page, browser, demo, screenshot):
    tag = uuid.uuid4().hex[:6]
    email = f"clerk-{tag}@example.com"
    site = Site(demo.db)
    try:
        with site.session() as s:
            s.insert("User", name=email, email=email, password="clerk-pass", roles=[{"role": "Sales User"}])
            s.insert("Customer", customer_name=f"Mine {tag}", customer_manager=email)
            s.insert("Customer", customer_name=f"Theirs {tag}")
    finally:
        site.dispose()
    login(page, email, "clerk-pass")
    page.goto(f"/app/customer?q={tag}")
    listed = page.locator("table.list-table tbody tr").all_inner_texts()
    assert len(listed) == 1 and f"Mine {tag}" in listed[0]
    response = page.goto(f"/app/customer/Theirs%20{tag}")
    assert response.status == 403
    page.goto(f"/app/search?q={tag}")
    assert f"Theirs {tag}" not in page.inner_text("main")
    screenshot(page, "09-restricted")


@pytest.mark.parametrize("width", [390])
def test_mobile_layout(page, screenshot, width):
    page.set_viewport_size({"width": width, "height": 844})
    login(page)
    page.goto("/app/customer")
    assert not page.is_visible("nav.sidebar")
    page.click("[data-nav-toggle]")
    assert page.is_visible("nav.sidebar a[href='/app/customer']")
    screenshot(page, "10-mobile")
    # a form's wide grids scroll inside their frame; the page itself never scrolls sideways
    for url in ("/app/customer/Acme%20Corporation", "/app/sales-invoice/new"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, url
    screenshot(page, "10-mobile-form")


def test_report_page_draws_its_chart(page, screenshot, check_a11y):
    login(page)
    page.goto("/app/report/customers-by-group")
    page.wait_for_selector("#report-chart svg.main-svg")
    assert page.locator("table.report-table tbody tr").count() > 0
    screenshot(page, "11-report")
    _a11y_clean(check_a11y, page)
    assert not page.js_errors


def test_keyboard_moves_through_list_rows_and_grid_cells(page):
    login(page)
    page.goto("/app/customer")
    page.focus("table.list-table tbody tr:nth-child(1) a.list-link")
    page.keyboard.press("ArrowDown")
    second = page.locator("table.list-table tbody tr:nth-child(2) a.list-link")
    assert second.evaluate("el => el === document.activeElement")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/app/customer/"))
    page.goto("/app/customer/new")
    first = page.evaluate("document.activeElement.name")  # a new form starts in its first field
    assert first == "customer_type", first
    page.click("[data-grid-add=price_lists]")
    page.click("[data-grid-add=price_lists]")
    page.focus("[name='price_lists-1-price_list']")
    page.keyboard.press("Alt+ArrowDown")
    assert page.locator("[name='price_lists-2-price_list']").evaluate("el => el === document.activeElement")
    page.keyboard.press("/")  # typing in a field is typing, not a shortcut
    assert page.input_value("[name='price_lists-2-price_list']") == "/"


def test_import_a_file_dry_run_first_then_a_large_one_in_the_background(page, tmp_path, screenshot, check_a11y):
    login(page)
    tag = uuid.uuid4().hex[:6]
    small = tmp_path / "small.csv"
    small.write_text(f"Customer Name,Customer Group\nImport {tag},\nImport {tag},\nBad {tag},No Such Group\n", "utf-8")
    page.goto("/app/customer")
    page.click("a.btn:has-text('Import')")
    page.set_input_files("#import-file", str(small))
    page.click("button[value=dry_run]")
    rows = page.locator("table.import-rows tbody tr")
    expect(rows).to_have_count(3)
    assert re.search(rf"create\s+Import {tag}-1\s+possible duplicate", rows.nth(1).inner_text())
    assert "does not exist" in rows.nth(2).inner_text()
    assert page.is_visible("a:has-text('Download the failed rows')")
    screenshot(page, "20-import-dry-run")
    _a11y_clean(check_a11y, page)
    page.set_input_files("#import-file", str(small))
    page.once("dialog", lambda d: d.accept())
    page.click("button[value=import]")
    expect(page.locator(".import-result h2")).to_have_text("Imported small.csv")
    # a file above the background threshold goes to a job; its page follows it to the end
    big = tmp_path / "big.csv"
    big.write_text("Customer Name\n" + "".join(f"Bulk {tag} {i:04d}\n" for i in range(1500)), "utf-8")
    page.set_input_files("#import-file", str(big))
    page.once("dialog", lambda d: d.accept())
    page.click("button[value=import]")
    page.wait_for_url(re.compile(r"/app/customer/-/import/IMP-\d{4}-\d{5}$"))
    screenshot(page, "21-import-job")
    expect(page.locator(".import-job")).to_have_attribute("data-job-status", "Done", timeout=60_000)
    expect(page.locator(".import-result h2")).to_have_text("Imported big.csv")
    assert "1500 create" in page.inner_text(".import-result .list-count")
    assert not page.locator("meta[http-equiv=refresh]").count()
    screenshot(page, "22-import-job-done")
    _a11y_clean(check_a11y, page)
    page.goto(f"/app/customer?q=Bulk%20{tag}")
    assert "of 1500" in page.inner_text(".list-count") or "1500" in page.inner_text("main")
    assert not page.js_errors


def test_invoice_from_the_form_then_the_balance_on_the_customer(page, screenshot, check_a11y):
    login(page)
    page.goto("/app/customer/Globex%20Industries")
    before = page.inner_text(".customer-balance")
    page.goto("/app/sales-invoice/new")
    page.fill("#f-customer", "Globex Industries")
    page.fill("#f-company", "Docframe Inc")
    page.click("[data-grid-add=items]")
    page.fill("[name='items-1-item_code']", "BELT-15")
    page.fill("[name='items-1-qty']", "4")
    # filled in while editing, from the customer (the server's hooks; nothing is saved yet)
    expect(page.locator("#f-price_list")).to_have_value("Wholesale USD")
    expect(page.locator("[name='items-1-rate']")).to_have_value(re.compile(r"^35"))
    assert page.input_value("#f-due_date") != "" and page.input_value("#f-currency") == "USD"
    page.fill("[name='items-1-rate']", "33")  # typed by the clerk: kept
    page.fill("[name='items-1-qty']", "5")
    expect(page.locator("[name='items-1-amount']")).to_have_value(re.compile(r"^165"))
    assert page.input_value("[name='items-1-rate']") == "33"
    page.fill("[name='items-1-qty']", "4")
    page.fill("[name='items-1-rate']", "")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/app/sales-invoice/SINV-"))
    # filled from the customer on save: the price list, the due date (45 days), the rate from the list
    assert page.input_value("#f-price_list") == "Wholesale USD"
    assert page.input_value("#f-due_date") != "" and page.input_value("#f-currency") == "USD"
    assert page.input_value("[name='items-1-rate']").startswith("35")
    assert page.input_value("#f-grand_total").startswith("140")
    assert "Price list Wholesale USD from customer group Wholesale" in " ".join(page.inner_text(".form-header").split())
    screenshot(page, "23-invoice-draft")
    _a11y_clean(check_a11y, page)
    page.once("dialog", lambda d: d.accept())
    page.click("button[value=submit]")
    expect(page.locator(".flash")).to_contain_text("Submitted")
    page.goto("/app/customer/Globex%20Industries")
    after = page.inner_text(".customer-balance")
    assert after != before and page.is_visible(".customer-balance svg.sparkline")
    screenshot(page, "24-customer-balance")
    _a11y_clean(check_a11y, page)
    assert not page.js_errors

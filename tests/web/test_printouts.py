"""Printouts the way Frappe clients ask for them: /printview?doctype=&name=&format=, and as PDF."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

from tests.web.conftest import WebEnv


def _words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.S))).split())


def _books(web: WebEnv) -> dict[str, str]:
    """Acme: an invoice on 2024-01-15 (due in 30 days), a part payment in February, an invoice in March."""
    with web.site.session() as s:
        s.insert("Company", company_name="Print Co", abbr="PC", default_currency="USD", country="Canada")
        s.set_value("Price List", "Standard Selling", {"currency": "USD"})
        s.insert("Item", item_code="BOLT", item_group="All Item Groups")
        s.insert("Item Price", item_code="BOLT", price_list="Standard Selling", price_list_rate=20)
        s.insert("Customer", customer_name="Acme", company="Print Co", payment_deadline="Fixed days", credit_days=30)
        s.insert("Address", address_title="Acme HQ", address_type="Billing", address_line1="1 Main St",
                 city="Toronto", pincode="M5V", country="Canada", links=[{"link_doctype": "Customer",
                                                                            "link_name": "Acme"}])
        names = {}
        for key, day, qty in (("jan", dt.date(2024, 1, 15), 10), ("mar", dt.date(2024, 3, 5), 5)):
            inv = s.insert("Sales Invoice", customer="Acme", company="Print Co", posting_date=day,
                           items=[{"item_code": "BOLT", "qty": qty}])
            inv.submit()
            names[key] = inv.name
        s.insert("Payment Entry", customer="Acme", company="Print Co", posting_date=dt.date(2024, 2, 10),
                 paid_amount=120, references=[{"sales_invoice": names["jan"], "allocated_amount": 120}]).submit()
    return names


def _reminder(web: WebEnv, as_of: str = "2024-04-14") -> str:
    """Acme's Payment Reminder as of a day, as words."""
    return _words(web.client.get("/print", query_string={"doctype": "Customer", "name": "Acme",
                                                         "format": "Payment Reminder", "as_of": as_of}).text)


def _prepay(web: WebEnv, day: dt.date, amount: int) -> None:
    """A payment by Acme allocated to no invoice."""
    with web.site.session() as s:
        s.insert("Payment Entry", customer="Acme", company="Print Co", posting_date=day, paid_amount=amount).submit()


def test_balance_statement_and_payment_reminder(web: WebEnv):
    names = _books(web)
    page = web.client.get("/printview", query_string={"doctype": "Customer", "name": "Acme",
                                                      "format": "Balance Statement", "from_date": "2024-02-01",
                                                      "to_date": "2024-03-31"})
    assert page.status_code == 200 and "@page" in page.text  # print CSS
    text = _words(page.text)
    assert "Print Co Canada Balance Statement Acme 1 Main St M5V Toronto Canada" in text
    assert "2024-02-01 Opening balance 200.00" in text
    assert "2024-02-10 Payment Entry" in text and "120.00 80.00" in text
    assert f"2024-03-05 Sales Invoice {names['mar']} 100.00 180.00" in text
    assert "2024-03-31 Closing balance (you owe) 180.00" in text
    reminder = _reminder(web)
    # jan due 2024-02-14: 60 days overdue on 2024-04-14 (a leap year's February); mar due 2024-04-04: 10 days
    assert f"{names['jan']} 2024-01-15 2024-02-14 60 200.00 80.00" in reminder
    assert f"{names['mar']} 2024-03-05 2024-04-04 10 100.00 100.00" in reminder
    assert "Total open 180.00" in reminder and "overdue amount of 180.00 USD" in reminder
    # a prepayment (not allocated) reduces what the customer is asked to pay; one that covers all, to nothing
    _prepay(web, dt.date(2024, 4, 1), 50)
    reminder = _reminder(web)
    assert "overdue amount of 130.00 USD (the overdue 180.00 less your unallocated payments of 50.00)" in reminder
    assert "Less unallocated payments -50.00 Net owed 130.00" in reminder
    _prepay(web, dt.date(2024, 4, 2), 500)
    reminder = _reminder(web)
    assert "your unallocated payments of 550.00 USD cover them: nothing is to be paid" in reminder
    assert "Please pay" not in reminder


def test_a_bad_printout_parameter_is_a_417_naming_it(web: WebEnv):
    _books(web)
    for params, message in (({"format": "Balance Statement", "from_date": "bad"},
                             "Balance Statement: From Date 'bad' is not a date (YYYY-MM-DD)"),
                            ({"format": "Balance Statement", "from_date": "2024-03-01", "to_date": "2024-01-01"},
                             "To Date 2024-01-01 is before the From Date 2024-03-01"),
                            ({"format": "Payment Reminder", "as_of": "yesterday"},
                             "Payment Reminder: As of 'yesterday' is not a date"),
                            ({"format": "Payment Reminder", "company": "Nope"},
                             "Payment Reminder: Company 'Nope' does not exist")):
        for path in ("/printview", "/api/method/frappe.utils.print_format.download_pdf"):
            r = web.client.get(path, query_string={"doctype": "Customer", "name": "Acme", **params})
            assert r.status_code == 417, (path, params, r.status_code)
            assert message in unescape(r.get_data(as_text=True)), (path, r.get_data(as_text=True)[-400:])


def test_pdf_standard_format_and_errors(web: WebEnv):
    names = _books(web)
    pdf = web.client.get("/api/method/frappe.utils.print_format.download_pdf",
                         query_string={"doctype": "Customer", "name": "Acme", "format": "Payment Reminder"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data[:5] == b"%PDF-"
    assert 'filename="Payment-Reminder-Acme.pdf"' in pdf.headers["Content-Disposition"]
    legacy = web.client.get("/api/method/frappe.templates.pages.print.download_pdf",  # frappe-client's get_pdf
                            query_string={"doctype": "Customer", "name": "Acme", "format": "Payment Reminder"})
    assert legacy.status_code == 200 and legacy.data[:5] == b"%PDF-"
    also = web.client.get("/printview", query_string={"doctype": "Sales Invoice", "name": names["jan"], "pdf": "1"})
    assert also.status_code == 200 and also.data[:5] == b"%PDF-"
    standard = _words(web.client.get("/printview", query_string={"doctype": "Sales Invoice",
                                                                 "name": names["jan"]}).text)
    assert f"Sales Invoice {names['jan']}" in standard and "Grand Total 200.00" in standard
    assert "BOLT" in standard and "Items" in standard
    missing = web.client.get("/printview", query_string={"doctype": "Customer", "name": "Acme", "format": "Nope"})
    assert missing.status_code == 404
    assert "Customer has no print format 'Nope' (use Standard, Balance Statement, Payment Reminder)" in \
        unescape(missing.text)
    assert web.anon().get("/printview?doctype=Customer&name=Acme").status_code == 302  # to the login page


def test_the_form_offers_its_printouts_and_the_printout_its_parameters_and_the_way_back(web: WebEnv):
    _books(web)
    form = unescape(web.client.get("/app/customer/Acme").text)
    assert '<a class="btn" href="/printview?doctype=Customer&name=Acme&format=Balance+Statement"' in form
    assert ">Print Payment Reminder</a>" in form and ">Print</a>" in form  # and the Standard format
    page = unescape(web.client.get("/printview", query_string={
        "doctype": "Customer", "name": "Acme", "format": "Payment Reminder", "as_of": "2024-04-14"}).text)
    assert '<a href="/app/customer/Acme">' in page
    assert '<input name="as_of" value="2024-04-14" type="date">' in page
    assert "format=Payment+Reminder&as_of=2024-04-14&pdf=1" in page.replace("%20", "+")
    assert "@media print { .formats, .print-params { display: none; }" in page

"""``frappe.desk.query_report.run``: an app report over the REST API, in the shape Frappe's clients read."""

from __future__ import annotations

import json

from engine.site.auth import generate_api_key
from tests.web.conftest import WebEnv

RUN = "/api/method/frappe.desk.query_report.run"


def _customers(web: WebEnv) -> None:
    with web.site.session() as s:
        s.insert("Customer", customer_name="Umbrella", customer_type="Company")
        s.insert("Customer", customer_name="Wayne", customer_type="Individual", first_name="B", last_name="Wayne")


def test_a_report_answers_columns_rows_and_chart_as_frappe_does(web: WebEnv) -> None:
    _customers(web)
    r = web.client.get(RUN, query_string={"report_name": "Customers by Group"})
    assert r.status_code == 200, r.get_json()
    message = r.get_json()["message"]
    assert message["result"] == [{"customer_group": "Default Customer Group", "customers": 2}]
    assert message["columns"] == [{"fieldname": "customer_group", "label": "Customer Group", "fieldtype": "Link"},
                                  {"fieldname": "customers", "label": "Customers", "fieldtype": "Int"}]
    assert message["chart"] == {"type": "bar", "data": {"labels": ["Default Customer Group"],
                                                        "datasets": [{"name": "Customers", "values": [2]}]}}
    assert message["message"] is None and message["execution_time"] >= 0 and message["add_total_row"] == 0
    # v2 answers the same under "data"; the legacy cmd= form too
    v2 = web.client.get("/api/v2/method/frappe.desk.query_report.run",
                        query_string={"report_name": "Customers by Group"})
    assert v2.get_json()["data"]["result"] == message["result"]
    legacy = web.client.post("/", data={"cmd": "frappe.desk.query_report.run", "report_name": "Customers by Group"})
    assert legacy.get_json()["message"]["result"] == message["result"]


def test_filters_come_as_a_json_string_or_object_and_bad_ones_are_named(web: WebEnv) -> None:
    _customers(web)
    as_text = web.client.get(RUN, query_string={"report_name": "Customers by Group",
                                                "filters": json.dumps({"customer_type": "Individual"})})
    assert as_text.get_json()["message"]["result"] == [{"customer_group": "Default Customer Group", "customers": 1}]
    as_json = web.client.post(RUN, json={"report_name": "customers-by-group", "filters": {"customer_type": "Company"}})
    assert as_json.get_json()["message"]["result"] == [{"customer_group": "Default Customer Group", "customers": 1}]
    bad = web.client.get(RUN, query_string={"report_name": "Customers by Group",
                                            "filters": json.dumps({"customer_type": "Robot"})})
    assert bad.status_code == 417 and "Customer Type 'Robot' is not one of" in bad.get_json()["exception"]
    assert bad.get_json()["errors"][0]["field"] == "customer_type"
    not_object = web.client.get(RUN, query_string={"report_name": "Customers by Group", "filters": "[1, 2]"})
    assert not_object.status_code == 417 and "filters must be a JSON object" in not_object.text
    broken = web.client.get(RUN, query_string={"report_name": "Customers by Group", "filters": "{nope"})
    assert broken.status_code == 417 and "not valid JSON" in broken.text
    missing = web.client.get(RUN)
    assert missing.status_code == 417 and "report_name" in missing.text
    unknown = web.client.get(RUN, query_string={"report_name": "No Such Report"})
    assert unknown.status_code == 404 and "No Such Report" in unknown.text


def test_the_caller_needs_the_report_permission_and_sees_only_their_records(web: WebEnv) -> None:
    _customers(web)
    with web.site.session() as s:
        s.insert("User", name="rep@example.com", email="rep@example.com", roles=[{"role": "Sales User"}])
        s.insert("User", name="none@example.com", email="none@example.com")
        s.insert("Customer", customer_name="Rep Co", customer_manager="rep@example.com")
        rep = "token {}:{}".format(*generate_api_key(s, "rep@example.com"))
        nobody = "token {}:{}".format(*generate_api_key(s, "none@example.com"))
    r = web.anon().get(RUN, query_string={"report_name": "Customers by Group"}, headers={"Authorization": rep})
    assert r.get_json()["message"]["result"] == [{"customer_group": "Default Customer Group", "customers": 1}]
    refused = web.anon().get(RUN, query_string={"report_name": "Customers by Group"}, headers={"Authorization": nobody})
    assert refused.status_code == 403 and "report permission on Customer" in refused.text
    assert web.anon().get(RUN, query_string={"report_name": "Customers by Group"}).status_code == 401


def test_a_filter_naming_no_record_or_a_backwards_period_is_a_417(web: WebEnv) -> None:
    _customers(web)
    r = web.client.get(RUN, query_string={"report_name": "Balance Report", "filters": json.dumps({"customer": "Nope"})})
    assert r.status_code == 417
    assert r.get_json()["errors"][0]["field"] == "customer"
    assert "Balance Report: Customer 'Nope' does not exist" in r.get_json()["exception"]
    r = web.client.get(RUN, query_string={"report_name": "Balance Report", "filters": json.dumps(
        {"customer": "Umbrella", "from_date": "2026-12-31", "to_date": "2026-01-01"})})
    assert r.status_code == 417
    assert "Balance Report: To Date 2026-01-01 is before the From Date 2026-12-31" in r.get_json()["exception"]


def test_the_desk_report_page_asks_for_its_required_filters_before_running(web: WebEnv) -> None:
    _customers(web)
    first = web.client.get("/app/report/balance-report")
    assert first.status_code == 200
    assert "Set Customer, then Run." in first.text and "is required" not in first.text
    empty = web.client.get("/app/report/balance-report", query_string={"customer": ""})
    assert empty.status_code == 417 and empty.text.count("Balance Report: Customer is required") == 1
    nope = web.client.get("/app/report/balance-report", query_string={"customer": "Nope"})
    assert nope.status_code == 417 and "Customer &#39;Nope&#39; does not exist" in nope.text
    assert 'id="report-chart"' not in nope.text


def test_a_fiscal_year_out_of_range_is_named_as_such(web: WebEnv) -> None:
    r = web.client.get(RUN, query_string={"report_name": "Target vs Actual",
                                          "filters": json.dumps({"fiscal_year": 99999})})
    assert r.status_code == 417
    assert r.get_json()["errors"][0]["message"] == ("Target vs Actual: Fiscal Year must be a year between 1900 and "
                                                    "9999 (got 99999)")

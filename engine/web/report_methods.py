"""Frappe's ``frappe.desk.query_report.run``: an app report's rows over the REST API.

``/api/method/frappe.desk.query_report.run?report_name=<name>&filters=<JSON object>``
answers ``{"message": {"result": [...], "columns": [...], "chart": ..., ...}}`` in the
shape Frappe's clients read: ``columns`` as ``{fieldname, label, fieldtype}`` objects,
``result`` as one object per row, ``chart`` as Frappe Charts data (labels and
datasets). The report reads through the request's report session (a read replica's
when the site has one, see :meth:`engine.site.site.Site.report_session`), with the
caller's role permissions and record rules, as on the desk's report page.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from engine.documents.reports import ReportResult, find_report
from engine.errors import ValidationError
from engine.web.client_methods import json_arg, text_arg
from engine.web.context import current_site, db_session, report_session
from engine.web.ui import report_view


def run(args: dict[str, Any]) -> dict[str, Any]:
    report = find_report(db_session(), current_site().hooks.reports, text_arg(args, "report_name"))
    filters = json_arg(args.get("filters"), "filters")
    if filters in (None, ""):
        filters = {}
    if not isinstance(filters, Mapping):
        raise ValidationError(f"Report {report.name!r}: filters must be a JSON object of filter values, "
                              f"not {type(filters).__name__}")
    started = time.perf_counter()
    result = report.run(report_session(), {k: v for k, v in filters.items() if isinstance(k, str)})
    return frappe_result(result, time.perf_counter() - started)


def frappe_result(result: ReportResult, seconds: float) -> dict[str, Any]:
    """A ReportResult as Frappe's ``generate_report_result`` answers it."""
    return {
        "result": [dict(row) for row in result.rows],
        "columns": [{"fieldname": key, "label": label, "fieldtype": fieldtype}
                    for key, label, fieldtype in result.columns],
        "message": result.message,
        "chart": _chart(result),
        "report_summary": None,
        "skip_total_row": 0,
        "status": None,
        "execution_time": round(seconds, 3),
        "add_total_row": 0,
    }


def _chart(result: ReportResult) -> dict[str, Any] | None:
    """Frappe Charts' ``{"data": {"labels", "datasets"}, "type"}``."""
    chart = result.chart
    if chart is None:
        return None
    labels = {key: label for key, label, _ in result.columns}
    number = report_view.plain_number
    return {"type": chart.type,
            "data": {"labels": [row.get(chart.x) for row in result.rows],
                     "datasets": [{"name": labels.get(y, y), "values": [number(row.get(y)) for row in result.rows]}
                                  for y in chart.y]}}

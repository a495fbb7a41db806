"""The report page: a report's filters, its table, its chart, and the same rows as CSV or XLSX.

A report (see :mod:`engine.documents.reports`) needs the ``report`` permission on its
``ref_doctype``; export also needs ``export``. The chart is drawn in the browser by
plotly.js, which the ``plotly`` package ships and the desk serves at
``/assets/vendor/plotly.min.js``; the page hands it the figure as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from engine.documents.reports import Report, ReportResult, report_slug
from engine.errors import FieldError, PermissionError, ValidationError
from engine.rules.permissions import has_permission
from engine.site import spreadsheet
from engine.site.session import Session
from engine.web.ui.form_view import FieldView, display_value


def plotly_js() -> Path:
    import plotly  # the chart library's package holds the browser bundle

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def readable_reports(session: Session, reports: dict[str, Report]) -> list[Report]:
    return [r for _, r in sorted(reports.items()) if has_permission(session, r.ref_doctype, "report")]


@dataclass
class ReportPage:
    report: Report
    url: str
    filters: list[FieldView]
    result: ReportResult | None
    error: str | None
    figure: str  # plotly figure JSON, "" without a chart
    can_export: bool
    query: str
    cells: list[list[str]] = field(default_factory=list)
    prompt: str | None = None  # first visit of a report with required filters: what to fill in


def build(session: Session, report: Report, args: MultiDict[str, str]) -> ReportPage:
    errors: dict[str, str] = {}
    result, error, prompt = None, None, None
    missing = [f for f in report.filters if f.required and args.get(f.name, f.default) in (None, "")]
    if missing and not any(f.name in args for f in report.filters):
        # the first visit: ask for the filters the report needs instead of reporting them missing
        prompt = f"Set {' and '.join(f.label for f in missing)}, then Run."
    else:
        try:
            result = report.run(session, args)
        except ValidationError as exc:
            errors = {e.field: e.message for e in exc.errors or () if isinstance(e, FieldError) and e.field}
            # the problems shown at their filters are not repeated above the table
            rest = [e.message for e in exc.errors or () if not (isinstance(e, FieldError) and e.field in errors)]
            error = "; ".join(rest) if exc.errors else exc.message
            error = error or None
    filters = [FieldView(f, f.name, display_value(f, args.get(f.name, f.default)), errors.get(f.name),
                         link_doctype=f.options if f.type == "Link" and isinstance(f.options, str) else None)
               for f in report.filters]
    page = ReportPage(report, f"/app/report/{report_slug(report.name)}", filters, result, error,
                      _figure(result) if result is not None else "", has_permission(session, report.ref_doctype,
                                                                                   "export"),
                      urlencode([(k, v) for k, v in args.items(multi=True) if k != "format"]),
                      prompt=prompt)
    if result is not None:
        page.cells = [[spreadsheet.text(row.get(key)) for key, _, _ in result.columns] for row in result.rows]
    return page


def plain_number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _figure(result: ReportResult) -> str:
    chart = result.chart
    if chart is None or not result.rows:
        return ""
    labels = {key: label for key, label, _ in result.columns}
    xs = [spreadsheet.text(r.get(chart.x)) for r in result.rows]
    if chart.type == "pie":
        data = [{"type": "pie", "labels": xs, "values": [plain_number(r.get(chart.y[0])) for r in result.rows]}]
    else:
        data = [{"type": "bar" if chart.type == "bar" else "scatter", "name": labels.get(y, y), "x": xs,
                 "y": [plain_number(r.get(y)) for r in result.rows]} for y in chart.y]
    layout = {"margin": {"t": 24, "r": 16, "b": 48, "l": 56}, "height": 320, "barmode": "group",
              "xaxis": {"title": {"text": labels.get(chart.x, chart.x)}}, "showlegend": len(data) > 1}
    return json.dumps({"data": data, "layout": layout}, default=str)


def export(session: Session, report: Report, args: MultiDict[str, str], fmt: str) -> tuple[bytes, str, str]:
    """(body, content type, file name) of the report's rows as CSV or XLSX."""
    if not has_permission(session, report.ref_doctype, "export"):
        raise PermissionError(f"User {session.user!r} has no permission to export {report.ref_doctype}")
    body, content_type = spreadsheet.report_table(report.run(session, args), fmt, report.name)
    return body, content_type, f"{report_slug(report.name)}.{fmt}"

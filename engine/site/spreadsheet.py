"""Rows as a CSV or XLSX download (lists and reports export through here)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from engine.documents.reports import ReportResult

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def text(value: Any) -> str:
    """A value as a cell of text: exact decimals, ISO dates, empty for None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):  # a JSON field: JSON, which an import reads back
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, title: str) -> tuple[bytes, str]:
    """(body, content type). XLSX is written in openpyxl's streaming mode; numbers stay numbers."""
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title[:31])
        sheet.append(list(header))
        for row in rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v if isinstance(v, (int, float, dt.date))
                          else text(v) for v in row])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), FORMATS["xlsx"]
    out_text = io.StringIO()
    writer = csv.writer(out_text)
    writer.writerow(header)
    writer.writerows([text(v) for v in row] for row in rows)
    return out_text.getvalue().encode("utf-8"), FORMATS["csv"]


def report_table(result: ReportResult, fmt: str, title: str) -> tuple[bytes, str]:
    """A report's columns (their labels) and rows as CSV or XLSX: (body, content type)."""
    return table([label for _, label, _ in result.columns],
                 ([row.get(key) for key, _, _ in result.columns] for row in result.rows), fmt, title)

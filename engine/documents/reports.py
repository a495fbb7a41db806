"""Reports: app functions that turn filters into a table and a chart, shown on the desk's report page.

In a hook module of the app (``hooks/<module>.py``)::

    from engine import report

    @report("Customers by Group", ref_doctype="Customer",
            filters=[{"name": "territory", "type": "Link", "options": "Territory"}])
    def customers_by_group(ctx, filters):
        rows = ctx.get_list("Customer", fields=["customer_group", "count(name) as customers"],
                            filters={k: v for k, v in filters.items() if v}, group_by="customer_group")
        return ReportResult(columns=[("customer_group", "Customer Group", "Link"),
                                     ("customers", "Customers", "Int")],
                            rows=rows, chart=Chart("bar", x="customer_group", y=("customers",)))

A report needs the ``report`` permission on its ``ref_doctype``; it reads through the
caller's Session, so record rules apply to what it shows. Filters are field
definitions (``name``, ``type``, ``label``, ``options``, ``default``, ``required``) of
the doctype YAML's kinds; the function gets their values coerced, None when empty.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from engine.documents import marks
from engine.errors import (
    DoesNotExistError,
    FieldError,
    HookError,
    LinkValidationError,
    MandatoryError,
    PermissionError,
    ValidationError,
)
from engine.metadata.doctype import Field, default_label
from engine.metadata.fieldtypes import FIELD_TYPES
from engine.rules.permissions import has_permission
from engine.storage.unit import UnitOfWork

F = TypeVar("F", bound=Callable[..., Any])
MARKER = "__docframe_report__"
FILTER_TYPES = frozenset({"Data", "Link", "Select", "Date", "Datetime", "Int", "Float", "Currency", "Check"})
CHART_TYPES = frozenset({"bar", "line", "pie"})


@dataclass(frozen=True)
class Chart:
    """What to draw: a column for the x axis (or the pie's labels) and one or more value columns."""

    type: str
    x: str
    y: tuple[str, ...]


@dataclass
class ReportResult:
    columns: Sequence[tuple[str, str, str]]  # (key, label, field type for formatting)
    rows: list[Mapping[str, Any]]
    chart: Chart | None = None
    message: str | None = None


@dataclass(frozen=True)
class Report:
    name: str
    ref_doctype: str
    filters: tuple[Field, ...]
    fn: Callable[[Any, dict[str, Any]], ReportResult]
    summary: str = ""
    where: str = ""

    def run(self, ctx: Any, values: Mapping[str, Any]) -> ReportResult:
        """Coerce the filter values, then run; a missing or bad value is a ValidationError naming the filter:
        a Link to a record that does not exist, a From Date after the To Date."""
        filters = self.coerce(values)
        errors: list[FieldError] = []
        links = [(f, filters.get(f.name)) for f in self.filters if f.type == "Link" and filters.get(f.name)]
        if links:
            with ctx.checked(self.ref_doctype, "report"):  # whoever may run the report may filter it
                for f, value in links:
                    if not ctx.exists(f.options, value):
                        errors.append(FieldError(self.name, f.name, f.label, f"{self.name}: {f.label} {value!r} "
                                                 "does not exist", value, None, LinkValidationError))
        start, end = filters.get("from_date"), filters.get("to_date")
        if start is not None and end is not None and start > end:
            errors.append(FieldError(self.name, "to_date", "To Date", f"{self.name}: To Date {end} is before the "
                                     f"From Date {start}", end))
        if errors:
            raise ValidationError.from_errors(errors)
        return self.fn(ctx, filters)

    def coerce(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        errors: list[FieldError] = []
        for f in self.filters:
            value = values.get(f.name)
            if value in (None, ""):
                value = f.default
            if value in (None, ""):
                if f.required:
                    errors.append(FieldError(self.name, f.name, f.label, f"{self.name}: {f.label} is required",
                                             None, None, MandatoryError))
                out[f.name] = None
                continue
            coerce = f.fieldtype.coerce
            try:
                out[f.name] = coerce(value, f) if coerce is not None else value
            except ValueError as exc:
                errors.append(FieldError(self.name, f.name, f.label, f"{self.name}: {f.label} {exc}", value))
        if errors:
            raise ValidationError.from_errors(errors)
        return out


def find_report(session: UnitOfWork, reports: Mapping[str, Report], name: str) -> Report:
    """The report called ``name``, or whose URL slug it is (``customers-by-group``).

    DoesNotExistError (404) for none; PermissionError (403) when the session's user lacks
    the ``report`` permission on its ``ref_doctype``.
    """
    found = reports.get(name) or next((r for r in reports.values() if report_slug(r.name) == name), None)
    if found is None:
        raise DoesNotExistError(f"Report {name!r} not found; the reports are: {', '.join(sorted(reports)) or 'none'}")
    if not has_permission(session, found.ref_doctype, "report"):
        raise PermissionError(f"User {session.user!r} has no permission to see the report {found.name!r}: "
                              f"it needs the report permission on {found.ref_doctype}")
    return found


def report_slug(name: str) -> str:
    """'Customers by Group' -> 'customers-by-group' (the report's URL)."""
    return name.lower().replace(" ", "-")


def report(name: str, *, ref_doctype: str, filters: Sequence[Mapping[str, Any]] = ()) -> Callable[[F], F]:
    """Mark a hook-module function ``(ctx, filters) -> ReportResult`` as the report ``name``."""

    return marks.marker(MARKER, (name, ref_doctype, tuple(dict(f) for f in filters)))


def collect(module: ModuleType, doctypes: Collection[str], where: str) -> list[Report]:
    """The reports of a hook module, checked: a bad filter or an unknown doctype stops start-up."""
    found = []
    for fn, (name, ref_doctype, raw_filters) in marks.marked(module, MARKER):
        if ref_doctype not in doctypes:
            raise HookError(f"{where}: report {name!r}: unknown ref_doctype {ref_doctype!r}")
        if list(inspect.signature(fn).parameters)[:2] != ["ctx", "filters"]:
            raise HookError(f"{where}: report {name!r} must take (ctx, filters)")
        found.append(Report(name, ref_doctype, tuple(_filter(name, f, doctypes, where) for f in raw_filters), fn,
                            ((inspect.getdoc(fn) or "").strip().splitlines() or [""])[0], where))
    return found


def _filter(report_name: str, raw: dict[str, Any], doctypes: Collection[str], where: str) -> Field:
    name, ftype = raw.get("name"), raw.get("type", "Data")
    if not isinstance(name, str) or not name.isidentifier():
        raise HookError(f"{where}: report {report_name!r}: a filter needs a 'name' (got {name!r})")
    if ftype not in FILTER_TYPES:
        raise HookError(f"{where}: report {report_name!r}: filter {name!r} of type {ftype!r}; "
                        f"use one of {', '.join(sorted(FILTER_TYPES))}")
    options = raw.get("options")
    if ftype == "Link" and options not in doctypes:
        raise HookError(f"{where}: report {report_name!r}: filter {name!r} links to unknown doctype {options!r}")
    if isinstance(options, list):
        options = tuple(str(o) for o in options)
    unknown = set(raw) - {"name", "type", "label", "options", "default", "required", "description"}
    if unknown:
        raise HookError(f"{where}: report {report_name!r}: filter {name!r} has unknown key(s) {sorted(unknown)}")
    return Field(name, ftype, raw.get("label") or default_label(name), options=options,
                 default=raw.get("default"), required=bool(raw.get("required")), description=raw.get("description"),
                 length=FIELD_TYPES[ftype].default_length)

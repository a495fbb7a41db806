"""The form page of a document: layout from the field order, values as inputs show them, errors at their fields.

Layout: ``Section Break`` starts a section (``Tab Break`` too), ``Column Break`` a
column within it; fields before any break are the first section. A form posts
parent fields by name and child rows as ``<table>-<i>-<field>`` (``<table>-<i>-name``
keeps an existing row's ID; rows come in the order they are posted, so moving or
removing a row in the grid is reordering or removing it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.documents.document import Document
from engine.errors import FieldError
from engine.metadata.doctype import VIRTUAL_DOCTYPES, DocType, Field
from engine.metadata.expressions import ExpressionError, compile_expression

NOT_POSTED = frozenset({"Read Only", "Table", "Section Break", "Column Break", "Tab Break"})


@dataclass
class FieldView:
    field: Field
    input_name: str
    value: Any  # as the input shows it (text; a bool for Check)
    error: str | None = None
    read_only: bool = False
    hidden: bool = False  # by its depends_on, for the document as it is now
    link_doctype: str | None = None
    is_set: bool = False  # a Password field that holds a value
    open_doctype: str | None = None  # the doctype of the record the value names (the field's open link)

    @property
    def id(self) -> str:
        return "f-" + self.input_name

    @property
    def widget(self) -> str:
        return self.field.fieldtype.widget

    @property
    def required(self) -> bool:
        return self.field.required


@dataclass
class GridRow:
    name: str | None
    cells: list[FieldView]
    error: str | None = None


@dataclass
class GridView:
    field: Field
    columns: list[Field]
    rows: list[GridRow]
    template: GridRow  # the cells of a new row, with __i__ in the input names
    error: str | None = None
    read_only: bool = False


@dataclass
class Column:
    items: list[FieldView | GridView] = field(default_factory=list)


@dataclass
class Section:
    label: str | None
    columns: list[Column] = field(default_factory=lambda: [Column()])
    is_tab: bool = False

    @property
    def empty(self) -> bool:
        return not any(c.items for c in self.columns)


def display_value(f: Field, value: Any) -> Any:
    """A stored value as its input shows it."""
    if f.type == "Check":
        return bool(value)
    if value is None:
        return ""
    if f.type == "Password":
        return ""
    if f.type == "Datetime" and isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat(timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if f.type == "JSON":
        return json.dumps(value, indent=2, ensure_ascii=False) if not isinstance(value, str) else value
    return str(value)


def _field_view(f: Field, value: Any, input_name: str, doc_values: dict[str, Any], user: dict[str, Any],
                saved: bool, error: str | None = None) -> FieldView:
    read_only = f.read_only or f.type == "Read Only" or bool(f.fetch_from)
    if f.set_only_once and saved and value not in (None, ""):
        read_only = True
    if f.read_only_depends_on and _holds(f.read_only_depends_on, doc_values, user):
        read_only = True
    hidden = bool(f.depends_on) and not _holds(f.depends_on, doc_values, user)
    link = f.options if f.type == "Link" and isinstance(f.options, str) else None
    target = None  # the doctype the value opens as: a Link's own; a Dynamic Link's, from its doctype field
    if link is not None and link not in VIRTUAL_DOCTYPES:
        target = link
    elif f.type == "Dynamic Link" and isinstance(f.options, str) and isinstance(doc_values.get(f.options), str):
        target = doc_values[f.options] or None
    return FieldView(f, input_name, display_value(f, value), error, read_only, hidden or f.hidden, link,
                     is_set=f.type == "Password" and bool(value), open_doctype=target)


def _holds(source: str, values: dict[str, Any], user: dict[str, Any]) -> bool:
    try:
        return compile_expression(source).evaluate(values, user)
    except ExpressionError:  # checked when the doctype loaded; a bad one shows the field
        return True


def layout(meta: DocType, child_metas: dict[str, DocType], values: dict[str, Any], user: dict[str, Any],
           saved: bool, errors: dict[tuple[str | None, int | None, str | None], str],
           editable: bool = True) -> list[Section]:
    """The form's sections, columns and fields for the document ``values`` (child rows as lists of dicts)."""
    sections = [Section(None)]
    for f in meta.fields:
        if f.type in ("Section Break", "Tab Break"):
            sections.append(Section(f.label, is_tab=f.type == "Tab Break"))
            continue
        if f.type == "Column Break":
            sections[-1].columns.append(Column())
            continue
        if f.hidden and f.type != "Table":
            continue
        if f.type == "Table":
            child = child_metas[f.options]  # type: ignore[index]
            sections[-1].columns[-1].items.append(
                _grid(f, child, values.get(f.name) or [], user, saved, errors, editable))
            continue
        view = _field_view(f, values.get(f.name), f.name, values, user, saved, errors.get((None, None, f.name)))
        if not editable:
            view.read_only = True
        sections[-1].columns[-1].items.append(view)
    return [s for s in sections if not s.empty]


def _grid(f: Field, child: DocType, rows: list[dict[str, Any]], user: dict[str, Any], saved: bool,
          errors: dict[tuple[str | None, int | None, str | None], str], editable: bool) -> GridView:
    columns = [c for c in child.data_fields if not c.hidden]
    grid_rows = []
    for i, row in enumerate(rows, 1):
        cells = [_field_view(c, row.get(c.name), f"{f.name}-{i}-{c.name}", row, user, bool(row.get("name")),
                             errors.get((f.name, i, c.name))) for c in columns]
        for cell in cells:
            cell.hidden = False  # a grid shows every column; depends_on applies on the row's own form
            cell.read_only = cell.read_only or not editable
        grid_rows.append(GridRow(row.get("name"), cells, errors.get((f.name, i, None))))
    template = GridRow(None, [_field_view(c, c.default, f"{f.name}-__i__-{c.name}", {}, user, False)
                              for c in columns])
    for cell in template.cells:
        cell.hidden = False
    return GridView(f, columns, grid_rows, template, errors.get((None, None, f.name)), not editable)


def error_map(meta: DocType, errors: Iterable[FieldError]) -> tuple[dict[tuple[str | None, int | None, str | None],
                                                                          str], list[str]]:
    """FieldErrors by (table field, row, field) for the form; the ones with no field are general messages."""
    table_of = {}
    for f in meta.table_fields:
        table_of.setdefault(f.options, f.name)
    placed: dict[tuple[str | None, int | None, str | None], str] = {}
    general: list[str] = []
    for e in errors:
        if e.row is not None and e.doctype != meta.name:
            key: tuple[str | None, int | None, str | None] = (table_of.get(e.doctype), e.row, e.field)
        elif e.field and (e.field in meta.fields_by_name):
            key = (None, None, e.field)
        else:
            general.append(e.message)
            continue
        message = at_field(e.message, meta.name)
        placed[key] = placed[key] + "; " + message if key in placed else message
    return placed, general


def at_field(message: str, doctype: str) -> str:
    """A field's message without the "Customer: row 2 of Contacts: " that places it: the form shows where."""
    if message.startswith(f"{doctype}: "):
        message = message[len(doctype) + 2:]
        if message.startswith("row ") and ": " in message:
            message = message.partition(": ")[2]
    return message


# ---------------------------------------------------------------- reading a posted form

def posted_values(meta: DocType, form: MultiDict[str, str], doc: Document | None) -> dict[str, Any]:
    """The values a form posted for ``meta`` (only the fields it sent; rows merged with the stored ones)."""
    values: dict[str, Any] = {}
    for f in meta.data_fields:
        if f.type in NOT_POSTED or f.fetch_from or f.name not in form:
            continue
        sent = form.getlist(f.name)
        value = sent[-1] if sent else ""
        if f.type == "Password" and value == "":
            continue  # left empty: keep the stored one
        values[f.name] = value
    if form.get("modified"):
        values["modified"] = form["modified"]
    for tf in meta.table_fields:
        rows = _posted_rows(tf.name, form)
        if rows is None:
            continue
        stored = {r.name: r.as_dict(no_password=False) for r in (doc.get(tf.name) if doc is not None else [])}
        merged = []
        for row in rows:
            base = {k: v for k, v in stored.get(row.get("name") or "", {}).items()
                    if k not in ("doctype", "idx", "parent", "parenttype", "parentfield")}
            merged.append({**base, **row})
        values[tf.name] = merged
    return values


def _posted_rows(table: str, form: MultiDict[str, str]) -> list[dict[str, Any]] | None:
    """Rows of ``table`` in posted order; None when the form has no grid for it (``<table>-present``)."""
    if f"{table}-present" not in form:
        return None
    prefix = table + "-"
    rows: dict[str, dict[str, Any]] = {}
    for key, value in form.items(multi=True):
        if not key.startswith(prefix) or key == f"{table}-present":
            continue
        index, sep, fieldname = key[len(prefix):].partition("-")
        if not sep or index == "__i__":
            continue
        rows.setdefault(index, {})[fieldname] = value  # a Check's hidden 0 is followed by its 1
    return [{k: v for k, v in r.items() if not (k == "name" and not v)} for r in rows.values()]

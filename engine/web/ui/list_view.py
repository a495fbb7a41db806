"""The list page of a doctype: columns, filters, search, sort and pages, all held in the URL.

URL state (bookmarkable): ``q`` searches the ID and the search fields; each ``in_filter``
field is a parameter of its own (``?territory=Europe`` means equal); ``f`` (repeated)
holds any other filter as ``field|operator|value``; ``sort`` and ``order`` the sort;
``page`` the page. Everything goes through ``Session.get_list``/``get_count``, so role
permissions and record rules apply as in the API.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from engine.errors import DocframeError, FilterError
from engine.metadata.doctype import STANDARD_LABELS, DocType, Field
from engine.rules.query import OPERATORS
from engine.site.session import Session
from engine.web.ui.desk import STATUSES

PAGE_SIZE = 20
MAX_COLUMNS = 8
FILTER_SEPARATOR = "|"
STATUS_FIELD = Field("docstatus", "Select", "Status", options=STATUSES)
# Operators offered by "add filter", in the order shown; tree operators only for Links to trees.
PLAIN_OPERATORS = ("=", "!=", "like", "not like", ">", "<", ">=", "<=", "in", "not in", "is")
TREE_OPERATORS = ("descendants of (inclusive)", "descendants of", "not descendants of", "ancestors of")
_FILTER_TYPES_SKIPPED = frozenset({"Table", "Password", "JSON", "Section Break", "Column Break", "Tab Break"})


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    field: Field | None  # None for the ID and standard columns


@dataclass(frozen=True)
class FilterInput:
    """An ``in_filter`` field in the filter bar, with the value the URL gives it."""

    field: Field
    value: str
    link_doctype: str | None


@dataclass(frozen=True)
class AddedFilter:
    field: str
    label: str
    op: str
    value: str
    remove_url: str


@dataclass
class ListPage:
    meta: DocType
    slug: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    page_size: int
    q: str
    sort: str
    order: str
    filter_inputs: list[FilterInput]
    added_filters: list[AddedFilter]
    filterable: list[tuple[str, str]]  # (field, label) for "add filter"
    operators: list[str]
    tree_fields: list[str]  # fields that take the tree operators
    args: MultiDict[str, str]
    error: str | None = None
    can_create: bool = False
    can_delete: bool = False
    can_export: bool = False
    can_import: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def url(self, **changes: Any) -> str:
        """This list's URL with some parameters changed (None removes one)."""
        args = MultiDict(self.args)
        for key, value in changes.items():
            args.poplist(key)
            if value not in (None, ""):
                args.setlist(key, value if isinstance(value, list) else [str(value)])
        query = urlencode(list(args.items(multi=True)))
        return f"/app/{self.slug}" + (f"?{query}" if query else "")

    def export_url(self, fmt: str = "csv") -> str:
        """This filtered list (every page) as CSV or XLSX."""
        query = urlencode([(k, v) for k, v in self.args.items(multi=True) if k not in ("page", "sort", "order")])
        return f"/app/{self.slug}/-/export.{fmt}" + (f"?{query}" if query else "")

    def sort_url(self, column: str) -> str:
        # a new column sorts A to Z first (as Django admin and Frappe); the current one turns around
        order = ("desc" if self.order == "asc" else "asc") if self.sort == column else "asc"
        return self.url(sort=column, order=order, page=None)

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return min(self.page * self.page_size, self.total)


def columns_of(meta: DocType) -> list[Column]:
    cols = [Column("name", "ID", None)]
    title = meta.title_field if meta.title_field and meta.title_field != "name" else None
    listed = [f for f in meta.data_fields if f.in_list_view and f.type not in ("Password", "JSON")]
    if title and all(f.name != title for f in listed):
        listed.insert(0, meta.fields_by_name[title])
    cols += [Column(f.name, f.label, f) for f in listed[: MAX_COLUMNS - 1]]
    if meta.is_submittable:
        cols.append(Column("docstatus", "Status", None))
    return cols


def parse_filters(meta: DocType, args: Mapping[str, Any] | MultiDict[str, str]) -> tuple[list[list[Any]], list[str]]:
    """The URL's filters as engine filters, and the problems found (each becomes a message, not a 500)."""
    filters: list[list[Any]] = []
    problems: list[str] = []
    getlist = args.getlist if isinstance(args, MultiDict) else (lambda k: [args[k]] if k in args else [])
    for f in meta.data_fields:
        if f.in_filter:
            value = (getlist(f.name) or [""])[-1]
            if value != "":
                filters.append([f.name, "like" if f.fieldtype.is_text and "%" in value else "=", value])
    status = (getlist("docstatus") or [""])[-1] if meta.is_submittable else ""
    if status in STATUSES:
        filters.append(["docstatus", "=", STATUSES.index(status)])
    elif status in ("0", "1", "2"):
        filters.append(["docstatus", "=", int(status)])
    elif status:
        problems.append(f"Status {status!r} is none of {', '.join(STATUSES)}")
    for raw in getlist("f"):
        parts = raw.split(FILTER_SEPARATOR, 2)
        if len(parts) != 3 or parts[1] not in OPERATORS:
            problems.append(f"Filter {raw!r} is not field{FILTER_SEPARATOR}operator{FILTER_SEPARATOR}value")
            continue
        name, op, value = parts
        values: Any = value
        if op in ("in", "not in"):
            values = [v.strip() for v in value.split(",") if v.strip()]
        elif op == "between":
            values = [v.strip() for v in value.split(",", 1)]
        child, dot, field = name.partition(".")
        # "Dynamic Link.link_name|=|Acme": a filter on the rows of a child table (a Connections link)
        filters.append([child, field, op, values] if dot else [name, op, values])
    return filters, problems


def _groups_as_subtrees(session: Session, meta: DocType, filters: list[list[Any]]) -> None:
    """A filter-bar value that is a group of a tree (Territory "Europe") means everything under it, as in
    ERPNext's reports; a leaf stays an equality, which the field's index serves."""
    for flt in filters:
        if len(flt) != 3 or flt[1] != "=" or not isinstance(flt[2], str):
            continue
        f = meta.fields_by_name.get(flt[0])
        target = session.site.doctypes.get(f.options) if f is not None and isinstance(f.options, str) else None
        if f is None or not f.in_filter or f.type != "Link" or target is None or not target.is_tree:
            continue
        try:
            group = session.get_value(target.name, {"name": flt[2]}, "is_group")
        except DocframeError:
            continue  # a tree the user may not read: the plain equality
        if group:
            flt[1] = "descendants of (inclusive)"


def search_filters(meta: DocType, q: str) -> list[list[Any]]:
    """``q`` as an OR over the ID and the search fields (and the title field)."""
    if not q:
        return []
    names = ["name", *meta.search_fields]
    if meta.title_field and meta.title_field not in names:
        names.append(meta.title_field)
    return [[n, "like", f"%{q}%"] for n in dict.fromkeys(names)]


def build(session: Session, meta: DocType, slug: str, args: MultiDict[str, str],
          defaults: Callable[[list[list[Any]]], list[list[Any]]] | None = None) -> ListPage:
    """The page for ``args``; a bad filter or sort is reported on the page, the list then unfiltered.

    ``defaults`` gives the default filters for the filters the URL sets (those on other fields).
    """
    columns = columns_of(meta)
    q = (args.get("q") or "").strip()
    sortable = {c.name for c in columns} | {f.name for f in meta.data_fields if f.has_column} | set(STANDARD_LABELS)
    sort = args.get("sort") or meta.sort_field
    problems: list[str] = []
    if sort not in sortable:
        problems.append(f"{meta.name} cannot be sorted by {sort!r}; sorted by {meta.label_of(meta.sort_field)}")
        sort = meta.sort_field
    order = "asc" if (args.get("order") or meta.sort_order).lower() == "asc" else "desc"
    filters, bad_filters = parse_filters(meta, args)
    problems += bad_filters
    _groups_as_subtrees(session, meta, filters)
    base_filters = defaults(filters) if defaults is not None else []
    filters = [*base_filters, *filters]
    or_filters = search_filters(meta, q)
    try:
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        page = 1
    fields = [c.name for c in columns]
    error = "; ".join(problems) or None
    try:
        total = session.get_count(meta.name, filters, or_filters)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(page, pages)
        rows = session.get_list(meta.name, fields=fields, filters=filters, or_filters=or_filters,
                                order_by=f"{sort} {order}", limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    except FilterError as exc:
        error = exc.message
        filters = base_filters or []
        total = session.get_count(meta.name, filters)
        pages, page = max(1, math.ceil(total / PAGE_SIZE)), 1
        rows = session.get_list(meta.name, fields=fields, filters=filters, order_by=f"{sort} {order}",
                                limit=PAGE_SIZE)
    inputs = [FilterInput(f, (args.getlist(f.name) or [""])[-1], f.options if f.type == "Link" else None)
              for f in meta.data_fields if f.in_filter]
    if meta.is_submittable:  # Draft / Submitted / Cancelled, as Frappe's list sidebar offers
        given = (args.getlist("docstatus") or [""])[-1]
        inputs.insert(0, FilterInput(STATUS_FIELD, STATUSES[int(given)] if given in ("0", "1", "2") else given, None))
    doctypes = session.site.doctypes
    tree_fields = [f.name for f in meta.data_fields  # a Link to "DocType" is metadata: no tree
                   if f.type == "Link" and isinstance(f.options, str) and f.options in doctypes
                   and doctypes[f.options].is_tree]
    if meta.is_tree:
        tree_fields.insert(0, "name")
    page_obj = ListPage(
        meta=meta, slug=slug, columns=columns, rows=rows, total=total, page=page, pages=pages,
        page_size=PAGE_SIZE, q=q, sort=sort, order=order, filter_inputs=inputs, added_filters=[],
        filterable=[("name", "ID")] + [(f.name, f.label) for f in meta.data_fields
                                       if f.type not in _FILTER_TYPES_SKIPPED],
        operators=[*PLAIN_OPERATORS, *(TREE_OPERATORS if tree_fields else ())], tree_fields=tree_fields,
        args=args, error=error)
    for raw in args.getlist("f"):
        parts = raw.split(FILTER_SEPARATOR, 2)
        if len(parts) == 3:
            remaining = [r for r in args.getlist("f") if r != raw]
            child, dot, field = parts[0].partition(".")
            label = (f"{child}: {doctypes[child].label_of(field)}" if dot and child in doctypes
                     else meta.label_of(parts[0]))
            page_obj.added_filters.append(AddedFilter(parts[0], label, parts[1], parts[2],
                                                      page_obj.url(f=remaining, page=None)))
    return page_obj

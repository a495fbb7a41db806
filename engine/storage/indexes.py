"""Which indexes a doctype's table gets, and which list pages they serve.

The rule (SPEC: lists are index range scans): a clerk's list is "filter by one
field, order by the doctype's default sort, first 20". A field offered as a list
filter (``in_filter``) or marked ``search_index``/``index`` therefore gets a
composite index *(field, sort column)*: the database finds the first 20 rows of
the value in sort order and stops, instead of reading every matching row and
sorting them. Plain Links get an index of their own (link checks, "where is this
used"); unique fields a unique one; ``indexes:`` in the YAML adds any other.

Pure functions of the metadata: :func:`table_indexes` feeds the compiler, and
:func:`list_index_gaps` tells ``docframe check`` which list shapes no index serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.metadata.doctype import STANDARD_COLUMNS, DocType

EQUALITY_OPERATORS = frozenset({"=", "in"})  # what an index seeks on ("is not set" is rarely selective)


@dataclass(frozen=True, slots=True)
class PlannedIndex:
    """One index of a doctype's table: its columns in order, unique or not."""

    columns: tuple[str, ...]
    unique: bool = False

    @property
    def prefix(self) -> str:
        return "ux" if self.unique else "ix"


def sort_column(dt: DocType) -> str | None:
    """The column of the doctype's default sort, if an index can hold it."""
    if dt.sort_field in STANDARD_COLUMNS:
        return dt.sort_field
    f = dt.get_field(dt.sort_field)
    return f.name if f is not None and f.fieldtype.indexable else None


def table_indexes(dt: DocType) -> list[PlannedIndex]:
    """Every index of ``dt``'s table except the engine's own (lower(name), child parent key, tree path)."""
    planned: dict[tuple[str, ...], PlannedIndex] = {}

    def add(ix: PlannedIndex) -> None:
        planned.setdefault(ix.columns, ix)

    for spec in dt.indexes:  # declared first: they win over a default on the same columns
        add(PlannedIndex(spec.fields, spec.unique))
    sort = None if dt.is_child else sort_column(dt)
    if not dt.is_child:
        add(PlannedIndex(("modified",)))
        if sort and sort != "name":
            add(PlannedIndex((sort,)))
    for f in dt.data_fields:
        if not f.fieldtype.indexable:
            continue
        if f.unique:
            add(PlannedIndex((f.name,), True))
        elif (f.in_filter or f.index) and sort and f.name != sort:
            add(PlannedIndex((f.name, sort)))  # a list filter, in default sort order
        elif f.type in ("Link", "Dynamic Link") or f.in_filter or f.index:
            add(PlannedIndex((f.name,)))  # link checks; a filter without a sort column
    return list(planned.values())


def serves(columns: Sequence[str], equal: Iterable[str], sort: str | None) -> bool:
    """Whether an index on ``columns`` finds rows with the ``equal`` fields fixed already in ``sort`` order.

    True when the index's leading columns are some of the fixed fields followed by the
    sort column (the database seeks, walks in order and stops at the limit), or, with
    no sort, when it starts with a fixed field.
    """
    fixed = set(equal)
    for i, col in enumerate(columns):
        if sort is not None and col == sort:
            return i > 0 or not fixed
        if col not in fixed:
            return sort is None and i > 0
    return sort is None or sort in fixed


@dataclass(frozen=True, slots=True)
class ListGap:
    """A list shape no index serves: every such page reads all matching rows and sorts them."""

    doctype: str
    fields: tuple[str, ...]
    sort: str
    message: str


def list_index_gaps(dt: DocType, default_filters: Sequence[Sequence[object]] = (),
                    indexes: Sequence[Sequence[str]] | None = None) -> list[ListGap]:
    """The list pages of ``dt`` (its default filters, alone and with each ``in_filter`` field) no index serves.

    ``default_filters``: the app's default list filters ([field, operator, value], as the
    ``default_filters`` hook returns them); only those an index can seek on count.
    ``indexes``: column lists of the table's indexes (default: :func:`table_indexes`).
    """
    if dt.is_child:
        return []
    if indexes is None:
        indexes = [ix.columns for ix in table_indexes(dt)]
    indexes = [("name",), *indexes]  # the primary key
    sort = sort_column(dt)
    order = f"{dt.sort_field} {dt.sort_order}"
    if sort is None:
        return [ListGap(dt.name, (), dt.sort_field,
                        f"{dt.name}: the default sort {order!r} cannot be indexed ({_type_of(dt, dt.sort_field)}); "
                        "every list page sorts the whole table")]
    base = tuple(dict.fromkeys(str(f[0]) for f in default_filters
                               if len(f) >= 2 and str(f[1]).lower() in EQUALITY_OPERATORS))
    shapes: list[tuple[str, ...]] = [base]
    shapes += [tuple(dict.fromkeys((*base, f.name))) for f in dt.data_fields if f.in_filter]
    gaps: list[ListGap] = []
    for fields in dict.fromkeys(shapes):
        if any(serves(cols, fields, sort) for cols in indexes):
            continue
        what = " and ".join(_describe(dt, name) for name in fields) or "no filter"
        fix = _fix(dt, fields, sort)
        gaps.append(ListGap(dt.name, fields, dt.sort_field,
                            f"{dt.name}: the list filtered by {what}, sorted by {order}, has no index "
                            f"(each page reads every matching row and sorts them); {fix}"))
    return gaps


def _describe(dt: DocType, name: str) -> str:
    f = dt.get_field(name)
    return f"{f.label} ({name})" if f is not None else name


def _type_of(dt: DocType, name: str) -> str:
    f = dt.get_field(name)
    return f"a {f.type} field" if f is not None else "not a column"


def _fix(dt: DocType, fields: tuple[str, ...], sort: str) -> str:
    blocked = [name for name in fields if (f := dt.get_field(name)) is not None and not f.fieldtype.indexable]
    if blocked:
        return f"{', '.join(_describe(dt, n) for n in blocked)} cannot be indexed ({_type_of(dt, blocked[0])})"
    cols = ", ".join([*(n for n in fields if n != sort), sort])
    return f"declare it under indexes: - {{fields: [{cols}]}}"


__all__ = ["EQUALITY_OPERATORS", "ListGap", "PlannedIndex", "list_index_gaps", "serves",
           "sort_column", "table_indexes"]

"""Link integrity: batched existence checks and the reverse-link index.

- :func:`check_links` verifies every Link and Dynamic Link of a document and its
  rows in ONE query (a UNION ALL over the target tables), whatever the number of
  link fields or rows, and corrects the case of each value to the stored ID.
- :class:`ReverseLinks` knows, from metadata alone, which tables can point at a
  doctype, so :func:`check_not_linked` asks only those, again in one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import FieldError, LinkExistsError, LinkValidationError
from engine.metadata.doctype import VIRTUAL_DOCTYPES

if TYPE_CHECKING:
    from engine.metadata.doctype import Field
    from engine.rules.record import Record
    from engine.storage.unit import UnitOfWork

MAX_LINKED_REPORTED = 10


def _key(value: str) -> str:
    return value.lower()


def check_links(doc: Record, ctx: UnitOfWork, errors: list[FieldError],
                skip: Collection[tuple[str, int | None, str | None]] = ()) -> None:
    """Check every link value of ``doc`` and its rows; fill ``fetch_from`` fields.

    ``skip`` holds (doctype, row, field) already reported as invalid, not checked again.
    """
    site = ctx.site
    wanted: dict[str, dict[str, list[tuple[Record, Field, int | None]]]] = defaultdict(lambda: defaultdict(list))
    rows = _rows(doc)
    for row, idx in rows:
        data = row._data
        bad: set[str] = set()  # this row's fields found wrong here: a Dynamic Link over one is not checked
        for f in row.meta.link_fields:
            value = data.get(f.name)
            if not value or (row.doctype, idx, f.name) in skip:
                continue
            if f.type == "Dynamic Link" and (f.options in bad or (row.doctype, idx, f.options) in skip):
                continue
            target = _target(row, f)
            if not target:
                _fail(errors, doc, row, f, idx, f"{f.label} {value!r} has no document type set", value)
                continue
            if target in VIRTUAL_DOCTYPES or (f.type == "Dynamic Link" and target == "DocType"):
                if value not in site.doctypes:
                    bad.add(f.name)
                    _fail(errors, doc, row, f, idx, f"{f.label}: {value!r} is not a document type", value)
                continue
            if target not in site.doctypes or site.doctypes[target].is_child:
                _fail(errors, doc, row, f, idx, f"{f.label}: {target!r} is not a document type", value)
                continue
            wanted[target][_key(str(value))].append((row, f, idx))
    if wanted:
        found = _lookup(ctx, {t: list(v) for t, v in wanted.items()})
        for target, by_key in wanted.items():
            for key, refs in by_key.items():
                hit = found.get((target, key))
                for row, f, idx in refs:
                    value = row._data[f.name]
                    what = f"{target} {value!r}" if f.label == target else f"{f.label}: {target} {value!r}"
                    if hit is None:
                        _fail(errors, doc, row, f, idx, f"{what} does not exist", value)
                    elif hit[1] == 2 and not _unchanged(doc, row, f.name, value):
                        _fail(errors, doc, row, f, idx, f"{what} is cancelled", value)
                    else:
                        row._data[f.name] = hit[0]
    _fetch(doc, rows, ctx)


def _rows(doc: Record) -> list[tuple[Record, int | None]]:
    """The document and its child rows, each with its row number (None for the document)."""
    rows: list[tuple[Record, int | None]] = [(doc, None)]
    for _, children in doc.children():
        rows.extend((row, i) for i, row in enumerate(children, 1))
    return rows


def _target(row: Record, f: Field) -> Any:
    """The doctype a Link or Dynamic Link value of ``row`` points to."""
    return f.options if f.type == "Link" else row._data.get(f.options)  # type: ignore[arg-type]


def _unchanged(doc: Record, row: Record, fieldname: str, value: Any) -> bool:
    """Whether a saved document already held this link (then a since-cancelled target is kept)."""
    before = doc.get_doc_before_save()
    if before is None:
        return False
    if row is not doc:
        old_rows = before.get(row.get("parentfield") or "") or []
        before = next((r for r in old_rows if r.name and r.name == row.get("name")), None)
    old = before.get(fieldname) if before is not None else None
    return isinstance(old, str) and old.lower() == str(value).lower()


def _fail(errors: list[FieldError], doc: Record, row: Record, f: Field, idx: int | None,
          message: str, value: Any) -> None:
    prefix = f"{doc.doctype}: " if idx is None else f"{doc.doctype}: row {idx} of {_table_label(doc, row)}: "
    errors.append(FieldError(row.doctype, f.name, f.label, prefix + message, value, idx, LinkValidationError))


def _table_label(doc: Record, row: Record) -> str:
    f = doc.meta.fields_by_name.get(row.get("parentfield") or "")
    return f.label if f else row.doctype


def _lookup(ctx: UnitOfWork, wanted: dict[str, list[str]]) -> dict[tuple[str, str], tuple[str, int]]:
    """Which of the wanted IDs (lower case) exist, with their stored spelling and docstatus.

    One UNION ALL query for all targets; inside ``ctx.memoized()`` only for the IDs not
    looked up before (see :func:`prefetch`).
    """
    found: dict[tuple[str, str], tuple[str, int]] = {}
    missing: dict[str, list[str]] = {}
    for target, keys in wanted.items():
        memo = ctx.memo(target)
        if memo is None:
            missing[target] = keys
            continue
        for key in keys:
            hit = memo.get(("link", key))
            if hit is None:
                missing.setdefault(target, []).append(key)
            elif hit:
                found[(target, key)] = hit
    if missing:
        queried = _query(ctx, missing)
        found.update(queried)
        for target, keys in missing.items():
            memo = ctx.memo(target)
            if memo is not None:
                for key in keys:
                    memo[("link", key)] = queried.get((target, key), False)
    return found


def prefetch(ctx: UnitOfWork, docs: list[Record]) -> None:
    """Look up the link values of a whole batch of documents at once (inside ``ctx.memoized()``).

    One query for every target doctype together; each document's own check then finds
    its values remembered.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    site = ctx.site
    for doc in docs:
        for row, _ in _rows(doc):
            for f in row.meta.link_fields:
                value = row._data.get(f.name)
                if not value or not isinstance(value, str):
                    continue
                target = _target(row, f)
                if (isinstance(target, str) and target not in VIRTUAL_DOCTYPES and target in site.doctypes
                        and not site.doctypes[target].is_child):
                    wanted[target].add(_key(value))
    if wanted:
        _lookup(ctx, {t: sorted(keys) for t, keys in wanted.items()})


def _query(ctx: UnitOfWork, wanted: dict[str, list[str]]) -> dict[tuple[str, str], tuple[str, int]]:
    """One UNION ALL query: which of the wanted IDs exist, with their stored spelling."""
    site = ctx.site
    targets = tuple(wanted)

    def build() -> sa.Executable:
        selects = []
        for i, target in enumerate(targets):
            t = site.table(target)
            keys = sa.bindparam(f"k{i}", expanding=True)
            name = t.c.name if site.ci_names else sa.func.lower(t.c.name)
            label = sa.literal(target).label("doctype")
            selects.append(sa.select(label, t.c.name, t.c.docstatus).where(name.in_(keys)))
        return selects[0] if len(selects) == 1 else sa.union_all(*selects)

    query = site.statement(("link_lookup", targets), build)
    params = {f"k{i}": keys for i, keys in enumerate(wanted.values())}
    return {(r[0], _key(r[1])): (r[1], r[2]) for r in ctx.conn.execute(query, params)}


def _fetch(doc: Record, rows: list[tuple[Record, int | None]], ctx: UnitOfWork) -> None:
    """``fetch_from``: copy values from linked records (one query per target doctype)."""
    plan: dict[str, dict[str, list[tuple[Record, str, str]]]] = defaultdict(lambda: defaultdict(list))
    for row, _ in rows:
        meta = row.meta
        for f in meta.data_fields:
            if not f.fetch_from:
                continue
            link_name, source = f.fetch_from.split(".", 1)
            link_value = row._data.get(link_name)
            if not link_value:
                row._data[f.name] = None
                continue
            target = meta.fields_by_name[link_name].options
            plan[target][link_value].append((row, f.name, source))  # type: ignore[index]
    for target, by_name in plan.items():
        t = ctx.site.table(target)
        columns = sorted({src for refs in by_name.values() for _, _, src in refs})
        result = ctx.conn.execute(
            sa.select(t.c.name, *(t.c[c] for c in columns)).where(t.c.name.in_(list(by_name)))
        )
        values = {r.name: r._mapping for r in result}
        for name, refs in by_name.items():
            for row, fieldname, source in refs:
                hit = values.get(name)
                value = hit[source] if hit is not None else None
                row._data[fieldname] = _as_field(row.meta.fields_by_name[fieldname], value)


def _as_field(f: Field, value: Any) -> Any:
    """A fetched value in the type of the field it is copied into (e.g. another precision)."""
    coerce = f.fieldtype.coerce
    if value is None or value == "" or coerce is None:
        return value
    try:
        return coerce(value, f)
    except ValueError:
        return value


def check_not_linked(doc: Record, ctx: UnitOfWork) -> None:
    """The ``check_links`` delete step: refuse while other documents link here."""
    linked = find_linking(ctx, doc.doctype, doc.name, limit=MAX_LINKED_REPORTED)
    if linked:
        listed = ", ".join(f"{dt} {name!r}" for dt, name in linked)
        raise LinkExistsError(
            f"Cannot delete {doc.doctype} {doc.name!r}: it is linked from {listed}",
            [FieldError(doc.doctype, None, None, f"linked from {dt} {name!r}", name) for dt, name in linked],
        )


def find_linking(ctx: UnitOfWork, doctype: str, name: str, limit: int | None = None) -> list[tuple[str, str]]:
    """(doctype, ID) of documents that link to ``doctype``/``name``, excluding itself."""
    site = ctx.site
    selects = []
    for src in site.reverse_links.sources(doctype):
        t = site.table(src.doctype.name)
        col = t.c[src.field]
        if src.doctype.is_child:
            owner_dt, owner_name = t.c.parenttype, t.c.parent
        else:
            owner_dt, owner_name = sa.literal(src.doctype.name), t.c.name
        cond = col == name
        if src.doctype_field is not None:
            cond = sa.and_(cond, t.c[src.doctype_field] == doctype)
        if src.doctype.is_submittable or src.doctype.is_child:
            cond = sa.and_(cond, t.c.docstatus < 2)
        # A document's own rows (or a tree node's own ID) do not block it.
        cond = sa.and_(cond, sa.not_(sa.and_(owner_dt == doctype, owner_name == name)))
        selects.append(sa.select(owner_dt.label("doctype"), owner_name.label("name")).where(cond))
    if not selects:
        return []
    query = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    if limit:
        query = sa.select(query.subquery()).limit(limit)
    return [(r[0], r[1]) for r in ctx.conn.execute(query)]

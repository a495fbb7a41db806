"""Possible duplicates of new documents: the same value in a ``duplicate_fields`` field, or a near-identical title.

The import's dry run asks this once per batch, after the batch was inserted (inside
the transaction that is rolled back): the documents of earlier batches and of the
database are then all rows of the table, and a document is compared only with the
ones before it (stored, or earlier in the file), so the second of two equal rows is
flagged, not the first.

"Near-identical" titles are equal once case, spaces and the punctuation ``. , - ' & /``
are left out ("ACME, Inc." and "Acme Inc"). An exact repeat of a name that the naming
rule suffixed is reported by the importer already and not again here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.metadata.doctype import DocType

if TYPE_CHECKING:
    from engine.storage.unit import UnitOfWork

_PUNCTUATION = (" ", ".", ",", "-", "'", "&", "/")
_CHUNK = 500  # values per IN list


def squash(text: str) -> str:
    """The comparison key of a near-identical title."""
    key = text.lower()
    for ch in _PUNCTUATION:
        key = key.replace(ch, "")
    return key


def _squash_sql(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    expr: sa.ColumnElement[Any] = sa.func.lower(column)
    for ch in _PUNCTUATION:
        expr = sa.func.replace(expr, ch, "")
    return expr


def hints(ctx: UnitOfWork, meta: DocType, names: Sequence[str], skip_title: frozenset[str] = frozenset()
          ) -> dict[str, list[str]]:
    """Messages by document name for the new documents ``names`` (in file order), already written.

    ``skip_title``: names whose title repeat is already reported (a suffixed ID).
    """
    if not names:
        return {}
    table = ctx.site.table(meta.name)
    title = meta.title_field or "name"
    fields = list(meta.duplicate_fields)
    columns = [table.c.name, *(table.c[f] for f in {*fields, title} if f != "name")]
    order = {n.lower(): i for i, n in enumerate(names)}
    new_rows = [r._mapping for r in ctx.conn.execute(sa.select(*columns).where(table.c.name.in_(names)))]
    out: dict[str, list[str]] = defaultdict(list)

    def earlier(name: str, other: str) -> bool:
        return other.lower() != name.lower() and order.get(other.lower(), -1) < order.get(name.lower(), -1)

    for fieldname in fields:
        label = meta.fields_by_name[fieldname].label or fieldname
        wanted = {str(r[fieldname]).strip().lower() for r in new_rows if _given(r[fieldname])}
        found = _matches(ctx, table, sa.func.lower(sa.func.trim(table.c[fieldname])), wanted)
        for r in new_rows:
            if not _given(r[fieldname]):
                continue
            others = [o for o in found.get(str(r[fieldname]).strip().lower(), ()) if earlier(r["name"], o)]
            if others:
                out[r["name"]].append(f"possible duplicate: {meta.name} {others[0]!r} has the same {label} "
                                      f"{r[fieldname]!r}")
    keyed = [(r, squash(str(r[title]))) for r in new_rows if _given(r[title]) and r["name"] not in skip_title]
    found = _matches(ctx, table, _squash_sql(table.c[title]), {k for _, k in keyed if k})
    for r, key in keyed:
        others = [o for o in found.get(key, ()) if earlier(r["name"], o)]
        if others:
            out[r["name"]].append(f"possible duplicate: {meta.name} {others[0]!r} has a near-identical name")
    return dict(out)


def _given(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _matches(ctx: UnitOfWork, table: sa.Table, key: sa.ColumnElement[Any], wanted: set[str]) -> dict[str, list[str]]:
    """Names of the rows by their key, for the wanted keys (in order of creation, then name)."""
    found: dict[str, list[str]] = defaultdict(list)
    values = sorted(wanted)
    for start in range(0, len(values), _CHUNK):
        stmt = (sa.select(key.label("k"), table.c.name).where(key.in_(values[start:start + _CHUNK]))
                .order_by(table.c.creation, table.c.name))
        for k, name in ctx.conn.execute(stmt):
            found[k].append(name)
    return found

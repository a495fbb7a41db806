"""Possible duplicates of new documents: the same value in a ``duplicate_fields`` field, or a near-identical title.

The import's dry run asks once per batch, after the batch was inserted (inside the
transaction that is rolled back): the documents of the database and of earlier
batches are then all rows of the table, and a document is compared only with the
ones before it (stored, or earlier in the file), so the second of two equal rows is
flagged, not the first.

- ``duplicate_fields`` values are compared as stored (one ``IN`` query per field and
  batch, which the field's index serves; MariaDB's collation also ignores case).
- "Near-identical" titles (of doctypes named by a field, an expression or the user; not
  of vouchers named by a series, whose title is a party many share) are equal once case, spaces and the punctuation
  ``. , - ' & /`` are left out ("ACME, Inc." and "Acme Inc"). No index serves that
  comparison, so the finder keeps the hashes of the keys it has seen (the stored
  titles, read once, then each batch's) and queries only for a key it has seen
  before; the memory is a set of integers, whatever the file's size.
  An exact repeat of a name the naming rule suffixed is reported by the importer and
  not again here.
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


class DuplicateFinder:
    """The possible duplicates of one import run's new documents, batch by batch."""

    def __init__(self, ctx: UnitOfWork, meta: DocType):
        self.ctx, self.meta = ctx, meta
        self.table = ctx.site.table(meta.name)
        self.title = meta.title_field or "name"
        # A title says who a record is when the record is named by it (a customer, a contact); for vouchers
        # named by a series its title is the party, which many of them share: no hint there.
        self.compare_titles = meta.naming.rule in ("field", "expression", "prompt")
        self._seen: set[int] | None = None  # hashes of the squashed titles before the current batch

    def hints(self, names: Sequence[str], skip_title: frozenset[str] = frozenset()) -> dict[str, list[str]]:
        """Messages by document name for the new documents ``names`` (in file order), already written.

        ``skip_title``: names whose title repeat is already reported (a suffixed ID).
        """
        if not names:
            return {}
        if self._seen is None:
            self._seen = self._stored_keys(names) if self.compare_titles else set()
        table, meta = self.table, self.meta
        columns = [table.c.name, *(table.c[f] for f in {*meta.duplicate_fields, self.title} if f != "name")]
        order = {n.lower(): i for i, n in enumerate(names)}
        stmt = sa.select(*columns).where(table.c.name.in_(list(names)))
        new_rows = sorted((r._mapping for r in self.ctx.conn.execute(stmt)), key=lambda r: order[r["name"].lower()])
        out: dict[str, list[str]] = defaultdict(list)

        def earlier(name: str, other: str) -> bool:
            return other.lower() != name.lower() and order.get(other.lower(), -1) < order[name.lower()]

        for fieldname in meta.duplicate_fields:
            label = meta.fields_by_name[fieldname].label or fieldname
            found = self._matches(table.c[fieldname], {r[fieldname] for r in new_rows if _given(r[fieldname])})
            for r in new_rows:
                others = [o for o in found.get(str(r[fieldname]).lower(), ()) if earlier(r["name"], o)]
                if others:
                    out[r["name"]].append(f"possible duplicate: {meta.name} {others[0]!r} has the same {label} "
                                          f"{r[fieldname]!r}")
        seen_before: list[tuple[Any, str]] = []
        for r in new_rows if self.compare_titles else ():
            if not _given(r[self.title]):
                continue
            key = squash(str(r[self.title]))
            if hash(key) in self._seen and r["name"] not in skip_title:
                seen_before.append((r, key))
            self._seen.add(hash(key))
        found = self._matches(_squash_sql(table.c[self.title]), {k for _, k in seen_before})
        for r, key in seen_before:
            others = [o for o in found.get(key, ()) if earlier(r["name"], o)]
            if others:
                out[r["name"]].append(f"possible duplicate: {meta.name} {others[0]!r} has a near-identical name")
        return dict(out)

    def _stored_keys(self, new: Sequence[str]) -> set[int]:
        """The squashed titles of the documents stored before the first batch (read once, streamed)."""
        column = self.table.c[self.title]
        stmt = sa.select(column).where(column.is_not(None), self.table.c.name.not_in(list(new)))
        seen: set[int] = set()
        for (title,) in self.ctx.conn.execute(stmt.execution_options(yield_per=2000)):
            seen.add(hash(squash(str(title))))
        return seen

    def _matches(self, key: sa.ColumnElement[Any], wanted: set[Any]) -> dict[Any, list[str]]:
        """Names of the rows by their key, for the wanted keys (in order of creation, then name)."""
        found: dict[Any, list[str]] = defaultdict(list)
        values = sorted(wanted, key=str)
        for start in range(0, len(values), _CHUNK):
            stmt = (sa.select(key.label("k"), self.table.c.name).where(key.in_(values[start:start + _CHUNK]))
                    .order_by(self.table.c.creation, self.table.c.name))
            for k, name in self.ctx.conn.execute(stmt):
                found[str(k).lower()].append(name)  # MariaDB's collation matched it, case aside
        return found


def _given(value: Any) -> bool:
    return value is not None and str(value).strip() != ""

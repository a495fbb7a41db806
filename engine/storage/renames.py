"""Renamed fields: which dropped column a new one continues (a field's ``renamed_from``).

Alembic compares columns by name, so a renamed field looks like a removed column and an
added one. A field that names its old name(s) in ``renamed_from`` (Odoo's ``oldname``,
Django's RenameField) turns that pair into one rename, which keeps the values and, like
any rename, keeps working once the database is up to date: then the old column is gone
and nothing pairs.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.metadata.doctype import DocType


def pair_renames(doctypes: dict[str, DocType], added: Iterable[tuple[str, str]],
                 dropped: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``{(table, new column): old column}`` for each added column whose field was renamed from a dropped one.

    ``doctypes`` maps table names to doctypes; ``added`` and ``dropped`` are the plan's
    (table, column) pairs. Of several old names the first still in the table wins.
    """
    gone: dict[str, set[str]] = {}
    for table, column in dropped:
        gone.setdefault(table, set()).add(column)
    out: dict[tuple[str, str], str] = {}
    for table, column in added:
        dt = doctypes.get(table)
        f = dt.fields_by_name.get(column) if dt else None
        if f is None:
            continue
        for old in f.renamed_from:
            if old in gone.get(table, ()):
                out[(table, column)] = old
                gone[table].discard(old)
                break
    return out

"""What the doctype YAML has and the database lacks: the sign that ``docframe migrate`` was not run.

A cheap reflection (table and column names only), so a server can say at start-up, and
when a statement fails, that its database is behind its YAML, instead of answering a
clerk with "Internal server error". The full comparison (types, indexes) is
:func:`engine.storage.sync.plan`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from engine.storage.store import Store


def schema_gaps(store: Store, limit: int = 10) -> list[str]:
    """Up to ``limit`` missing tables and columns, each named by its doctype and field."""
    by_table = {dt.table_name: dt for dt in store.doctypes.values()}
    with store.engine.connect() as conn:
        insp = sa.inspect(conn)
        present = set(insp.get_table_names())
        gaps: list[str] = []
        for table in store.metadata.sorted_tables:
            dt = by_table.get(table.name)
            if dt is None:
                continue  # the engine's own tables are created with the first doctype's
            if table.name not in present:
                gaps.append(f"{dt.name}: no table {table.name}")
                continue
            have = {c["name"] for c in insp.get_columns(table.name)}
            gaps += [f"{dt.name}: no column for field {c.name}" for c in table.columns if c.name not in have]
            if len(gaps) >= limit:
                break
    return gaps[:limit]


def behind_message(gaps: list[str]) -> str:
    """The sentence users and logs get for ``gaps``."""
    more = "" if len(gaps) < 10 else ", ..."
    return (f"The database is behind the doctype definitions ({'; '.join(gaps)}{more}): an administrator must run "
            "`docframe migrate`")

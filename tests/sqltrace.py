"""A test helper: record the SQL statements a block sends (to assert statement counts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


@contextmanager
def statements(site: Any) -> Iterator[list[str]]:
    """Collect every SQL statement sent on ``site.engine`` while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append(statement)

    sa.event.listen(site.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(site.engine, "before_cursor_execute", record)

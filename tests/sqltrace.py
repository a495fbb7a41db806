"""A test helper: record the SQL statements a block sends (to assert statement counts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

_TRANSACTION_CONTROL = ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")


@contextmanager
def statements(site: Any, *, transaction_control: bool = True) -> Iterator[list[str]]:
    """Collect every SQL statement sent on ``site.engine`` while the block runs.

    With ``transaction_control=False`` BEGIN/COMMIT/ROLLBACK are left out and each
    statement's whitespace is folded to single spaces.
    """
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if transaction_control:
            seen.append(statement)
            return
        text = " ".join(statement.split())
        if text.upper() not in _TRANSACTION_CONTROL:
            seen.append(text)

    sa.event.listen(site.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(site.engine, "before_cursor_execute", record)

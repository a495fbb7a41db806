"""Counting the SQL statements an engine sends, with a ``before_cursor_execute`` listener."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event


class StatementCounter:
    """Records the first word of each statement (an executemany counts once; BEGIN is not counted)."""

    def __init__(self, engine: sa.Engine):
        self.statements: list[str] = []
        self._on = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self._on and not statement.lstrip().upper().startswith("BEGIN"):
            self.statements.append(statement.split(None, 1)[0].upper())

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.statements = []
        self._on = True
        try:
            yield self.statements
        finally:
            self._on = False

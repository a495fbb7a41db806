"""A prebuilt SELECT run straight on the driver's cursor, for the hottest read there is (a document by ID).

For a wide row SQLAlchemy's result set-up costs as much as the database round trip:
it asks the cursor for its description (psycopg builds an object per column each
time) and builds a result around it. :class:`RawSelect` compiles the statement once,
sends it on the connection's DBAPI cursor and applies SQLAlchemy's own result
processors (worked out from the first description, then kept), so values come back
exactly as through ``Connection.execute``. The connection's ``before_cursor_execute``
and ``after_cursor_execute`` listeners still see the statement (statement counters,
tracing). It runs in whatever the connection is doing: inside a write, in its
transaction; in an autocommit read, without one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa


class RawSelect:
    """``stmt`` compiled for ``dialect``; :meth:`rows` runs it with the named parameters."""

    def __init__(self, stmt: sa.Select | sa.CompoundSelect, dialect: sa.Dialect):
        compiled = stmt.compile(dialect=dialect)
        self.sql = str(compiled)
        self.dialect = dialect
        self._positional = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._defaults = {key: bind.effective_value for key, bind in compiled.binds.items() if not bind.required}
        self._binds: dict[str, Callable[[Any], Any]] = {}
        for key, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self._binds[key] = process
        self._types = [col.type for col in stmt.selected_columns]
        self._processors: list[tuple[int, Callable[[Any], Any]]] | None = None
        self._lock = threading.Lock()

    def _parameters(self, params: Mapping[str, Any]) -> Any:
        values = {**self._defaults, **params}
        for key, process in self._binds.items():
            values[key] = process(values[key])
        if self._positional is not None:
            return tuple(values[key] for key in self._positional)
        return values

    def rows(self, conn: sa.Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        parameters = self._parameters(params)
        cursor = conn.connection.cursor()
        dbapi_error = conn.dialect.loaded_dbapi.Error
        try:
            conn.dispatch.before_cursor_execute(conn, cursor, self.sql, parameters, None, False)
            cursor.execute(self.sql, parameters)
            conn.dispatch.after_cursor_execute(conn, cursor, self.sql, parameters, None, False)
            rows = cursor.fetchall()
            processors = self._processors
            if processors is None:
                processors = self._result_processors(cursor.description)
        except dbapi_error as exc:  # as SQLAlchemy raises it: callers and error pages see one kind of error
            lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
            if lost:
                conn.invalidate(exc)
            raise sa.exc.DBAPIError.instance(self.sql, parameters, exc, dbapi_error, dialect=conn.dialect,
                                             connection_invalidated=lost) from exc
        finally:
            try:
                cursor.close()
            except dbapi_error:
                pass  # the connection is gone (and invalidated above)
        if not processors:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:  # only the few columns with a processor are touched (a row is ~40 wide)
            values = list(row)
            for i, process in processors:
                values[i] = process(values[i])
            out.append(tuple(values))
        return out

    def _result_processors(self, description: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        """(column position, SQLAlchemy's result processor) for the columns that have one."""
        with self._lock:
            if self._processors is None:
                processors = [type_.dialect_impl(self.dialect).result_processor(self.dialect, d[1])
                              for type_, d in zip(self._types, description, strict=True)]
                self._processors = [(i, p) for i, p in enumerate(processors) if p is not None]
            return self._processors

"""Read replicas: databases that follow the primary, for reads that may lag it (reports).

A site with replicas (``DOCFRAME_REPLICA_URLS``, see :class:`engine.site.site.Site`)
runs its reports on them, in turn, as Frappe runs ``query_report.run`` under
``read_only``: a long report then takes no connection, snapshot or CPU from the
primary the clerks' saves need. A replica is a copy the database server keeps
(PostgreSQL streaming replication, a MariaDB replica); docframe only reads it, never
migrates or writes it.

A replica that cannot be reached is skipped (logged) and the next one tried; with
none left, the read goes to the primary: a report is slower then, not refused.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from engine.storage.db import create_db_engine

log = logging.getLogger(__name__)


class Replicas:
    """The replica engines of one primary, handed out in turn."""

    def __init__(self, primary: sa.Engine, urls: Sequence[str] = (), **engine_kwargs: Any):
        self.primary = primary
        self.engines = tuple(_replica_engine(primary, url, **engine_kwargs) for url in urls)
        self._turn = itertools.count()  # next() is atomic under the GIL: threads take turns safely

    def __bool__(self) -> bool:
        return bool(self.engines)

    def connect(self) -> tuple[sa.Engine, sa.Connection]:
        """A connection for reads that may lag: the next reachable replica's, else the primary's."""
        if self.engines:
            start = next(self._turn)
            for i in range(len(self.engines)):
                engine = self.engines[(start + i) % len(self.engines)]
                try:
                    return engine, engine.connect()
                except sa.exc.DBAPIError as exc:
                    log.warning("read replica %s cannot be reached, trying the next one or the primary: %s",
                                engine.url.render_as_string(hide_password=True), exc.orig)
        return self.primary, self.primary.connect()

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()


def _replica_engine(primary: sa.Engine, url: str, **engine_kwargs: Any) -> sa.Engine:
    engine = create_db_engine(url, **engine_kwargs)
    if engine.dialect.name != primary.dialect.name:
        shown = engine.url.render_as_string(hide_password=True)
        engine.dispose()
        raise ValueError(f"read replica {shown} is a {engine.dialect.name} database, but the primary is "
                         f"{primary.dialect.name}: a replica must be a copy of the primary")
    return engine


def parse_urls(raw: str | None) -> list[str]:
    """``DOCFRAME_REPLICA_URLS``: URLs separated by commas or white space (empty: none)."""
    return [u for u in (raw or "").replace(",", " ").split() if u]

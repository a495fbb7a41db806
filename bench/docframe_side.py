"""docframe: the full document pipeline (validation, naming, link checks, hooks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import workload
from bench.counting import StatementCounter
from bench.dataset import seed_link_targets
from engine import Site

APP_DIR = Path(__file__).resolve().parent / "app"
CUSTOMER = "Bench Customer"


def missing_indexes(site: Site) -> list[str]:
    """Indexes docframe compiles for the bench tables that the live database lacks."""
    with site.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            live = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
        else:
            live = set(conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()").scalars())
    wanted = [ix.name for t in site.metadata.sorted_tables if t.name.startswith("tab_bench")
              for ix in t.indexes]
    return sorted(str(n) for n in wanted if n not in live)


class DocframeSide:
    name = "docframe"

    def __init__(self, url: str, list_url: str):
        self.site = Site(url, APP_DIR)
        self.site.migrate()
        with self.site.engine.begin() as conn:
            seed_link_targets(conn, self.site.metadata)
        self.session = self.site.session(workload.USER)
        self.counter = StatementCounter(self.site.engine)
        self.list_site = Site(list_url, APP_DIR)
        self.list_session = self.list_site.session(workload.USER)
        self.names: list[str] = []

    def insert(self, values: dict[str, Any]) -> str:
        doc = self.session.insert(CUSTOMER, values)
        self.names.append(doc.name)
        return doc.name

    def get(self, name: str) -> Any:
        return self.session.get_doc(CUSTOMER, name)

    def list(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return self.list_session.get_list(
            CUSTOMER, fields=list(workload.LIST_FIELDS), filters=filters,
            order_by="modified desc", limit=workload.LIST_LIMIT,
        )

    # ------------------------------------------------------------ statement counts
    def count_insert(self, values: dict[str, Any]) -> tuple[str, list[str]]:
        doc = self.session.new_doc(CUSTOMER, values)
        with self.counter.counting() as seen:
            doc.insert()
        return doc.name, list(seen)

    def count_update(self, name: str) -> list[str]:
        """Change a field of the customer and of every child row, then save."""
        doc = self.session.get_doc(CUSTOMER, name)
        doc.credit_limit = (doc.credit_limit or 0) + 1
        for row in doc.contacts:
            row.phone = "+1 555 0199"
        with self.counter.counting() as seen:
            doc.save()
        return list(seen)

    def close(self) -> None:
        self.session.close()
        self.list_session.close()
        self.site.dispose()
        self.list_site.dispose()

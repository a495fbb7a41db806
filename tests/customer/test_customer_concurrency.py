"""Many users creating the same customer, with a company, at the same moment (SPEC 3.3).

Each thread has its own Session (connection and transaction); a barrier releases
them together so the inserts, their naming and their receivable accounts overlap.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Site

pytestmark = pytest.mark.slow

N = 12
TIMEOUT = 120
REPO_ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def wide(cm_site: Site, cm) -> Iterator[Site]:  # ``cm`` empties the tables afterwards
    """The bundled app's test database with a pool big enough for N sessions at once."""
    url = cm_site.engine.url.render_as_string(hide_password=False)
    site = Site(url, REPO_ROOT, pool_size=N + 2, max_overflow=4, pool_timeout=TIMEOUT)
    yield site
    site.dispose()


def test_concurrent_creation_of_one_customer_name_with_a_company(wide, cm):
    cm.insert("Company", company_name="Acme Holding", abbr="AC", default_currency="USD")
    barrier = threading.Barrier(N, timeout=TIMEOUT)
    names: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with wide.session() as s:
                s.conn  # noqa: B018 - connect before the barrier so only the writes overlap
                barrier.wait()
                names.append(s.insert("Customer", customer_name="Globex", company="Acme Holding").name)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, daemon=True) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "threads still running: a lock wait that never ends"
    assert errors == []
    assert len(names) == N and len(set(names)) == N  # all succeeded, distinct IDs
    assert "Globex" in names and all(re.fullmatch(r"Globex(-\d+)?", n) for n in names)
    accounts = cm.get_list("Account", fields=["name", "party"], filters={"party_type": "Customer"}, limit=1000)
    assert sorted(a["party"] for a in accounts) == sorted(names)  # exactly one account per customer
    for name in names:
        doc = cm.get_doc("Customer", name)
        assert [(r.company, r.account) for r in doc.accounts] == [("Acme Holding", f"{name} - AC")]

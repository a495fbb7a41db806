"""The work every system does, generated the same way for docframe, raw Core and Django.

A customer has 3 links (territory, customer group, currency), ``n_contacts`` child
rows, and gets one extra row (its receivable account) from a hook/signal. Every
fourth customer repeats the previous one's name, so naming must add a ``-1`` suffix.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

USER = "Administrator"
TERRITORIES = [f"Territory {i:03d}" for i in range(500)]
GROUPS = [f"Group {i:02d}" for i in range(20)]
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY"]
DUPLICATE_EVERY = 4  # every 4th customer reuses the previous name -> suffixed ID
SUFFIX_SEPARATOR = "-"
ACCOUNT_SUFFIX = " - Receivable"

# The list benchmark's queries: 20 rows with a filter, sorted by modified (newest first).
LIST_FIELDS = ("name", "customer_name", "territory", "customer_group", "credit_limit", "modified")
LIST_LIMIT = 20
LIST_FILTERS = {
    # 1 row in 5 matches: the database walks the modified index and stops after 20 hits.
    "list": {"currency": "EUR", "disabled": 0},
    # 2,000 rows match: the (territory, modified) index finds the newest 20 (issue 12).
    "list_selective": {"territory": TERRITORIES[7], "disabled": 0},
}


def customer_name(run: int | str, i: int) -> str:
    """The base name of customer ``i`` of a timed run; every 4th repeats the one before."""
    k = i - 1 if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 else i
    return f"Customer {k} ({run})"  # not "Base-N": such names also raise the Base's suffix counter


def customer_values(run: int | str, i: int, n_contacts: int = 3, n_links: int = 3) -> dict[str, Any]:
    """Field values of one new customer, child rows under ``contacts``."""
    values: dict[str, Any] = {
        "customer_name": customer_name(run, i),
        "customer_type": "Company",
        "territory": TERRITORIES[i % 50],
        "customer_group": GROUPS[i % len(GROUPS)] if n_links >= 2 else None,
        "currency": CURRENCIES[i % len(CURRENCIES)] if n_links >= 3 else None,
        "email": f"buyer{i}@example.com",
        "phone": "+44 20 7946 0958",
        "credit_limit": Decimal("5000.00") + i,
        "disabled": 0,
        "contacts": [
            {"contact_name": f"Contact {j}", "email": f"c{j}.{i}@example.com", "phone": "+1 555 0100",
             "is_primary": 1 if j == 0 else 0}
            for j in range(n_contacts)
        ],
    }
    return values


def list_row(i: int, base: dt.datetime) -> dict[str, Any]:
    """Row ``i`` of the big list table (written directly, not through the pipeline)."""
    stamp = base + dt.timedelta(seconds=i)
    return {
        "name": f"CUST-{i:07d}", "owner": USER, "creation": stamp, "modified": stamp, "modified_by": USER,
        "docstatus": 0, "idx": 0,
        "customer_name": f"Customer {i}", "customer_type": "Company" if i % 3 else "Individual",
        "territory": TERRITORIES[i % len(TERRITORIES)], "customer_group": GROUPS[i % len(GROUPS)],
        "currency": CURRENCIES[i % len(CURRENCIES)], "email": f"buyer{i}@example.com",
        "phone": "+44 20 7946 0958", "credit_limit": Decimal(1000 + i % 9000), "disabled": 1 if i % 10 == 0 else 0,
    }

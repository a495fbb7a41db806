"""The named periods of the ``timespan`` filter operator."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.rules.timespan import TIMESPANS, date_range

D = dt.date


@pytest.mark.parametrize(("name", "today", "expected"), [
    ("today", D(2024, 2, 15), (D(2024, 2, 15), D(2024, 2, 15))),
    ("yesterday", D(2024, 3, 1), (D(2024, 2, 29), D(2024, 2, 29))),
    ("last 7 days", D(2024, 2, 15), (D(2024, 2, 8), D(2024, 2, 15))),
    ("next 30 days", D(2024, 2, 15), (D(2024, 2, 15), D(2024, 3, 16))),
    ("last week", D(2024, 2, 15), (D(2024, 2, 5), D(2024, 2, 11))),
    ("this week", D(2024, 2, 18), (D(2024, 2, 12), D(2024, 2, 18))),  # a Sunday ends its week
    ("last month", D(2024, 3, 31), (D(2024, 2, 1), D(2024, 2, 29))),
    ("next month", D(2024, 1, 31), (D(2024, 2, 1), D(2024, 2, 29))),
    ("this month", D(2023, 12, 5), (D(2023, 12, 1), D(2023, 12, 31))),
    ("last quarter", D(2024, 2, 15), (D(2023, 10, 1), D(2023, 12, 31))),
    ("this quarter", D(2024, 11, 30), (D(2024, 10, 1), D(2024, 12, 31))),
    ("next quarter", D(2024, 11, 30), (D(2025, 1, 1), D(2025, 3, 31))),
    ("last 6 months", D(2024, 2, 15), (D(2023, 7, 1), D(2023, 12, 31))),
    ("next 6 months", D(2024, 2, 15), (D(2024, 4, 1), D(2024, 9, 30))),
    ("last year", D(2024, 2, 29), (D(2023, 1, 1), D(2023, 12, 31))),
    ("next year", D(2024, 2, 29), (D(2025, 1, 1), D(2025, 12, 31))),
])
def test_each_timespan_is_the_days_frappe_means(name: str, today: dt.date, expected: tuple[dt.date, dt.date]) -> None:
    assert date_range(name, today) == expected


def test_names_are_read_loosely_and_every_range_is_ordered() -> None:
    assert date_range("  Last_Month ", D(2024, 1, 10)) == (D(2023, 12, 1), D(2023, 12, 31))
    assert date_range("fortnight", D(2024, 1, 10)) is None
    for name in TIMESPANS:
        for day in (D(2024, 1, 1), D(2024, 2, 29), D(2024, 12, 31)):
            start, end = date_range(name, day)
            assert start <= end, (name, day)

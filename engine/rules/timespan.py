"""Frappe's ``timespan`` filter operator: a named period ("this month", "last 30 days") as a date range.

``[["posting_date", "timespan", "last month"]]`` is ``between`` the first and the last day
of the previous month, both included. Weeks start on Monday; quarters are calendar quarters.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

Range = tuple[dt.date, dt.date]


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month(day: dt.date) -> Range:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _quarter(day: dt.date) -> Range:
    first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return first, _month(_add_months(first, 2))[1]


def _week(day: dt.date) -> Range:
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _year(day: dt.date) -> Range:
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


def _days(n: int) -> Callable[[dt.date], Range]:
    return lambda today: (today - dt.timedelta(days=n), today) if n > 0 else (today, today - dt.timedelta(days=n))


TIMESPANS: dict[str, Callable[[dt.date], Range]] = {
    "yesterday": lambda t: (t - dt.timedelta(days=1),) * 2,
    "today": lambda t: (t, t),
    "tomorrow": lambda t: (t + dt.timedelta(days=1),) * 2,
    **{f"last {n} days": _days(n) for n in (7, 14, 30, 90)},
    **{f"next {n} days": _days(-n) for n in (7, 14, 30, 90)},
    "last week": lambda t: _week(t - dt.timedelta(days=7)),
    "this week": _week,
    "next week": lambda t: _week(t + dt.timedelta(days=7)),
    "last month": lambda t: _month(_add_months(t, -1)),
    "this month": _month,
    "next month": lambda t: _month(_add_months(t, 1)),
    "last quarter": lambda t: _quarter(_add_months(t, -3)),
    "this quarter": _quarter,
    "next quarter": lambda t: _quarter(_add_months(t, 3)),
    "last 6 months": lambda t: (_quarter(_add_months(t, -6))[0], _quarter(_add_months(t, -3))[1]),
    "next 6 months": lambda t: (_quarter(_add_months(t, 3))[0], _quarter(_add_months(t, 6))[1]),
    "last year": lambda t: _year(dt.date(t.year - 1, 1, 1)),
    "this year": _year,
    "next year": lambda t: _year(dt.date(t.year + 1, 1, 1)),
}


def date_range(timespan: str, today: dt.date) -> Range | None:
    """The first and last day of ``timespan`` (any case, ``_`` for spaces) as seen on ``today``; None if unknown."""
    found = TIMESPANS.get(" ".join(timespan.replace("_", " ").lower().split()))
    return found(today) if found is not None else None

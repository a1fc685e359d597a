"""Working days (工作日) for legal time limits.

A year's official holidays and make-up working days come, in this order, from the schedule an
operator entered from the State Council's notice (passed in as ``entered``: lib reads no database),
from the ``chinesecalendar`` package, else from the weekend alone: Monday to Friday. A deadline that
reaches a year known only by its weekends is provisional (暂按周末计算) until that year's schedule
is entered.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import chinese_calendar


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: public holidays off, and weekend days worked to make up for them."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)


Calendar = Mapping[int, YearSchedule]


@dataclass(frozen=True)
class Deadline:
    """A computed deadline; ``provisional`` when it reaches a year without an official schedule."""

    due: dt.date
    provisional: bool


@functools.cache
def packaged(year: int) -> bool:
    """True when the ``chinesecalendar`` package knows ``year``'s schedule."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def year_is_known(year: int, entered: Calendar | None = None) -> bool:
    """True when ``year``'s official schedule is known (entered by an operator, or packaged)."""
    return bool(entered and year in entered) or packaged(year)


def is_working_day(day: dt.date, entered: Calendar | None = None) -> bool:
    """True on an official working day (Monday to Friday in a year with no known schedule)."""
    schedule = entered.get(day.year) if entered else None
    if schedule is not None:
        if day in schedule.workdays:
            return True
        return day not in schedule.holidays and day.weekday() < 5
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int, entered: Calendar | None = None) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted): a limit of
    "15 working days from receipt" received on ``start`` ends on the returned day."""
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, entered):
            left -= 1
    return day


def is_provisional(start: dt.date, due: dt.date, entered: Calendar | None = None) -> bool:
    """True when a deadline counted from ``start`` to ``due`` crosses a year with no known schedule."""
    return not all(year_is_known(year, entered) for year in range(start.year, due.year + 1))


def deadline(start: dt.date, days: int, entered: Calendar | None = None) -> Deadline:
    """``days`` working days after ``start``, and whether that is provisional."""
    due = add_working_days(start, days, entered)
    return Deadline(due, is_provisional(start, due, entered))


def parse_days(text: str) -> list[dt.date]:
    """Dates as an operator types them from the notice: ISO dates or ranges (``2027-02-05..2027-02-11``
    or ``2027-02-05~2027-02-11``), separated by commas, spaces, ``、`` or new lines. Raises ``ValueError``
    naming the part it cannot read."""
    days: list[dt.date] = []
    for part in text.replace("，", ",").replace("、", ",").replace("\n", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        first, _sep, last = part.replace("～", "..").replace("~", "..").partition("..")
        try:
            begin = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if last else begin
        except ValueError:
            raise ValueError(part) from None
        if end < begin:
            raise ValueError(part)
        days.extend(begin + dt.timedelta(days=n) for n in range((end - begin).days + 1))
    return sorted(set(days))

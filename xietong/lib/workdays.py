"""Working days (工作日) for legal time limits: the State Council's holiday calendar where published
(``chinesecalendar``, which includes the weekend make-up days), Monday to Friday for years it does not
cover yet (update the package when the next year's calendar is published each November)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def is_working_day(day: dt.date) -> bool:
    """True on an official working day."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted): a limit of
    "15 working days from receipt" received on ``start`` ends on the returned day."""
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day

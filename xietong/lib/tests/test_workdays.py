import datetime as dt

import pytest

from xietong.lib.workdays import YearSchedule, add_working_days, deadline, is_working_day, parse_days


def test_national_day_week_and_its_make_up_saturday() -> None:
    assert not is_working_day(dt.date(2026, 10, 1))
    assert is_working_day(dt.date(2026, 10, 10))  # a Saturday worked to make up for the holiday
    # 15 working days from 2026-09-25 skip Mid-autumn and National Day (09-25…27, 10-01…07)
    assert add_working_days(dt.date(2026, 9, 25), 15) == dt.date(2026, 10, 22)


def test_an_ordinary_fortnight_and_years_without_a_published_calendar() -> None:
    assert add_working_days(dt.date(2026, 11, 23), 15) == dt.date(2026, 12, 14)
    assert add_working_days(dt.date(2027, 3, 1), 5) == dt.date(2027, 3, 8)  # Mon–Fri fallback


# 2027 as a State Council notice would give it (the test's own schedule, not the official one).
ENTERED_2027 = {
    2027: YearSchedule(holidays=frozenset([dt.date(2027, 1, 1)]), workdays=frozenset([dt.date(2027, 1, 9)]))
}


def test_past_the_packaged_calendar_a_deadline_is_provisional() -> None:
    counted = deadline(dt.date(2026, 12, 15), 15)
    assert counted.due == dt.date(2027, 1, 5)  # 1 January counted as a working day: only weekends known
    assert counted.provisional
    assert not deadline(dt.date(2026, 11, 2), 15).provisional


def test_an_entered_year_wins_over_the_weekend_fallback() -> None:
    assert not is_working_day(dt.date(2027, 1, 1), ENTERED_2027)
    assert is_working_day(dt.date(2027, 1, 9), ENTERED_2027)  # a Saturday worked
    counted = deadline(dt.date(2026, 12, 15), 15, ENTERED_2027)
    assert counted.due == dt.date(2027, 1, 6) and not counted.provisional


def test_an_entered_year_wins_over_the_package() -> None:
    corrected = {2026: YearSchedule(holidays=frozenset([dt.date(2026, 11, 24)]))}
    assert is_working_day(dt.date(2026, 11, 24))
    assert not is_working_day(dt.date(2026, 11, 24), corrected)
    assert is_working_day(dt.date(2026, 10, 1), corrected)  # an entry is the whole year's schedule


def test_days_are_read_as_the_notice_lists_them() -> None:
    assert parse_days("2027-01-01、2027-02-05..2027-02-07\n2027-02-06") == [
        dt.date(2027, 1, 1), dt.date(2027, 2, 5), dt.date(2027, 2, 6), dt.date(2027, 2, 7),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="2027-02-30"):
        parse_days("2027-02-30")

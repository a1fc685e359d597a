import datetime as dt

from xietong.lib.workdays import add_working_days, is_working_day


def test_national_day_week_and_its_make_up_saturday() -> None:
    assert not is_working_day(dt.date(2026, 10, 1))
    assert is_working_day(dt.date(2026, 10, 10))  # a Saturday worked to make up for the holiday
    # 15 working days from 2026-09-25 skip Mid-autumn and National Day (09-25…27, 10-01…07)
    assert add_working_days(dt.date(2026, 9, 25), 15) == dt.date(2026, 10, 22)


def test_an_ordinary_fortnight_and_years_without_a_published_calendar() -> None:
    assert add_working_days(dt.date(2026, 11, 23), 15) == dt.date(2026, 12, 14)
    assert add_working_days(dt.date(2027, 3, 1), 5) == dt.date(2027, 3, 8)  # Mon–Fri fallback

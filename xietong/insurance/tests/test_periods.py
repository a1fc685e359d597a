"""Contribution periods (issue 17, defects 1 and 6): overlapping periods, months after the answer's
date and months before the scheme began are refused with the line named; the pooled fund counts each
valid month once; a record pasted from Excel is read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ..periods import InvalidPeriods, Period, check_periods, parse_periods, pooled_amount

ISSUE = "2010-01,2015-12,4000\n2014-01,2016-12,4000\n2026-01,2027-12,9000"
ANSWERED = dt.date(2026, 11, 30)
SINCE = dt.date(1991, 7, 1)


def test_overlapping_and_future_periods_are_refused_with_the_lines_named() -> None:
    with pytest.raises(InvalidPeriods) as caught:
        check_periods(parse_periods(ISSUE), on=ANSWERED, since=SINCE)
    assert caught.value.lines == [2, 3]
    overlap, future = caught.value.errors
    assert overlap.startswith("第2行（2014-01至2016-12）") and "与第1行（2010-01至2015-12）重叠" in overlap
    assert "共24个月" in overlap
    assert future.startswith("第3行（2026-01至2027-12）") and "13个月晚于答复日期所在月份 2026-11" in future


def test_months_before_the_scheme_began_are_refused() -> None:
    with pytest.raises(InvalidPeriods) as caught:
        check_periods(parse_periods("1989-01,1995-12,300"), on=ANSWERED, since=SINCE)
    assert caught.value.errors == ["第1行（1989-01至1995-12）：早于该险种开始缴费的 1991-07"]
    check_periods(parse_periods("1991-07,1995-12,300"), on=ANSWERED, since=SINCE)  # no error


def test_the_pooled_fund_counts_each_valid_month_once() -> None:
    # The issue's record: 84 months at 4000 + 11 months of 2026 at 9000, times 12 % (not 77,760.00).
    assert pooled_amount(parse_periods(ISSUE), until=ANSWERED) == Decimal("52200.00")
    assert pooled_amount([Period(dt.date(1996, 1, 1), dt.date(1998, 12, 1), Decimal(1000))]) == Decimal(
        "1440.00"
    )


@pytest.mark.parametrize(
    "line",
    [
        "2010-01\t2015-12\t4000",
        "2010.01-2015.12\t4000",
        "2010/1/1\t2015/12/1\t4,000.00",
        "201001\t201512\t4000",
        "2010年1月\t2015年12月\t4000",
        "2010-01，2015-12，4000",
        "2010-01 2015-12 4000",
        "2010.01至2015.12\t4000",
    ],
)
def test_a_line_pasted_from_excel_is_read(line: str) -> None:
    assert parse_periods(line) == [Period(dt.date(2010, 1, 1), dt.date(2015, 12, 1), Decimal(4000))]


def test_the_header_row_is_skipped_and_lines_keep_their_numbers() -> None:
    with pytest.raises(InvalidPeriods) as caught:
        parse_periods("起始年月\t截止年月\t缴费基数\n2010-01\t2015-12\t4000\n\n2016-13\t2016-12\t4000")
    assert caught.value.lines == [4] and caught.value.errors[0].startswith("第4行“2016-13")

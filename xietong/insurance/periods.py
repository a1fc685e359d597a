"""Contribution periods and the pooled fund they move (社会保险关系转移接续): pure arithmetic, read by
the transfer actions, forms and API (DOMAIN-RULES.md). No Django here: a bad record raises
``InvalidPeriods`` with one Chinese line per fault, which the actions turn into a form error.

A record is typed or pasted from Excel, one period a line: start month, end month, monthly base.
Accepted forms (the answer form's help text lists them too): ``2010-01,2015-12,4000``; tab-separated
cells as Excel copies them (``2010-01<TAB>2015-12<TAB>4000``, also ``2010/1/1`` dates, ``201001``,
``2010年1月``, ``4,000.00``); and the range in one cell (``2010.01-2015.12<TAB>4000``). A first line
without digits (the header row) is skipped."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from xietong.lib.names import to_simplified

POOLED_RATE = Decimal("0.12")  # pooled fund moved: 12% of each year's actual contribution base (since 1998)
POOLED_SINCE = dt.date(1998, 1, 1)

_MONTH = r"\d{4}\s*(?:[-./年]\s*\d{1,2}\s*月?(?:\s*[-./]\s*\d{1,2}\s*日?)?|\d{2})"
_MONTH_RE = re.compile(rf"^({_MONTH})$")
_RANGE_RE = re.compile(rf"^({_MONTH})\s*(?:-|–|—|~|～|至|到)\s*({_MONTH})$")
_FULL_WIDTH = str.maketrans("，０１２３４５６７８９．－／", ",0123456789.-/")


@dataclass(frozen=True)
class Period:
    """A stretch of contributions: first and last month, monthly contribution base (元); ``line``
    is where it was typed (0 when it came otherwise), for error messages."""

    start: dt.date
    end: dt.date
    base: Decimal
    line: int = field(default=0, compare=False)

    def months(self, *, since: dt.date = POOLED_SINCE) -> int:
        first = max(self.start, since)
        return max(0, (self.end.year - first.year) * 12 + self.end.month - first.month + 1)

    def month_list(self) -> list[dt.date]:
        """Each month of the period (its first day), in order."""
        count = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        return [_add_months(self.start, n) for n in range(max(0, count))]

    def label(self) -> str:
        return f"{self.start:%Y-%m}至{self.end:%Y-%m}"

    def as_json(self) -> dict[str, str]:
        return {
            "start": self.start.strftime("%Y-%m"),
            "end": self.end.strftime("%Y-%m"),
            "base": str(self.base),
        }


class InvalidPeriods(ValueError):
    """A record with faults; ``errors`` holds one line each (“第2行…：…”), ``lines`` their numbers."""

    def __init__(self, errors: list[str], lines: Iterable[int] = ()) -> None:
        super().__init__("；".join(errors))
        self.errors = errors
        self.lines = sorted(set(lines))


class PeriodError(Exception):
    """A contribution line that is well-formed but wrong; the message says how."""


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month(text: str) -> dt.date:
    """A month as Excel or a person writes it: 2010-01, 2010.1, 2010/1/1, 2010年1月, 201001."""
    compact = re.sub(r"\s+", "", text)
    if not _MONTH_RE.match(compact):
        raise ValueError(text)
    digits = re.findall(r"\d+", compact)
    year, month = (
        (int(digits[0][:4]), int(digits[0][4:])) if len(digits) == 1 else (int(digits[0]), int(digits[1]))
    )
    return dt.date(year, month, 1)  # ValueError on month 13


def _base(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace("元", "").strip())


def _cells(line: str) -> list[str]:
    """A line's cells: Excel's tabs, else commas, else runs of spaces."""
    if "\t" in line:
        return [cell.strip() for cell in line.split("\t") if cell.strip()]
    if "," in line:
        return [cell.strip() for cell in line.split(",")]
    return line.split()


def _read_line(line: str) -> Period:
    cells = _cells(line)
    if len(cells) == 2 and (found := _RANGE_RE.match(re.sub(r"\s+", "", cells[0]))):
        start, end, base = _month(found.group(1)), _month(found.group(2)), _base(cells[1])
    elif len(cells) == 3:
        start, end, base = _month(cells[0]), _month(cells[1]), _base(cells[2])
    else:
        raise PeriodError("应为 起始年月,截止年月,月缴费基数 三项")
    if end < start:
        raise PeriodError("截止年月早于起始年月")
    if base <= 0:
        raise PeriodError("月缴费基数应大于0")
    return Period(start, end, base)


def parse_periods(text: str) -> list[Period]:
    """Read contribution periods, one a line (the forms in the module's docstring). ``InvalidPeriods``
    names every bad line by its number in the text; nothing is half-read."""
    periods: list[Period] = []
    errors: list[str] = []
    faulty: list[int] = []
    lines = to_simplified(text).translate(_FULL_WIDTH).splitlines()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or (not periods and not errors and not re.search(r"\d", line)):
            continue  # blank, or the header row Excel copies
        try:
            period = _read_line(raw)
        except PeriodError as exc:
            errors.append(f"第{number}行“{line}”：{exc}")
            faulty.append(number)
            continue
        except (ValueError, InvalidOperation):
            errors.append(f"第{number}行“{line}”：年月应写作 2019-12，基数为数字")
            faulty.append(number)
            continue
        periods.append(Period(period.start, period.end, period.base, line=number))
    if errors:
        raise InvalidPeriods(errors, faulty)
    if not periods:
        raise InvalidPeriods(["请填写至少一段缴费记录"])
    return periods


def _name(period: Period, index: int) -> str:
    number = period.line or index + 1
    return f"第{number}行（{period.label()}）"


def check_periods(periods: Sequence[Period], *, on: dt.date, since: dt.date) -> None:
    """Refuse a record that cannot be right on ``on`` (the answer's date): months after ``on``'s month,
    months before the scheme began (``since``), and periods that overlap an earlier line (those months
    would be counted twice). ``InvalidPeriods`` names each line at fault."""
    errors: list[str] = []
    faulty: list[int] = []
    last = dt.date(on.year, on.month, 1)
    first = dt.date(since.year, since.month, 1)
    for index, period in enumerate(periods):
        number = period.line or index + 1
        reasons = []
        if period.end > last:
            later = (period.end.year - last.year) * 12 + period.end.month - last.month
            reasons.append(f"{later}个月晚于答复日期所在月份 {last:%Y-%m}")
        if period.start < first:
            reasons.append(f"早于该险种开始缴费的 {first:%Y-%m}")
        for other_index, other in enumerate(periods[:index]):
            start, end = max(period.start, other.start), min(period.end, other.end)
            if start <= end:
                overlap = Period(start, end, period.base)
                months = len(overlap.month_list())
                reasons.append(f"与{_name(other, other_index)}重叠 {overlap.label()}，共{months}个月")
        if reasons:
            errors.append(f"{_name(period, index)}：" + "；".join(reasons))
            faulty.append(number)
    if errors:
        raise InvalidPeriods(errors, faulty)


def pooled_amount(periods: Sequence[Period], *, until: dt.date | None = None) -> Decimal:
    """The pooled fund to move: 12% of the monthly base for every month contributed since 1998-01,
    on the union of the months (a month in two periods counts once, at the first period's base) and,
    with ``until``, none after that date's month."""
    last = dt.date(until.year, until.month, 1) if until else None
    bases: dict[dt.date, Decimal] = {}
    for period in periods:
        for month in period.month_list():
            if month >= POOLED_SINCE and (last is None or month <= last):
                bases.setdefault(month, period.base)
    total = sum(bases.values(), Decimal(0))
    return (total * POOLED_RATE).quantize(Decimal("0.01"))

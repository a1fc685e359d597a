"""Contribution periods and the pooled fund they move (社会保险关系转移接续): pure arithmetic, read by
the transfer actions, forms and API (DOMAIN-RULES.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from xietong.lib.names import to_simplified

POOLED_RATE = Decimal("0.12")  # pooled fund moved: 12% of each year's actual contribution base (since 1998)
POOLED_SINCE = dt.date(1998, 1, 1)


@dataclass(frozen=True)
class Period:
    """A stretch of contributions: first and last month, monthly contribution base (元)."""

    start: dt.date
    end: dt.date
    base: Decimal

    def months(self, *, since: dt.date = POOLED_SINCE) -> int:
        first = max(self.start, since)
        return max(0, (self.end.year - first.year) * 12 + self.end.month - first.month + 1)

    def as_json(self) -> dict[str, str]:
        return {
            "start": self.start.strftime("%Y-%m"),
            "end": self.end.strftime("%Y-%m"),
            "base": str(self.base),
        }


class PeriodError(Exception):
    """A contribution line that is well-formed but wrong; the message says how."""


def _month(text: str) -> dt.date:
    return dt.datetime.strptime(text.strip().replace("/", "-").replace(".", "-"), "%Y-%m").date()


def parse_periods(text: str) -> list[Period]:
    """Read contribution periods, one a line: ``起始年月,截止年月,月缴费基数``, e.g.
    ``2012-03,2019-12,6200``. ``ValidationError`` names every bad line; nothing is half-read."""
    periods, errors = [], []
    lines = [line for line in to_simplified(text).replace("，", ",").splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        parts = [part.strip() for part in line.split(",")]
        try:
            if len(parts) != 3:
                raise PeriodError("应为 起始年月,截止年月,月缴费基数 三项")
            start, end = _month(parts[0]), _month(parts[1])
            base = Decimal(parts[2])
            if end < start:
                raise PeriodError("截止年月早于起始年月")
            if base <= 0:
                raise PeriodError("月缴费基数应大于0")
        except PeriodError as exc:
            errors.append(f"第{number}行“{line.strip()}”：{exc}")
            continue
        except (ValueError, InvalidOperation):
            reason = "年月应写作 2019-12，基数为数字"
            errors.append(f"第{number}行“{line.strip()}”：{reason}")
            continue
        periods.append(Period(start, end, base))
    if errors:
        raise ValidationError({"periods": errors})
    if not periods:
        raise ValidationError({"periods": "请填写至少一段缴费记录"})
    return periods


def pooled_amount(periods: list[Period]) -> Decimal:
    """The pooled fund to move: 12% of the monthly base for every month contributed since 1998-01."""
    total = sum((period.base * period.months() for period in periods), Decimal(0))
    return (total * POOLED_RATE).quantize(Decimal("0.01"))

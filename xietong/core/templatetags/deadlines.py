"""``{% provisional_mark due %}``: beside a deadline that falls in a year without an official holiday
schedule, say that it was counted by weekends only (暂按周末计算) until the operator enters that year."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template

from xietong.core import selectors

register = template.Library()


@register.inclusion_tag("core/_partials/provisional_mark.html")
def provisional_mark(due: date | None) -> dict[str, Any]:
    return {"provisional": due is not None and selectors.deadline_is_provisional(due)}

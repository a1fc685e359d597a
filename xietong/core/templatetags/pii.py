"""Template filters for personal data: pages ask ``core.pii`` what they may show."""

from __future__ import annotations

from typing import Any

from django import template

from xietong.core import pii as core_pii

register = template.Library()


@register.filter
def birth_for(person: Any, user: Any) -> str:
    """``{{ person|birth_for:request.user }}``: the full birth date for accounts that may reveal the
    ID number, the year only for everyone else (``pii.birth_shown``)."""
    return core_pii.birth_text(user, person)

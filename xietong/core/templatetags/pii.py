"""Template filters for personal data: pages ask ``core.pii`` what they may show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template

from xietong.core import pii as core_pii

if TYPE_CHECKING:
    from xietong.core.models import Person
    from xietong.core.typing import Viewer

register = template.Library()


@register.filter
def birth_for(person: Person, user: Viewer | None) -> str:
    """``{{ person|birth_for:request.user }}``: the full birth date for accounts that may reveal the
    ID number, the year only for everyone else (``pii.birth_shown``)."""
    return core_pii.birth_text(user, person)

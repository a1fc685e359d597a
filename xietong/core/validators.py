"""Input hygiene shared by every text field (issue 11, defect 5).

Control characters (``\\x0b``, ``\\x00`` …) have no place in a name or an address: they break
Excel exports, search and the exchange. One check refuses them wherever text is saved; multi-line
text (a ``TextField``, a textarea) may keep tab and line breaks.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """Whether ``value`` holds a control character (tab and line breaks allowed when ``multiline``)."""
    return bool((_MULTI_LINE if multiline else _SINGLE_LINE).search(value))


def refuse_control_characters(value: object, *, label: str, multiline: bool = False) -> None:
    """Raise ``ValidationError`` naming the field (``label``) when ``value`` holds control characters."""
    if isinstance(value, str) and has_control_characters(value, multiline=multiline):
        raise ValidationError(
            _("“%(field)s”含有不可见的控制字符，请删除后重新填写") % {"field": label},
            code="control_characters",
        )

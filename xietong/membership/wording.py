"""What the public pages (the join form, the status look-up) tell a worker about a wrong ID number.

The one place that decides it (issue 12 §4): "第18位校验码应为5" invites a worker to change the last
digit until the number passes, when the mistake is usually elsewhere; the public pages say instead
that one digit is wrong and ask to check the number digit by digit. Officer pages keep the detail.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from xietong.lib import idnumber


def public_id_number_message(exc: idnumber.InvalidIdNumber) -> str:
    """The reason a public page gives for ``exc``: no hint of which digit would make it pass."""
    if exc.code == "checksum":
        return _("身份证号码有一位填写有误，请对照身份证逐位核对后重新填写")
    return str(exc)


def parse_public_id_number(value: str, *, field: str = "id_number") -> idnumber.IdNumber:
    """Parse an ID number typed on a public page, or raise ``ValidationError`` on ``field`` in the
    public wording."""
    try:
        return idnumber.parse(value)
    except idnumber.InvalidIdNumber as exc:
        raise ValidationError({field: public_id_number_message(exc)}) from exc

"""What the services app puts on the home page (issue 12 §2), through ``xietong.core.home``: the
12351 requests overdue; an account whose only role is the hotline operator's (or a station's staff)
lands on its request list; overdue requests escalate to the parent union by themselves (a
periodic check that ``xietong notify_due`` runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from xietong.core.home import TodoItem, register_check, register_landing, todo

from . import actions, selectors

if TYPE_CHECKING:
    from xietong.core.models import User


def _overdue(user: User) -> list[TodoItem]:
    """Overdue requests (``selectors.overdue_requests``, the list's ``?status=overdue``)."""
    url = f"{reverse('services:request_list')}?{urlencode({'status': 'overdue'})}"
    count = selectors.overdue_requests(user=user).count()
    return [TodoItem(_("逾期未办的12351服务诉求"), count, url, "headset", urgent=True)]


def escalate_overdue() -> int:
    """Escalate the overdue requests to the parent union and notify its officers (the action does
    both); returns how many were escalated. ``xietong services_escalate`` stays the manual trigger."""
    return len(actions.requests_escalate_overdue())


todo(key="services.overdue", perm="services.change_servicerequest", items=_overdue, order=35)
register_landing(role="hotline_operator", url_name="services:request_list")
register_landing(role="station_staff", url_name="services:request_list")
register_check(key="services.escalate_overdue", run=escalate_overdue)

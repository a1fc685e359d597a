"""Template filters of the exchange pages: a message's ``created`` (ISO text in UTC, as it travels)
shown in the node's time zone, like every other time on the page."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ..selectors import parse_created

register = template.Library()


@register.filter
def local_created(created: str) -> str:
    """``"2026-11-30T13:42:24.939040+00:00"`` → ``"2026-11-30 21:42:24"`` (settings.TIME_ZONE);
    the text unchanged if it is not a timestamp."""
    value = parse_created(created)
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else created

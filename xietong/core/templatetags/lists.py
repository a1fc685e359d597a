"""Template tags of the list pages: sortable column headers that keep the other filters."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from xietong.core.filters import SORT_PARAM

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_th(context: Any, column: str, label: str) -> str:
    """A ``<th>`` whose link sorts the list by ``column`` (ascending, then descending on a second
    click), keeping the search and filters; ``aria-sort`` tells screen readers the current order."""
    request = context["request"]
    current = request.GET.get(SORT_PARAM, "")
    params = request.GET.copy()
    params.pop("page", None)
    if current == column:
        params[SORT_PARAM], icon, aria = f"-{column}", "bi-sort-up", "ascending"
    elif current == f"-{column}":
        params[SORT_PARAM], icon, aria = column, "bi-sort-down", "descending"
    else:
        params[SORT_PARAM], icon, aria = column, "bi-arrow-down-up text-muted", "none"
    return format_html(
        '<th aria-sort="{}"><a class="text-reset text-decoration-none" href="?{}">'
        '{} <i class="bi {} small"></i></a></th>',
        aria,
        params.urlencode(),
        label,
        icon,
    )

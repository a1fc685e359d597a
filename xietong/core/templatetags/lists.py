"""Template tags of the list pages: sortable column headers that keep the other filters, page links."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from xietong.core.filters import SORT_PARAM
from xietong.core.pagination import CURSOR_PARAM

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_th(context: Any, column: str, label: str) -> str:
    """A ``<th>`` whose link sorts the list by ``column`` (ascending, then descending on a second
    click), keeping the search and filters; ``aria-sort`` tells screen readers the current order."""
    request = context["request"]
    current = request.GET.get(SORT_PARAM, "")
    params = request.GET.copy()
    params.pop("page", None)
    params.pop(CURSOR_PARAM, None)
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


@register.simple_tag(takes_context=True)
def page_href(context: Any, number: Any) -> str:
    """The link to page ``number`` (or ``"last"``) keeping the filters: from a ``SeekPage`` it
    carries the position to seek from (``core.pagination``), from any other page just the number."""
    querystring = context.get("querystring", "")
    page = context.get("page_obj")
    part = page.query_for(number) if hasattr(page, "query_for") else f"page={number}"
    return f"?{querystring}&{part}" if querystring else f"?{part}"


@register.simple_tag
def page_window(page: Any, around: int = 3) -> range:
    """The page numbers shown around ``page`` (without walking every page of a long list)."""
    last = page.paginator.num_pages
    return range(max(1, page.number - around), min(last, page.number + around) + 1)

"""The filters of the message log, shared by its page and any API listing it (ADR 014)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xietong.core.filters import ListFilterSet, sorting

from . import selectors
from .choices import Direction, MessageStatus
from .models import ExchangeMessage


class MessageFilter(ListFilterSet):
    """Messages: by kind, node or message id; by direction and status."""

    direction = django_filters.ChoiceFilter(choices=Direction.choices, empty_label=_("收发"), label=_("方向"))
    status = django_filters.ChoiceFilter(
        choices=MessageStatus.choices, empty_label=_("全部状态"), label=_("状态")
    )
    sort = sorting(("created_at", "created"), ("kind", "kind"), ("attempts", "attempts"))

    class Meta:
        model = ExchangeMessage
        fields = ["q", "direction", "status"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_messages(queryset, value)

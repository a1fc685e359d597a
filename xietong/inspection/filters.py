"""The filters of the blacklist, shared by its page and API endpoint (ADR 014)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xietong.core.filters import ListFilterSet, sorting

from . import selectors
from .choices import ListingStatus
from .models import ArrearsListing


class ListingFilter(ListFilterSet):
    """Listings: by employer name, credit code or decision number; by status (the page opens on 列入中)."""

    status = django_filters.ChoiceFilter(
        choices=ListingStatus.choices, empty_label=_("全部状态"), label=_("状态")
    )
    sort = sorting(
        ("listed_on", "listed_on"),
        ("employer_name", "employer"),
        ("amount_owed", "amount"),
        ("workers_affected", "workers"),
    )

    class Meta:
        model = ArrearsListing
        fields = ["q", "status"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_listings(queryset, value)

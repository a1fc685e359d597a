"""The filters of the membership lists, shared by their pages and API endpoints (ADR 012)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xietong.core.filters import ListFilterSet, organization_filter, sorting

from . import selectors
from .choices import ApplicationStatus, MemberStatus, TransferStatus
from .models import JoinApplication, Member, MembershipTransfer, OutreachEvent


class ApplicationFilter(ListFilterSet):
    """Join applications: by name or employer, by status (the review queue opens on 待审核)."""

    status = django_filters.ChoiceFilter(
        choices=ApplicationStatus.choices, empty_label=_("全部状态"), label=_("状态")
    )
    organization = organization_filter()
    sort = sorting(("created_at", "submitted"), ("name", "name"), ("organization__name", "organization"))

    class Meta:
        model = JoinApplication
        fields = ["q", "status", "organization"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_applications(queryset, value)


class MemberFilter(ListFilterSet):
    """The member roll: by name, number, employer or ID number; by status and union subtree."""

    status = django_filters.ChoiceFilter(
        choices=MemberStatus.choices, empty_label=_("全部状态"), label=_("状态")
    )
    organization = organization_filter()
    card = django_filters.ChoiceFilter(
        choices=[("lost_week", _("本周挂失待补卡"))],
        method="with_card",
        empty_label=_("全部会员卡"),
        label=_("会员卡"),
    )
    sort = sorting(
        ("number", "number"),
        ("person__name", "name"),
        ("organization__name", "organization"),
        ("joined_on", "joined_on"),
    )

    class Meta:
        model = Member
        fields = ["q", "status", "organization", "card"]

    def with_card(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return selectors.members_with_card_lost(queryset) if value == "lost_week" else queryset

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.member_search(queryset, value)


class EventFilter(ListFilterSet):
    """Outreach events: by title."""

    sort = sorting(("held_on", "held_on"), ("title", "title"), ("organization__name", "organization"))

    class Meta:
        model = OutreachEvent
        fields = ["q"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_events(queryset, value)


class TransferFilter(ListFilterSet):
    """Membership transfers: by the member's name, by status."""

    status = django_filters.ChoiceFilter(
        choices=TransferStatus.choices, empty_label=_("全部状态"), label=_("状态")
    )
    sort = sorting(("created_at", "requested"), ("member__person__name", "name"))

    class Meta:
        model = MembershipTransfer
        fields = ["q", "status"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_transfers(queryset, value)

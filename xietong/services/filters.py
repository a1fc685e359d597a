"""The filters of the services lists, shared by their pages and API endpoints (ADR 014)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xietong.core.filters import ListFilterSet, organization_filter, sorting
from xietong.membership.choices import Benefit as BenefitKind

from . import selectors
from .choices import Channel, LegalAidStage, RequestStatus, StationLevel
from .models import (
    Benefit,
    BenefitUse,
    KnowledgeAnswer,
    Lawyer,
    LegalAidCase,
    ServiceCategory,
    ServiceRequest,
    ServiceStation,
)


class StationFilter(ListFilterSet):
    """Stations: by name or address, level, service offered, district."""

    organization = organization_filter()
    level = django_filters.ChoiceFilter(
        choices=StationLevel.choices, empty_label=_("全部层级"), label=_("层级")
    )
    service = django_filters.ModelChoiceFilter(
        field_name="services",
        queryset=ServiceCategory.objects.filter(active=True),
        empty_label=_("全部服务"),
        label=_("服务项目"),
    )
    sort = sorting(("name", "name"), ("level", "level"), ("district__code", "district"))

    class Meta:
        model = ServiceStation
        fields = ["q", "organization", "level", "service"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_stations(queryset, value)


class RequestFilter(ListFilterSet):
    """Requests: by number, subject, name or phone; by status (overdue and follow-up included),
    category and channel."""

    organization = organization_filter()
    status = django_filters.ChoiceFilter(
        choices=[*RequestStatus.choices, ("overdue", _("逾期未办")), ("followup", _("待回访"))],
        method="in_status",
        empty_label=_("全部状态"),
        label=_("状态"),
    )
    category = django_filters.ModelChoiceFilter(
        queryset=ServiceCategory.objects.all(), empty_label=_("全部类别"), label=_("类别")
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, empty_label=_("全部渠道"), label=_("渠道"))
    sort = sorting(("created_at", "created"), ("answer_due", "answer_due"), ("requester_name", "name"))

    class Meta:
        model = ServiceRequest
        fields = ["q", "organization", "status", "category", "channel"]

    def in_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return selectors.requests_in_status(queryset, value)

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_requests(queryset, value)


class KnowledgeFilter(ListFilterSet):
    """Standard answers: by words, by category."""

    category = django_filters.ModelChoiceFilter(
        queryset=ServiceCategory.objects.all(), empty_label=_("全部类别"), label=_("类别")
    )
    sort = sorting(("question", "question"), ("category__order", "category"))

    class Meta:
        model = KnowledgeAnswer
        fields = ["q", "category"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_knowledge(queryset, value)


class LawyerFilter(ListFilterSet):
    """The lawyer roster: by name, firm or specialty."""

    organization = organization_filter()
    sort = sorting(("name", "name"), ("firm", "firm"))

    class Meta:
        model = Lawyer
        fields = ["q", "organization"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_lawyers(queryset, value)


class CaseFilter(ListFilterSet):
    """Legal-aid cases: by the worker, the lawyer or the request number; by stage."""

    organization = organization_filter()
    status = django_filters.ChoiceFilter(
        choices=LegalAidStage.choices, empty_label=_("全部阶段"), label=_("阶段")
    )
    sort = sorting(("opened_on", "opened_on"), ("lawyer__name", "lawyer"))

    class Meta:
        model = LegalAidCase
        fields = ["q", "organization", "status"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_cases(queryset, value)


class BenefitFilter(ListFilterSet):
    """Benefit items (普惠服务项目): by name or provider, by kind of card use."""

    kind = django_filters.ChoiceFilter(
        choices=BenefitKind.choices, empty_label=_("全部类型"), label=_("服务类型")
    )
    sort = sorting(("name", "name"), ("provider__name", "provider"), ("valid_from", "valid_from"))

    class Meta:
        model = Benefit
        fields = ["q", "kind"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_benefits(queryset, value)


class BenefitUseFilter(ListFilterSet):
    """Benefit uses: by the member, the item or the provider; by item."""

    benefit = django_filters.ModelChoiceFilter(
        queryset=lambda request: (
            selectors.used_benefits(user=request.user) if request else Benefit.objects.none()
        ),
        empty_label=_("全部项目"),
        label=_("普惠服务项目"),
    )
    sort = sorting(("created_at", "created"), ("benefit__name", "benefit"))

    class Meta:
        model = BenefitUse
        fields = ["q", "benefit"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_benefit_uses(queryset, value)

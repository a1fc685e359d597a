"""The filters of the social-insurance lists, shared by their pages and API endpoints (ADR 014)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xietong.core.filters import IdFilter, ListFilterSet, sorting

from . import selectors
from .choices import RUN_STATES, FindingKind, FindingStatus, RosterKind, TransferStatus
from .models import BenefitRoster, CertificationFinding, EligibilityCheck, InsuranceTransfer


class TransferFilter(ListFilterSet):
    """Transfers: by ID number, name or number; by status, ``overdue`` included."""

    status = django_filters.ChoiceFilter(
        choices=[*TransferStatus.choices, ("overdue", _("逾期未办")), ("ours", _("待本机构办理"))],
        method="in_status",
        empty_label=_("全部状态"),
        label=_("状态"),
    )
    sort = sorting(("applied_on", "applied_on"), ("name", "name"), ("due_on", "due_on"))

    class Meta:
        model = InsuranceTransfer
        fields = ["q", "status"]

    def in_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return selectors.transfers_in_status(queryset, value)

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_transfers(queryset, value)


class RosterFilter(ListFilterSet):
    """Benefit rosters: by title or file name, by kind."""

    kind = django_filters.ChoiceFilter(
        choices=RosterKind.choices, empty_label=_("全部名册"), label=_("名册类别")
    )
    sort = sorting(("created_at", "created"), ("title", "title"), ("kind", "kind"))

    class Meta:
        model = BenefitRoster
        fields = ["q", "kind"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_rosters(queryset, value)


class RunFilter(ListFilterSet):
    """Certification runs: by roster title or run number, by status."""

    status = django_filters.ChoiceFilter(
        choices=RUN_STATES, method="in_state", empty_label=_("全部状态"), label=_("状态")
    )
    sort = sorting(("created_at", "created"), ("roster__title", "roster"))

    class Meta:
        model = EligibilityCheck
        fields = ["q", "status"]

    def in_state(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return selectors.runs_in_state(queryset, value)

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_runs(queryset, value)


class FindingFilter(ListFilterSet):
    """Findings: by the person's ID number or name, by status and kind, by run (``?run=``)."""

    status = django_filters.ChoiceFilter(
        choices=FindingStatus.choices, empty_label=_("全部状态"), label=_("状态")
    )
    kind = django_filters.ChoiceFilter(
        choices=FindingKind.choices, empty_label=_("全部类别"), label=_("类别")
    )
    run = IdFilter(field_name="run", label=_("认证批次"))
    sort = sorting(("entry__name", "name"), ("score", "score"), ("status", "status"))

    class Meta:
        model = CertificationFinding
        fields = ["q", "status", "kind", "run"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_findings(queryset, value)

"""The filters of a list, shared by its page and its API endpoint (ADR 012).

A list's ``FilterSet`` says what can be searched, filtered and sorted: the staff page
(``generic.ScopedListView.filterset_class``) and the REST endpoint (a viewset's ``filterset_class``,
through django-filter's DRF backend) read the same query parameters the same way, and the Excel export
uses the filtered queryset. The queryset it filters always comes from a selector, already scoped.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from . import selectors
from .choices import AuditAction, Gender, OrganizationKind
from .models import AuditEvent, Employer, Organization, Person, User

#: The query parameter that sorts a list (``?sort=name``, ``?sort=-name`` descending), pages and API.
SORT_PARAM = "sort"

#: Dates are picked with the browser's own calendar.
DATE = forms.DateInput(attrs={"type": "date"})


class ListFilterSet(django_filters.FilterSet):
    """Base of every list's filters: ``q`` searches (``search`` says how), ``sort`` orders.

    Subclasses declare their filters as usual, ``search`` (calling a selector's search function) and
    ``sort`` as ``django_filters.OrderingFilter(fields=...)`` mapping model lookups to the names the
    columns use. Invalid values are ignored (django-filter filters with the valid ones only) and shown
    beside the field on the page.
    """

    q = django_filters.CharFilter(method="filter_q", label=_("搜索"))

    @property
    def form(self) -> forms.Form:
        form = super().form
        if not getattr(form, "_styled", False):
            for field in form.fields.values():
                widget = field.widget
                widget.attrs.setdefault(
                    "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
                )
                widget.attrs.setdefault("style", "max-width: 14rem")
            form._styled = True  # a marker on this instance only
        return form

    def filter_q(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = (value or "").strip()
        return self.search(queryset, value) if value else queryset

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        """Narrow ``queryset`` to what ``value`` finds; lists without a search keep everything."""
        return queryset


#: The largest row id a database holds (a 64-bit signed ``bigint``, Django's ``BigAutoField``).
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id in the query (``?run=12``): a whole number from 1 to ``MAX_ID``.

    django-filter's ``NumberFilter`` reads a decimal: a fraction or a number beyond the database's
    integers reached the query and answered 500 (issue 15 §6, found by the API fuzz run). Out of
    range, the page ignores the value and the API answers 400 naming the parameter.
    """

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(*args, **kwargs)


def in_organization(queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
    """Rows of the organisation with primary key ``value`` and of its whole subtree (an organisation
    outside the caller's scope finds nothing, since ``queryset`` is already scoped)."""
    path = Organization.objects.filter(pk=value).values_list("path", flat=True).first()
    return queryset.filter(organization__path__startswith=path) if path else queryset.none()


def organization_filter() -> IdFilter:
    """``?organization=<id>``: that organisation's subtree (a hidden field on the page)."""
    return IdFilter(method=in_organization, label=_("组织"))


def sorting(*fields: tuple[str, str]) -> django_filters.OrderingFilter:
    """The ``sort`` filter of a list: ``fields`` are (model lookup, column name) pairs."""
    return django_filters.OrderingFilter(fields=fields, label=_("排序"))


# The lists of the core app ------------------------------------------------------------------------


class OrganizationFilter(ListFilterSet):
    """Organisations: by name or code, by kind."""

    kind = django_filters.ChoiceFilter(
        choices=OrganizationKind.choices, empty_label=_("全部类别"), label=_("类别")
    )
    parent = IdFilter(field_name="parent", label=_("上级组织"))
    sort = sorting(("code", "code"), ("name", "name"), ("kind", "kind"))

    class Meta:
        model = Organization
        fields = ["q", "kind", "parent"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_organizations(queryset, value)


class EmployerFilter(ListFilterSet):
    """Employers: by name or credit code, by the union they belong to."""

    organization = organization_filter()
    region = django_filters.CharFilter(field_name="region", label=_("所在地区"), widget=forms.HiddenInput)
    sort = sorting(("name", "name"), ("credit_code", "credit_code"), ("organization__name", "organization"))

    class Meta:
        model = Employer
        fields = ["q", "organization", "region"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_employers(queryset, value)


class PersonFilter(ListFilterSet):
    """People: by name. Not sortable by birth date: its order would tell what the masked ID hides."""

    organization = organization_filter()
    gender = django_filters.ChoiceFilter(choices=Gender.choices, empty_label=_("全部性别"), label=_("性别"))
    sort = sorting(("name", "name"), ("organization__name", "organization"))

    class Meta:
        model = Person
        fields = ["q", "organization", "gender"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_people(queryset, value)


class AuditFilter(ListFilterSet):
    """Audit events: by account or record, by action, by period."""

    action = django_filters.ChoiceFilter(
        choices=AuditAction.choices, empty_label=_("全部操作"), label=_("操作")
    )
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("起始日期"), widget=DATE
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("截止日期"), widget=DATE
    )
    sort = sorting(("created_at", "time"), ("actor_username", "actor"), ("action", "action"))

    class Meta:
        model = AuditEvent
        fields = ["q", "action", "since", "until"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_audit(queryset, value)


class UserFilter(ListFilterSet):
    """Accounts: by user name or display name, active or not."""

    is_active = django_filters.BooleanFilter(label=_("启用"))
    sort = sorting(("username", "username"), ("display_name", "name"), ("organization__name", "organization"))

    class Meta:
        model = User
        fields = ["q", "is_active"]

    def search(self, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return selectors.search_users(queryset, value)

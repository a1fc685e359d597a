"""Pages of the inspection app: the wage-arrears blacklist of the region group."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xietong.core.generic import (
    ActionFormView,
    ScopedDetailView,
    ScopedListView,
    acting_user,
    perform_action,
    permission_required_scoped,
)

from . import actions, filters, selectors
from .choices import ListingStatus
from .forms import ArrearsCheckForm, ArrearsListingForm, ArrearsRemovalForm


class ArrearsListView(ScopedListView):
    """The blacklist of the whole region group, with the check form and Excel export."""

    permission = "inspection.view_arrearslisting"
    template_name = "inspection/arrears_list.html"
    export_columns = (
        ("统一社会信用代码", "credit_code"),
        ("用人单位名称", "employer_name"),
        ("拖欠工资金额（元）", "amount_owed"),
        ("涉及劳动者人数", "workers_affected"),
        ("决定书文号", "decision_no"),
        ("劳动保障监察机构", "authority"),
        ("列入节点", "origin_node_name"),
        ("列入日期", "listed_on"),
        ("届满日期", "expires_on"),
        ("状态", "get_status_display"),
        ("移出日期", "removed_on"),
        ("移出原因", "removal_reason"),
    )
    export_filename = "arrears-blacklist.xlsx"

    filterset_class = filters.ListingFilter
    filter_defaults = {"status": ListingStatus.LISTED}

    def get_queryset(self) -> Any:
        return selectors.arrears_listings(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = ArrearsCheckForm(self.request.GET if "check" in self.request.GET else None)
        context["check_form"] = form
        if form.is_bound and form.is_valid():
            context["check_result"] = selectors.arrears_check(
                credit_code=form.cleaned_data["credit_code"], name=form.cleaned_data["name"]
            )
        return context


class ArrearsCreateView(ActionFormView):
    """List an employer (a labour inspection authority's officer)."""

    permission = "inspection.add_arrearslisting"
    template_name = "core/form.html"
    extra_context = {"title": "列入欠薪黑名单"}

    def get_form(self, form_class: Any = None) -> ArrearsListingForm:
        return ArrearsListingForm(
            self.request.POST or None,
            organizations=selectors.deciding_authorities(user=self.request.user),
        )

    def perform(self, form: Any) -> HttpResponse:
        listing = actions.arrears_list(acting_user=acting_user(self.request), **form.cleaned_data)
        return redirect("inspection:arrears_detail", pk=listing.pk)


class ArrearsDetailView(ScopedDetailView):
    """One listing, with its removal form where this node listed it and the user may change it."""

    permission = "inspection.view_arrearslisting"
    template_name = "inspection/arrears_detail.html"
    access = selectors.access_listing

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        editable = selectors.arrears_editable_by(user=self.request.user).filter(pk=self.object.pk).exists()
        context["removal_form"] = (
            ArrearsRemovalForm() if editable and self.object.status == ListingStatus.LISTED else None
        )
        return context


@require_POST
@permission_required_scoped("inspection.change_arrearslisting")
def arrears_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a listing off the blacklist (its removal is published to every node)."""
    listing = selectors.access_listing(user=request.user, pk=pk, action="change")
    form = ArrearsRemovalForm(request.POST)
    if form.is_valid():
        perform_action(
            request,
            lambda: actions.arrears_remove(
                listing=listing,
                reason=form.cleaned_data["removal_reason"],
                removed_on=form.cleaned_data["removed_on"],
                acting_user=acting_user(request),
            ),
            lambda _result: _("已移出名单：%(name)s") % {"name": listing.employer_name},
        )
    return redirect("inspection:arrears_detail", pk=listing.pk)

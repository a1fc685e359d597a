"""Pages of the insurance app: insurance transfers, benefit rosters and eligibility certification."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from xietong.core.choices import OrganizationKind
from xietong.core.generic import (
    ActionFormView,
    ScopedDetailView,
    ScopedListView,
    acting_user,
    attach_errors,
    perform_action,
    permission_required_scoped,
    public,
)
from xietong.core.selectors import organizations_for
from xietong.exchange import selectors as exchange_selectors

from . import actions, filters, selectors
from .choices import FindingKind, FindingStatus
from .forms import (
    EligibilityCheckForm,
    FindingDecisionForm,
    RosterImportForm,
    TransferAnswerForm,
    TransferAssignForm,
    TransferRefuseForm,
    TransferRequestForm,
)


class TransferListView(ScopedListView):
    """Transfers this node takes part in, with overdue ones marked; Excel export."""

    permission = "insurance.view_insurancetransfer"
    template_name = "insurance/transfer_list.html"
    export_columns = (
        ("姓名", "name"),
        ("身份证号码", "id_number_masked"),
        ("险种", "get_scheme_display"),
        ("本节点角色", "get_side_display"),
        ("转出地", "sending_node"),
        ("转入地", "receiving_node"),
        ("申请日期", "applied_on"),
        ("状态", "get_status_display"),
        ("本步办理时限", "due_on"),
        ("转移基金总额（元）", "fund_transfer_amount"),
        ("不予转移的原因", "refusal_reason"),
    )
    export_filename = "insurance-transfers.xlsx"
    filterset_class = filters.TransferFilter

    def get_queryset(self) -> Any:
        return selectors.transfers(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for transfer in context["object_list"]:
            transfer.overdue = selectors.transfer_is_overdue(transfer)
        return context


class TransferCreateView(ActionFormView):
    """Accept a worker's transfer application (this node is the receiving region)."""

    permission = "insurance.add_insurancetransfer"
    template_name = "core/form.html"
    extra_context = {"title": "受理社会保险关系转移"}

    def get_form(self, form_class: Any = None) -> TransferRequestForm:
        return TransferRequestForm(
            self.request.POST or None,
            organizations=selectors.hrss_offices_for(
                user=self.request.user, perm="insurance.add_insurancetransfer"
            ),
            peers=exchange_selectors.trusted_peers(),
        )

    def perform(self, form: Any) -> HttpResponse:
        transfer = actions.transfer_request(acting_user=acting_user(self.request), **form.cleaned_data)
        return redirect("insurance:transfer_detail", pk=transfer.pk)


class TransferDetailView(ScopedDetailView):
    """One transfer: its steps, the record and amounts, and the form for this node's next step."""

    permission = "insurance.view_insurancetransfer"
    template_name = "insurance/transfer_detail.html"
    access = selectors.access_transfer
    answer_form: TransferAnswerForm | None = None  # a refused answer, shown again as typed

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        transfer = self.object
        ours = selectors.transfer_waits_on_this_node(transfer)
        may = selectors.may_change_transfer(user=self.request.user, transfer=transfer)
        offices = _assignable_offices(self.request, transfer) if may else None
        answering = ours and may and transfer.side == "sending"
        context.update(
            assign_form=TransferAssignForm(organizations=offices) if offices else None,
            overdue=selectors.transfer_is_overdue(transfer),
            timeline=selectors.transfer_timeline(transfer),
            delivery=selectors.transfer_delivery(transfer),
            parties=selectors.transfer_parties(transfer),
            answer_form=(self.answer_form or TransferAnswerForm()) if answering else None,
            refuse_form=TransferRefuseForm() if ours and may and transfer.side == "sending" else None,
            can_complete=ours and may and transfer.side == "receiving",
            status_url=self.request.build_absolute_uri(
                reverse("insurance:transfer_status", args=[transfer.status_token])
            ),
        )
        return context


def _assignable_offices(request: HttpRequest, transfer: Any) -> Any:
    """HRSS offices below the transfer's office where the user may act (empty when there are none)."""
    if transfer.status not in selectors.WAITING or transfer.organization is None:
        return None
    offices = (
        organizations_for(user=request.user, perm="insurance.change_insurancetransfer")
        .filter(kind=OrganizationKind.HRSS_BUREAU, path__startswith=transfer.organization.path)
        .exclude(pk=transfer.organization_id)
    )
    return offices if offices.exists() else None


@require_POST
@permission_required_scoped("insurance.change_insurancetransfer")
def transfer_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand a transfer to a district office (the owning office's officers do this)."""
    transfer = selectors.access_transfer(user=request.user, pk=pk, action="change")
    offices = organizations_for(user=request.user, perm="insurance.change_insurancetransfer")
    form = TransferAssignForm(request.POST, organizations=offices)
    if form.is_valid():
        office = form.cleaned_data["organization"]
        perform_action(
            request,
            lambda: actions.transfer_assign(
                transfer=transfer, organization=office, acting_user=acting_user(request)
            ),
            lambda _r: _("已交由 %(office)s 办理") % {"office": office.name},
        )
    else:
        messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("insurance:transfer_detail", pk=transfer.pk)


@require_POST
@permission_required_scoped("insurance.change_insurancetransfer")
def transfer_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """This node's step of a transfer: answer or refuse (sending region), complete (receiving one)."""
    transfer = selectors.access_transfer(user=request.user, pk=pk, action="change")
    done = _("已办理，已通知对方节点")
    if step == "answer":
        return _transfer_answer(request, transfer, done)
    if step == "refuse":
        reason = request.POST.get("reason", "")
        user = acting_user(request)
        perform_action(
            request,
            lambda: actions.transfer_refuse(transfer=transfer, reason=reason, acting_user=user),
            lambda _r: done,
        )
    elif step == "complete":
        perform_action(
            request,
            lambda: actions.transfer_complete(transfer=transfer, acting_user=acting_user(request)),
            lambda _r: done,
        )
    else:
        raise Http404
    return redirect("insurance:transfer_detail", pk=transfer.pk)


def _transfer_answer(request: HttpRequest, transfer: Any, done: str) -> HttpResponse:
    """The sending region's answer. A refused one comes back on the transfer's page as typed, each
    line at fault named beside the record (nothing is lost to retype)."""
    form = TransferAnswerForm(request.POST)
    if form.is_valid():
        try:
            actions.transfer_answer(
                transfer=transfer,
                periods=form.cleaned_data["periods"],
                personal_account=form.cleaned_data["personal_account"],
                acting_user=acting_user(request),
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("insurance:transfer_detail", pk=transfer.pk)
    page = TransferDetailView(answer_form=form)
    page.setup(request, pk=transfer.pk)
    page.object = transfer
    return page.render_to_response(page.get_context_data(object=transfer))


@public
def transfer_status(request: HttpRequest, token: str) -> HttpResponse:
    """The worker's view of their transfer (the link on the receipt): steps and dates, no account."""
    transfer = selectors.transfer_for_worker(token)
    if transfer is None:
        raise Http404
    return render(
        request,
        "insurance/transfer_status.html",
        {
            "transfer": transfer,
            "overdue": selectors.transfer_is_overdue(transfer),
            "timeline": selectors.transfer_timeline(transfer),
            "delivery": selectors.transfer_delivery(transfer),
            "parties": selectors.transfer_parties(transfer),
        },
    )


# Benefit eligibility certification ---------------------------------------------------------------------


class RosterListView(ScopedListView):
    """The rosters of the user's offices: kind, rows, import status."""

    permission = "insurance.view_benefitroster"
    template_name = "insurance/roster_list.html"
    filterset_class = filters.RosterFilter

    def get_queryset(self) -> Any:
        return selectors.rosters(user=self.request.user)


class RosterImportView(ActionFormView):
    """Upload a roster; it is imported in the background and its page shows progress."""

    permission = "insurance.add_benefitroster"
    template_name = "insurance/roster_form.html"

    def get_form(self, form_class: Any = None) -> RosterImportForm:
        return RosterImportForm(
            self.request.POST or None,
            self.request.FILES or None,
            organizations=selectors.hrss_offices_for(
                user=self.request.user, perm="insurance.add_benefitroster"
            ),
        )

    def perform(self, form: Any) -> HttpResponse:
        roster = actions.roster_import_start(
            organization=form.cleaned_data["organization"],
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data["title"],
            uploaded=form.cleaned_data["file"],
            mapping=form.mapping(),
            acting_user=acting_user(self.request),
        )
        return redirect("insurance:roster_detail", pk=roster.pk)


def _page(request: HttpRequest, queryset: Any, size: int = 25) -> dict[str, Any]:
    """Pagination context for a list inside a detail page (what ``_partials/pagination.html`` reads)."""
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "page_obj": page,
        "paginator": page.paginator,
        "is_paginated": page.has_other_pages(),
        "querystring": params.urlencode(),
        "q": request.GET.get("q", "").strip(),
    }


class RosterDetailView(ScopedDetailView):
    """A roster's import progress (htmx polls while it runs) and its people, masked and searchable."""

    permission = "insurance.view_benefitroster"
    template_name = "insurance/roster_detail.html"
    partial_template_name = "_partials/job_progress.html"
    context_object_name = "job"  # what the shared progress partial shows
    access = selectors.access_roster

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "")
        entries = selectors.roster_entries(user=self.request.user, roster=self.object, q=q)
        context.update(_page(self.request, entries))
        return context


class RunListView(ScopedListView):
    """Certification runs of the user's offices, with their findings still to review."""

    permission = "insurance.view_eligibilitycheck"
    template_name = "insurance/run_list.html"
    filterset_class = filters.RunFilter

    def get_queryset(self) -> Any:
        return selectors.certification_runs(user=self.request.user)


class RunCreateView(ActionFormView):
    """Open a certification run."""

    permission = "insurance.add_eligibilitycheck"
    template_name = "core/form.html"
    extra_context = {"title": _lazy("发起待遇领取资格认证")}

    def get_form(self, form_class: Any = None) -> EligibilityCheckForm:
        return EligibilityCheckForm(
            self.request.POST or None,
            rosters=selectors.runnable_rosters(user=self.request.user),
            peers=exchange_selectors.trusted_peers(),
        )

    def perform(self, form: Any) -> HttpResponse:
        run = actions.certification_run_start(acting_user=acting_user(self.request), **form.cleaned_data)
        return redirect("insurance:run_detail", pk=run.pk)


FINDING_EXPORT = (
    ("姓名", "entry.name"),
    ("身份证号码", "entry.id_number_masked"),
    ("人员编号", "entry.record_id"),
    ("对方地区", "partner_name"),
    ("类别", "get_kind_display"),
    ("依据", "evidence"),
    ("匹配概率", "score"),
    ("处理", "get_status_display"),
    ("核实说明", "note"),
)


class FindingListView(ScopedListView):
    """Every finding of the user's offices across runs (by status, kind, run), with the Excel export
    a run's page links to: a long one is written in the background like every list's (issue 16)."""

    permission = "insurance.view_certificationfinding"
    template_name = "insurance/finding_list.html"
    filterset_class = filters.FindingFilter
    export_columns = FINDING_EXPORT
    export_filename = _lazy("资格认证核查发现.xlsx")

    def get_queryset(self) -> Any:
        return selectors.findings(user=self.request.user).select_related("run__roster")


class RunDetailView(ScopedDetailView):
    """A run: each partner's progress (htmx polls until done) and the findings to review, one by one
    or ticked in bulk; Excel export of the findings."""

    permission = "insurance.view_eligibilitycheck"
    template_name = "insurance/run_detail.html"
    partial_template_name = "_partials/job_progress.html"
    context_object_name = "job"  # what the shared progress partial shows
    access = selectors.access_run

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("export") == "xlsx":  # the findings list exports, at once or in the background
            run: Any = self.get_object()
            params = request.GET.copy()
            params["run"] = str(run.pk)
            return redirect(f"{reverse('insurance:finding_list')}?{params.urlencode()}")
        return super().get(request, *args, **kwargs)

    def get_object(self, queryset: Any = None) -> Any:
        # A partner that refused the request fails it here, as the page looks (issue 13 §4).
        run: Any = super().get_object(queryset)
        return actions.certification_run_check(run=run)

    def _findings(self, run: Any) -> Any:
        """The run's findings as the list's filters (the same as the API's) select them."""
        findings = selectors.findings(user=self.request.user, run=run)
        return filters.FindingFilter(self.request.GET, queryset=findings, request=self.request).qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = self.object
        context.update(_page(self.request, self._findings(run)))
        may_decide = selectors.may_decide_findings(user=self.request.user, run=run)
        context.update(
            requests=run.requests.all(),
            may_resend=selectors.may_resend_run(user=self.request.user, run=run),
            status_choices=FindingStatus.choices,
            kind_choices=FindingKind.choices,
            decision_form=FindingDecisionForm() if may_decide else None,
        )
        return context


@require_POST
@permission_required_scoped("insurance.change_certificationfinding")
def findings_bulk(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm or dismiss the ticked findings of a run (all or none)."""
    run = selectors.access_run(user=request.user, pk=pk, action="decide")
    chosen = [int(value) for value in request.POST.getlist("finding") if value.isdigit()]
    picked = list(selectors.findings(user=request.user, run=run, action="change").filter(pk__in=chosen))
    form = FindingDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(str(m) for errors in form.errors.values() for m in errors))
    else:
        perform_action(
            request,
            lambda: actions.findings_decide_bulk(
                findings=picked,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
                override_reason=form.cleaned_data["override_reason"],
                acting_user=acting_user(request),
            ),
            lambda count: _("已处理 %(count)d 条发现") % {"count": count},
        )
    return redirect(f"{reverse('insurance:run_detail', args=[run.pk])}?{request.POST.get('back', '')}")


@require_POST
@permission_required_scoped("insurance.add_eligibilitycheck")
def run_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a run again to a partner that failed (``partner`` in the form)."""
    run = selectors.access_run(user=request.user, pk=pk, action="resend")

    def resend() -> Any:
        partner = selectors.run_request(run=run, partner=str(request.POST.get("partner", "")))
        return actions.certification_request_resend(request=partner, acting_user=acting_user(request))

    perform_action(
        request, resend, lambda sent: _("已重新发送给%(partner)s") % {"partner": sent.partner_name}
    )
    return redirect("insurance:run_detail", pk=run.pk)


class FindingDetailView(ScopedDetailView):
    """One finding: who, what the partner found and why, the decision and the letter."""

    permission = "insurance.view_certificationfinding"
    template_name = "insurance/finding_detail.html"
    access = selectors.access_finding

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        may = selectors.may_change_finding(user=self.request.user, finding=self.object)
        # A decided finding still offers the form: a contrary decision, as an override with a reason.
        context["decision_form"] = FindingDecisionForm() if may else None
        context["other_runs"] = selectors.other_run_decisions(user=self.request.user, finding=self.object)
        return context


@require_POST
@permission_required_scoped("insurance.change_certificationfinding")
def finding_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm or dismiss one finding."""
    finding = selectors.access_finding(user=request.user, pk=pk, action="change")
    form = FindingDecisionForm(request.POST)
    if form.is_valid():
        confirm = form.cleaned_data["decision"] == "confirm"
        decide = actions.finding_confirm if confirm else actions.finding_dismiss
        perform_action(
            request,
            lambda: decide(
                finding=finding, note=form.cleaned_data["note"],
                override_reason=form.cleaned_data["override_reason"], acting_user=acting_user(request),
            ),
            lambda result: _("已处理：%(status)s") % {"status": result.get_status_display()},
        )  # fmt: skip
    else:
        messages.error(request, "；".join(str(m) for errors in form.errors.values() for m in errors))
    return redirect("insurance:finding_detail", pk=finding.pk)


@permission_required_scoped("insurance.view_certificationfinding")
def finding_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF letter for a confirmed finding (printing it is audited)."""
    finding = selectors.access_finding(user=request.user, pk=pk, action="view")
    try:
        pdf = actions.finding_letter(finding=finding, acting_user=acting_user(request))
    except ValidationError as exc:
        raise Http404("；".join(exc.messages)) from exc
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{finding.pk}.pdf"'
    return response


FIGURE_COLUMNS = (
    (_lazy("年度"), "year"),
    (_lazy("地区"), "region"),
    (_lazy("核查人数"), "checked"),
    (_lazy("发现"), "findings"),
    (_lazy("确认"), "confirmed"),
    (_lazy("协助其他地区认证"), "assisted"),
    (_lazy("来源"), "source"),
)


def _assisted_chart(rows: list[Any]) -> dict[str, Any]:
    """One year's panel: horizontal bars (region names on the category axis, every one labelled,
    never clipped) with each bar's value written beside it."""
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 64, "top": 8, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1, "axisLabel": {"hideOverlap": True}},
        "yAxis": {
            "type": "category",
            "inverse": True,
            "data": [row.region for row in rows],
            "axisLabel": {"interval": 0, "width": 120, "overflow": "break"},
        },
        "series": [
            {
                "name": str(_("协助认证人数")),
                "type": "bar",
                "barMaxWidth": 28,
                "data": [row.assisted for row in rows],
                "label": {"show": True, "position": "right"},
            }
        ],
    }


@permission_required_scoped("insurance.view_eligibilitycheck")
def certification_figures(request: HttpRequest) -> HttpResponse:
    """People checked, findings, confirmed and help given, per region and year: the table (also as
    Excel, ``?export=xlsx``) and one chart per year (ECharts).

    Small multiples rather than one grouped chart: the figures regions report for a past year (2019:
    over a million) would flatten this year's bars (a few hundred) to nothing on a shared axis, and a
    log scale misleads a reader comparing bar lengths. Each year's panel has its own axis and every
    bar carries its value, so a director reads the numbers, not the lengths, across years."""
    from xietong.core.exports import xlsx_response

    rows = selectors.certification_figures(user=request.user)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            [str(header) for header, _attr in FIGURE_COLUMNS],
            [[getattr(row, attr) for _header, attr in FIGURE_COLUMNS] for row in rows],
            filename=str(_("资格认证统计.xlsx")),
        )
    years = sorted({row.year for row in rows}, reverse=True)
    charts = []
    for year in years:
        shown = [row for row in rows if row.year == year]
        charts.append(
            {
                "id": f"assisted-{year}",
                "year": year,
                "height": 48 + 40 * len(shown),
                "option": _assisted_chart(shown),
            }
        )
    return render(request, "insurance/certification_figures.html", {"rows": rows, "charts": charts})

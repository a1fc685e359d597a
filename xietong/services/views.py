"""Pages of the services app. Thin: read through selectors, write through actions (ARCHITECTURE.md §3.4).

Public pages (no account, phone first): the directory of service centres and stations by district and
by service, a station's page, and the Q&A a worker reads before filing. Staff pages: stations,
12351 requests and their thread, the knowledge base, the lawyer roster and legal-aid cases, figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xietong.core import audit
from xietong.core.choices import AuditAction, OrganizationKind
from xietong.core.exports import xlsx_response
from xietong.core.generic import (
    ActionFormView,
    ScopedDetailView,
    ScopedListView,
    acting_user,
    perform_action,
    permission_required_scoped,
    public,
)
from xietong.core.selectors import organizations_for

from . import actions, filters, selectors
from .forms import (
    BenefitForm,
    CategoryForm,
    CloseForm,
    FollowupForm,
    HandoverForm,
    KnowledgeForm,
    LawyerForm,
    LegalAidOpenForm,
    MilestoneForm,
    ProviderForm,
    ReassignForm,
    ReplyForm,
    RequestForm,
    StationForm,
)
from .models import Benefit, BenefitProvider, LegalAidCase, ServiceCategory, ServiceRequest, ServiceStation

# Public: the directory and the Q&A --------------------------------------------------------------------


@public
def directory(request: HttpRequest) -> HttpResponse:
    """Service centres and stations by district and by service, phone first (no account needed)."""
    district = request.GET.get("district", "").strip()
    service = request.GET.get("service", "").strip()
    listed = selectors.public_stations()
    if district:
        listed = listed.filter(district__code=district)
    if service:
        listed = listed.filter(services__code=service)
    context = {
        "stations": listed.distinct()[:200],
        "districts": selectors.directory_districts(),
        "categories": selectors.categories(),
        "district": district,
        "service": service,
    }
    return render(request, "services/directory.html", context)


@public
def station_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One station's public page: address, hours, phone (tap to call), services."""
    station = selectors.public_station(pk)
    return render(request, "services/station_page.html", {"station": station})


@public
def qa(request: HttpRequest) -> HttpResponse:
    """The public Q&A (standard answers marked public), searched before filing a request."""
    category = request.GET.get("category", "").strip()
    q = request.GET.get("q", "").strip()
    answers = selectors.public_answers(category=category, q=q)[:100]
    context = {"answers": answers, "categories": selectors.categories(), "category": category, "q": q}
    return render(request, "services/qa.html", context)


# Staff: the service network -------------------------------------------------------------------------


class StationListView(ScopedListView):
    """The stations of the unions in the user's scope."""

    permission = "services.view_servicestation"
    template_name = "services/station_list.html"
    filterset_class = filters.StationFilter
    export_columns = (
        (gettext_lazy("名称"), "name"),
        (gettext_lazy("层级"), "get_level_display"),
        (gettext_lazy("所属工会"), "organization.name"),
        (gettext_lazy("所在区县"), "district.name"),
        (gettext_lazy("地址"), "address"),
        (gettext_lazy("开放时间"), "hours"),
        (gettext_lazy("服务电话"), "phone"),
        (gettext_lazy("服务项目"), lambda s: "、".join(c.name for c in s.services.all())),
    )
    export_filename = gettext_lazy("职工服务站点.xlsx")

    def get_queryset(self) -> Any:
        return selectors.stations(user=self.request.user)


class StationDetailView(ScopedDetailView):
    permission = "services.view_servicestation"
    template_name = "services/station_detail.html"
    access = selectors.access_station
    breadcrumb_trail = ((gettext_lazy("服务站点"), "services:station_list"),)


def _station_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = dict(data)
    fields.pop("organization", None)
    fields.pop("services", None)
    return fields


class StationCreateView(ActionFormView):
    permission = "services.add_servicestation"
    template_name = "core/form.html"
    extra_context = {"title": gettext_lazy("新建服务站点")}

    def get_form(self, form_class: Any = None) -> StationForm:
        unions = organizations_for(user=self.request.user, perm="services.add_servicestation")
        return StationForm(self.request.POST or None, organizations=unions)

    def perform(self, form: Any) -> HttpResponse:
        data = form.cleaned_data
        station = actions.station_create(
            organization=data["organization"],
            services=data["services"],
            acting_user=acting_user(self.request),
            **_station_fields(data),
        )
        return redirect("services:station_detail", pk=station.pk)


class StationEditView(ActionFormView):
    permission = "services.change_servicestation"
    action = "change"
    access = selectors.access_station
    template_name = "core/form.html"
    extra_context = {"title": gettext_lazy("修改服务站点")}

    def get_form(self, form_class: Any = None) -> StationForm:
        self.station: ServiceStation = self.access_object(self.kwargs["pk"])
        unions = organizations_for(user=self.request.user, perm="services.change_servicestation")
        station = self.station
        initial = {
            "organization": station.organization,
            "name": station.name,
            "level": station.level,
            "district": station.district_id,
            "address": station.address,
            "hours": station.hours,
            "phone": station.phone,
            "services": list(station.services.all()),
            "description": station.description,
            "active": station.active,
        }
        form = StationForm(self.request.POST or None, organizations=unions, initial=initial)
        form.fields["organization"].disabled = True
        return form

    def perform(self, form: Any) -> HttpResponse:
        data = form.cleaned_data
        actions.station_update(
            station=self.station,
            services=data["services"],
            acting_user=acting_user(self.request),
            **_station_fields(data),
        )
        return redirect("services:station_detail", pk=self.station.pk)


# Staff: requests --------------------------------------------------------------------------------------


class RequestListView(ScopedListView):
    """12351 requests of the user's scope: by status (overdue, to follow up), category, channel."""

    permission = "services.view_servicerequest"
    template_name = "services/request_list.html"
    filterset_class = filters.RequestFilter
    export_columns = (
        (gettext_lazy("受理号"), "number"),
        (gettext_lazy("渠道"), "get_channel_display"),
        (gettext_lazy("类别"), "category.name"),
        (gettext_lazy("事由"), "subject"),
        (gettext_lazy("职工姓名"), "requester_name"),
        (gettext_lazy("联系电话"), "requester_phone_masked"),
        (gettext_lazy("承办工会"), "organization.name"),
        (gettext_lazy("状态"), "get_status_display"),
        (gettext_lazy("受理时间"), lambda r: r.created_at.strftime("%Y-%m-%d %H:%M")),
        (gettext_lazy("答复时限"), "answer_due"),
        (gettext_lazy("满意度"), "satisfaction"),
    )
    export_filename = gettext_lazy("12351服务诉求.xlsx")

    def get_queryset(self) -> Any:
        return selectors.service_requests(user=self.request.user)


class RequestCreateView(ActionFormView):
    """Log a hotline call, a walk-in or a web message; the request is routed on saving."""

    permission = "services.add_servicerequest"
    template_name = "core/form.html"
    extra_context = {"title": gettext_lazy("登记服务诉求")}

    def get_form(self, form_class: Any = None) -> RequestForm:
        allowed = organizations_for(user=self.request.user, perm="services.add_servicerequest")
        return RequestForm(self.request.POST or None, organizations=allowed, initial={"channel": "hotline"})

    def perform(self, form: Any) -> HttpResponse:
        data = dict(form.cleaned_data)
        user = acting_user(self.request)
        hotline = data["channel"] == "hotline"
        service_request = actions.request_file(
            call_taken_by=user if hotline else None,
            call_seconds=data.pop("call_seconds") if hotline else None,
            acting_user=user,
            **{k: v for k, v in data.items() if k != "call_seconds"},
        )
        return redirect("services:request_detail", pk=service_request.pk)


class RequestDetailView(ScopedDetailView):
    """One request: who asks and what, the limits, the thread, and the officer's next steps."""

    permission = "services.view_servicerequest"
    template_name = "services/request_detail.html"
    access = selectors.access_request
    breadcrumb_trail = ((gettext_lazy("12351服务诉求"), "services:request_list"),)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        service_request: ServiceRequest = self.object
        user = self.request.user
        context.update(
            thread=selectors.thread(service_request),
            overdue=selectors.is_overdue(service_request),
            reply_form=ReplyForm(),
            reassign_form=ReassignForm(organizations=selectors.reassign_targets(user=user)),
            handover_form=HandoverForm(nodes=selectors.handover_nodes()),
            close_form=CloseForm(),
            followup_form=FollowupForm(),
            suggestions=selectors.search_knowledge(
                selectors.knowledge(user=user).filter(category=service_request.category),
                self.request.GET.get("kb", ""),
            )[:8],
            kb=self.request.GET.get("kb", ""),
            legal_aid=LegalAidCase.objects.filter(request=service_request).first(),
            legal_form=LegalAidOpenForm(lawyers=selectors.roster_for(service_request))
            if service_request.category.legal_aid
            else None,
        )
        return context


def _reply(request: HttpRequest, service_request: ServiceRequest, user: Any) -> Callable[[], Any]:
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        raise ValidationError(form.errors.as_text())
    data = form.cleaned_data
    return lambda: actions.request_reply(
        service_request=service_request,
        text=data["text"],
        kind=data["kind"],
        final=data["final"],
        attachment=data["attachment"],
        acting_user=user,
    )


def _reassign(request: HttpRequest, service_request: ServiceRequest, user: Any) -> Callable[[], Any]:
    form = ReassignForm(request.POST, organizations=selectors.reassign_targets(user=user))
    if not form.is_valid():
        raise ValidationError(_("请选择您有权交办的工会"))
    union = form.cleaned_data["organization"]
    return lambda: actions.request_reassign(
        service_request=service_request, organization=union, acting_user=user
    )


def _handover(request: HttpRequest, service_request: ServiceRequest, user: Any) -> Callable[[], Any]:
    form = HandoverForm(request.POST, nodes=selectors.handover_nodes())
    if not form.is_valid():
        raise ValidationError(_("请选择名册中的其他地区节点"))
    data = form.cleaned_data
    return lambda: actions.request_handover(
        service_request=service_request,
        to_node=data["to_node"],
        union_code=data["union_code"],
        note=data["note"],
        acting_user=user,
    )


def _close(request: HttpRequest, service_request: ServiceRequest, user: Any) -> Callable[[], Any]:
    form = CloseForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("满意度应为1到5分"))
    data = form.cleaned_data
    return lambda: actions.request_close(
        service_request=service_request,
        satisfaction=data["satisfaction"],
        comment=data["comment"],
        acting_user=user,
    )


def _followup(request: HttpRequest, service_request: ServiceRequest, user: Any) -> Callable[[], Any]:
    note = request.POST.get("note", "")
    return lambda: actions.request_followup(service_request=service_request, note=note, acting_user=user)


def _acknowledge(request: HttpRequest, service_request: ServiceRequest, user: Any) -> Callable[[], Any]:
    return lambda: actions.request_acknowledge(service_request=service_request, acting_user=user)


REQUEST_STEPS: dict[str, tuple[Callable[..., Callable[[], Any]], Any]] = {
    "acknowledge": (_acknowledge, gettext_lazy("已签收")),
    "reply": (_reply, gettext_lazy("已记录")),
    "reassign": (_reassign, gettext_lazy("已转交")),
    "handover": (_handover, gettext_lazy("已转交对方节点；对方节点暂时无法连接时，恢复后自动送达")),
    "close": (_close, gettext_lazy("已办结")),
    "followup": (_followup, gettext_lazy("已记录回访")),
}


@require_POST
@permission_required_scoped("services.change_servicerequest")
def request_step(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """One step of a request: acknowledge, reply or note, reassign, hand to another node, close with
    the rating, record the follow-up call."""
    if what not in REQUEST_STEPS:
        raise Http404
    service_request = selectors.access_request(user=request.user, pk=pk, action="change")
    build, done = REQUEST_STEPS[what]
    user = acting_user(request)
    try:
        call = build(request, service_request, user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        perform_action(request, call, lambda _result: str(done))
    return redirect("services:request_detail", pk=service_request.pk)


@permission_required_scoped("services.view_servicerequest")
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """An attachment of a request's thread, for staff who may see the request."""
    entry = selectors.access_entry(user=request.user, pk=pk)
    if not entry.attachment:
        raise Http404
    return FileResponse(entry.attachment.open("rb"), as_attachment=True, filename=entry.attachment_name)


@require_POST
@permission_required_scoped("services.add_legalaidcase")
def request_legal_aid(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a request into a legal-aid case with a lawyer from the roster."""
    service_request = selectors.access_request(user=request.user, pk=pk, action="services.add_legalaidcase")
    form = LegalAidOpenForm(request.POST, lawyers=selectors.roster_for(service_request))
    if not form.is_valid():
        messages.error(request, _("请从律师库中选择承办律师"))
        return redirect("services:request_detail", pk=service_request.pk)
    user = acting_user(request)
    opened = perform_action(
        request,
        lambda: actions.legal_aid_open(
            service_request=service_request, lawyer=form.cleaned_data["lawyer"], acting_user=user
        ),
        lambda case: _("已立案，承办律师：%(lawyer)s") % {"lawyer": case.lawyer.name},
    )
    if opened:
        return redirect("services:case_detail", pk=service_request.legal_aid.pk)
    return redirect("services:request_detail", pk=service_request.pk)


# Staff: knowledge base ---------------------------------------------------------------------------------


class KnowledgeListView(ScopedListView):
    permission = "services.view_knowledgeanswer"
    template_name = "services/knowledge_list.html"
    filterset_class = filters.KnowledgeFilter

    def get_queryset(self) -> Any:
        return selectors.knowledge(user=self.request.user)


class KnowledgeFormView(ActionFormView):
    """Write a standard answer (``pk`` absent) or change one."""

    permission = "services.add_knowledgeanswer"
    template_name = "core/form.html"
    access = selectors.access_knowledge
    answer: Any = None

    def required_permission(self) -> str:
        return "services.change_knowledgeanswer" if "pk" in self.kwargs else self.permission

    def required_action(self) -> str:
        return "change"

    def get_form(self, form_class: Any = None) -> KnowledgeForm:
        unions = organizations_for(user=self.request.user, perm=self.required_permission())
        initial: dict[str, Any] = {}
        if "pk" in self.kwargs:
            self.answer = self.access_object(self.kwargs["pk"])
            initial = {
                "organization": self.answer.organization,
                "category": self.answer.category,
                "question": self.answer.question,
                "text": self.answer.answer,
                "keywords": self.answer.keywords,
                "public": self.answer.public,
            }
        return KnowledgeForm(self.request.POST or None, organizations=unions, initial=initial)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["title"] = _("修改标准答复") if self.answer else _("新建标准答复")
        return context

    def perform(self, form: Any) -> HttpResponse:
        actions.knowledge_save(answer=self.answer, acting_user=acting_user(self.request), **form.cleaned_data)
        return redirect("services:knowledge_list")


# Staff: legal aid -------------------------------------------------------------------------------------


class LawyerListView(ScopedListView):
    permission = "services.view_lawyer"
    template_name = "services/lawyer_list.html"
    filterset_class = filters.LawyerFilter

    def get_queryset(self) -> Any:
        return selectors.lawyers(user=self.request.user)


class LawyerCreateView(ActionFormView):
    permission = "services.add_lawyer"
    template_name = "core/form.html"
    extra_context = {"title": gettext_lazy("登记援助律师")}

    def get_form(self, form_class: Any = None) -> LawyerForm:
        unions = organizations_for(user=self.request.user, perm="services.add_lawyer")
        return LawyerForm(self.request.POST or None, organizations=unions)

    def perform(self, form: Any) -> HttpResponse:
        actions.lawyer_create(acting_user=acting_user(self.request), **form.cleaned_data)
        return redirect("services:lawyer_list")


class CaseListView(ScopedListView):
    permission = "services.view_legalaidcase"
    template_name = "services/case_list.html"
    filterset_class = filters.CaseFilter
    export_columns = (
        (gettext_lazy("受理号"), "request.number"),
        (gettext_lazy("职工姓名"), "request.requester_name"),
        (gettext_lazy("承办工会"), "organization.name"),
        (gettext_lazy("承办律师"), "lawyer.name"),
        (gettext_lazy("阶段"), "get_status_display"),
        (gettext_lazy("结果"), "get_outcome_display"),
        (gettext_lazy("立案日期"), "opened_on"),
        (gettext_lazy("结案日期"), "closed_on"),
    )
    export_filename = gettext_lazy("法律援助案件.xlsx")

    def get_queryset(self) -> Any:
        return selectors.legal_aid_cases(user=self.request.user)


class CaseDetailView(ScopedDetailView):
    permission = "services.view_legalaidcase"
    template_name = "services/case_detail.html"
    access = selectors.access_case
    breadcrumb_trail = ((gettext_lazy("法律援助"), "services:case_list"),)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        case: LegalAidCase = self.object
        moves = LegalAidCase.TRANSITIONS.get(case.status, ())
        form = MilestoneForm()
        form.fields["stage"].choices = [c for c in form.fields["stage"].choices if c[0] in moves]  # type: ignore[attr-defined]
        context.update(milestones=case.milestones.all(), milestone_form=form if moves else None)
        return context


@require_POST
@permission_required_scoped("services.change_legalaidcase")
def case_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the next milestone of a case (closing with its outcome)."""
    case = selectors.access_case(user=request.user, pk=pk, action="change")
    form = MilestoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择阶段并填写日期"))
    else:
        user = acting_user(request)
        perform_action(
            request,
            lambda: actions.legal_aid_milestone(case=case, acting_user=user, **form.cleaned_data),
            lambda milestone: _("已记录：%(stage)s") % {"stage": milestone.get_stage_display()},
        )
    return redirect("services:case_detail", pk=case.pk)


# Figures ------------------------------------------------------------------------------------------------


@permission_required_scoped("services.view_servicerequest")
def figures(request: HttpRequest) -> HttpResponse:
    """Volume by category, channel and union; on-time rate; satisfaction (ECharts, the tables, Excel)."""
    data = selectors.figures(user=request.user)
    if request.GET.get("export") == "xlsx":
        rows = [
            *((_("类别"), name, count) for name, count in data["by_category"]),
            *((_("渠道"), name, count) for name, count in data["by_channel"]),
            *((_("承办工会"), name, count) for name, count in data["by_union"]),
            *((_("满意度"), f"{score} ★", count) for score, count in data["stars"]),
            (_("按时答复率（%）"), "", data["on_time_rate"]),
            (_("平均满意度"), "", data["satisfaction"]),
        ]
        audit.record(
            AuditAction.EXPORT,
            target_type="services.servicerequest",
            acting_user=acting_user(request),
            detail={"filename": "figures"},
        )
        return xlsx_response([_("维度"), _("项目"), _("件数")], rows, filename=_("12351服务统计.xlsx"))

    def bar(items: list[tuple[Any, int]], name: str) -> dict[str, Any]:
        return {
            "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": [str(label) for label, _c in items]},
            "series": [{"name": name, "type": "bar", "data": [count for _l, count in items]}],
            "grid": {"left": 120},
        }

    context = {
        **data,
        "category_chart": bar(data["by_category"], _("件数")),
        "channel_chart": {
            "tooltip": {"trigger": "item"},
            "series": [
                {
                    "type": "pie",
                    "radius": "65%",
                    "data": [{"name": name, "value": count} for name, count in data["by_channel"]],
                }
            ],
        },
        "stars_chart": bar([(f"{score} ★", count) for score, count in data["stars"]], _("评价数")),
    }
    return render(request, "services/figures.html", context)


# Universal benefits on the card (普惠服务) --------------------------------------------------------


class BenefitListView(ScopedListView):
    """The benefit items of the providers of the user's scope, with eligibility, limit and dates."""

    permission = "services.view_benefit"
    template_name = "services/benefit_list.html"
    filterset_class = filters.BenefitFilter

    def get_queryset(self) -> Any:
        return selectors.benefits(user=self.request.user).prefetch_related("unions", "regions")


class BenefitUseListView(ScopedListView):
    """Uses of benefit items: a union sees its providers', a provider's desk its own only."""

    permission = "services.view_benefituse"
    template_name = "services/benefit_use_list.html"
    filterset_class = filters.BenefitUseFilter
    export_columns = (
        (gettext_lazy("使用时间"), lambda u: u.created_at.strftime("%Y-%m-%d %H:%M")),
        (gettext_lazy("合作单位"), "benefit.provider.name"),
        (gettext_lazy("普惠服务项目"), "benefit.name"),
        (gettext_lazy("会员"), "member.person.name"),
        (gettext_lazy("所属工会"), "member.organization.name"),
        (gettext_lazy("核验窗口"), "service_point.name"),
    )
    export_filename = gettext_lazy("普惠服务使用记录.xlsx")

    def get_queryset(self) -> Any:
        return selectors.benefit_uses(user=self.request.user)


class ProviderFormView(ActionFormView):
    """Register a partner provider of a union of the user's scope, with its card desks (``pk``
    absent), or change one of the user's scope."""

    permission = "services.add_benefitprovider"
    template_name = "core/form.html"
    access = selectors.access_provider
    provider: BenefitProvider | None = None

    def required_permission(self) -> str:
        return "services.change_benefitprovider" if "pk" in self.kwargs else self.permission

    def required_action(self) -> str:
        return "change"

    def get_form(self, form_class: Any = None) -> ProviderForm:
        initial: dict[str, Any] = {}
        if "pk" in self.kwargs:
            self.provider = provider = self.access_object(self.kwargs["pk"])
            initial = {
                "organization": provider.organization,
                "name": provider.name,
                "kind": provider.kind,
                "district": provider.district.code if provider.district else "",
                "address": provider.address,
                "phone": provider.phone,
                "service_points": list(provider.service_points.all()),
                "active": provider.active,
            }
        form = ProviderForm(
            self.request.POST or None,
            organizations=organizations_for(user=self.request.user, perm=self.required_permission()),
            service_points=selectors.provider_service_point_choices(
                user=self.request.user, perm=self.required_permission()
            ),
            initial=initial,
        )
        if self.provider is not None:
            form.fields["organization"].disabled = True
        return form

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["title"] = _("修改普惠服务合作单位") if self.provider else _("登记普惠服务合作单位")
        return context

    def perform(self, form: Any) -> HttpResponse:
        data = form.cleaned_data
        actions.provider_save(provider=self.provider, acting_user=acting_user(self.request), **data)
        return redirect("services:benefit_list")


class BenefitFormView(ActionFormView):
    """Offer a benefit item at a provider of the user's scope (``pk`` absent), or change one."""

    permission = "services.add_benefit"
    template_name = "core/form.html"
    access = selectors.access_benefit
    benefit: Benefit | None = None

    def required_permission(self) -> str:
        return "services.change_benefit" if "pk" in self.kwargs else self.permission

    def required_action(self) -> str:
        return "change"

    def get_form(self, form_class: Any = None) -> BenefitForm:
        user = self.request.user
        perm = self.required_permission()
        initial: dict[str, Any] = {}
        if "pk" in self.kwargs:
            self.benefit = benefit = self.access_object(self.kwargs["pk"])
            initial = {
                "provider": benefit.provider,
                "name": benefit.name,
                "kind": benefit.kind,
                "description": benefit.description,
                "limit_count": benefit.limit_count,
                "limit_period": benefit.limit_period,
                "valid_from": benefit.valid_from,
                "valid_until": benefit.valid_until,
                "unions": list(benefit.unions.all()),
                "region_codes": ", ".join(region.code for region in benefit.regions.all()),
                "active": benefit.active,
            }
        return BenefitForm(
            self.request.POST or None,
            providers=selectors.providers(user=user, action=perm),
            unions=organizations_for(user=user, perm=perm).filter(kind__in=OrganizationKind.union_kinds()),
            initial=initial,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["title"] = _("修改普惠服务项目") if self.benefit else _("新建普惠服务项目")
        return context

    def perform(self, form: Any) -> HttpResponse:
        data = dict(form.cleaned_data)
        regions = data.pop("region_codes")
        actions.benefit_save(
            benefit=self.benefit, regions=regions, acting_user=acting_user(self.request), **data
        )
        return redirect("services:benefit_list")


# Request categories (node-wide reference data) ---------------------------------------------------


@permission_required_scoped("services.change_servicecategory")
def category_list(request: HttpRequest) -> HttpResponse:
    """Every request category of this node with its time limits, for the officers who set them."""
    context = {"categories": selectors.categories(active_only=False)}
    return render(request, "services/category_list.html", context)


class CategoryEditView(ActionFormView):
    """Change a request category's name, time limits (working days), legal aid, active and place."""

    permission = "services.change_servicecategory"
    action = "change"
    access = selectors.access_category
    template_name = "core/form.html"
    extra_context = {"title": gettext_lazy("修改服务类别")}

    def get_form(self, form_class: Any = None) -> CategoryForm:
        self.category: ServiceCategory = self.access_object(self.kwargs["pk"])
        category = self.category
        initial = {
            "name": category.name,
            "acknowledge_days": category.acknowledge_days,
            "answer_days": category.answer_days,
            "legal_aid": category.legal_aid,
            "active": category.active,
            "order": category.order,
        }
        return CategoryForm(self.request.POST or None, initial=initial)

    def perform(self, form: Any) -> HttpResponse:
        category = actions.category_save(
            category=self.category, acting_user=acting_user(self.request), **form.cleaned_data
        )
        messages.success(self.request, _("已保存服务类别“%(name)s”") % {"name": category.name})
        return redirect("services:category_list")


@permission_required_scoped("services.view_benefituse")
def benefit_figures(request: HttpRequest) -> HttpResponse:
    """Uses per benefit item and per provider (ECharts, the tables, Excel); a desk sees its own."""
    data = selectors.benefit_figures(user=request.user)
    if request.GET.get("export") == "xlsx":
        rows = [
            *((_("普惠服务项目"), name, count) for name, count in data["by_item"]),
            *((_("合作单位"), name, count) for name, count in data["by_provider"]),
        ]
        audit.record(
            AuditAction.EXPORT,
            target_type="services.benefituse",
            acting_user=acting_user(request),
            detail={"filename": "benefit-figures"},
        )
        return xlsx_response([_("维度"), _("项目"), _("使用次数")], rows, filename=_("普惠服务统计.xlsx"))

    def bar(items: list[tuple[Any, int]]) -> dict[str, Any]:
        return {
            "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": [str(label) for label, _c in items]},
            "series": [{"name": str(_("使用次数")), "type": "bar", "data": [count for _l, count in items]}],
            "grid": {"left": 160},
        }

    context = {**data, "item_chart": bar(data["by_item"]), "provider_chart": bar(data["by_provider"])}
    return render(request, "services/benefit_figures.html", context)

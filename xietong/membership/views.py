"""Pages of the membership app. Thin: read through selectors, write through actions (ARCHITECTURE.md §3.4).

Public pages (no account): the join form a QR code opens, the application's status, the member's
e-card. Staff pages: the review queue, the member roll, outreach events, card verification.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_POST

from xietong.core import pii, ratelimit
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

from . import actions, desk, filters, selectors
from .choices import ApplicationStatus, Benefit, MemberStatus
from .forms import (
    ImportForm,
    JoinFindForm,
    JoinForm,
    JoinStatusForm,
    LinkEmployerForm,
    OutreachEventForm,
    RejectForm,
    TransferForm,
    VerifyForm,
)
from .models import CardPrintJob, Member, MemberImport, OutreachEvent


def qr_svg(text: str, *, scale: int = 5) -> str:
    """An inline SVG QR code (segno), safe to put in a page."""
    return mark_safe(segno.make(text, error="m").svg_inline(scale=scale, border=2))  # noqa: S308  # segno's own SVG


# Public: join, status, e-card ----------------------------------------------------------------------


@public
def join(request: HttpRequest, org_code: str = "", event_code: str = "") -> HttpResponse:
    """The page a join QR code opens: the union's name, the privacy notice, four fields.

    A valid submission is answered with the same receipt page whatever the ID number's state
    (member, pending applicant, new); the outcome is told only on the status page (defect 4).
    Submissions are rate-limited per address and per ID number."""
    event = selectors.outreach_event_by_code(event_code) if event_code else None
    organization = event.organization if event else selectors.join_organization(org_code)
    if organization is None:
        raise Http404(_("入会二维码无效：找不到对应的工会"))
    if request.method == "POST" and ratelimit.exceeded(
        request, "join", id_number=request.POST.get("id_number", "")
    ):
        return ratelimit.refused(request)
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            receipt = actions.join_application_submit(
                organization=organization, event=event, **form.cleaned_data
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            context = {"organization": organization, "token": receipt.token}
            return render(request, "membership/join_received.html", context)
    return render(
        request, "membership/join.html", {"form": form, "organization": organization, "event": event}
    )


@public
def join_status(request: HttpRequest, token: str) -> HttpResponse:
    """Where the worker's application stands, shown once the phone number given matches the one on
    record; a wrong number learns nothing (the same page for every state). Look-ups are
    rate-limited per address and per ID number."""
    subject = selectors.join_status_subject(token)
    if subject is None:  # a bad or expired link: offer the look-up by ID number and phone
        return _join_find_page(request, JoinFindForm(), link_invalid=True, status=404)
    organization, id_number_index = subject
    form = JoinStatusForm(request.POST or None)
    outcome = None
    if request.method == "POST":
        if ratelimit.exceeded(request, "join_status", id_number=id_number_index):
            return ratelimit.refused(request)
        if form.is_valid():
            outcome = selectors.join_outcome(token=token, phone_number=form.cleaned_data["phone_number"])
            if outcome is None:
                form.add_error("phone_number", _("手机号码与申请记录不符，请填写提交申请时的手机号码"))
    context = {"organization": organization, "form": form, "outcome": outcome}
    return render(request, "membership/join_status.html", context)


@public
def join_find(request: HttpRequest) -> HttpResponse:
    """Find an application again with the ID number and the phone given when applying (for a worker
    who lost the status link). The outcome shows only when both match; every other case (no such
    number, a wrong phone) gets the same answer. Rate-limited per address and per ID number."""
    form = JoinFindForm(request.POST or None)
    if request.method != "POST":
        return _join_find_page(request, form)
    if ratelimit.exceeded(request, "join_find", id_number=request.POST.get("id_number", "")):
        return ratelimit.refused(request)
    outcome = None
    if form.is_valid():
        try:
            outcome = selectors.join_find(**form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
    return _join_find_page(request, form, outcome=outcome, searched=form.is_valid() and not form.errors)


def _join_find_page(
    request: HttpRequest, form: JoinFindForm, *, status: int = 200, **context: Any
) -> HttpResponse:
    return render(request, "membership/join_find.html", {"form": form, **context}, status=status)


@public
def ecard(request: HttpRequest, token: str) -> HttpResponse:
    """The member's e-card on the phone: a QR code with a fresh signed token (htmx refreshes it)."""
    application = selectors.join_application_by_token(token)
    if application is None or application.member is None:  # offer the look-up, as a bad status link does
        return _join_find_page(request, JoinFindForm(), link_invalid=True, status=404)
    card = selectors.active_card(application.member)
    context: dict[str, Any] = {"application": application, "member": application.member, "card": card}
    if card is not None:
        card_token = selectors.card_token(card)
        context.update(card_token=card_token, qr=qr_svg(card_token, scale=4))
    template = "membership/_partials/ecard.html" if request.htmx else "membership/ecard.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@public
def public_key(request: HttpRequest) -> JsonResponse:
    """The node's published card-signing key, for service points that verify offline, and its
    earlier keys (cards printed before a key rotation are signed with one of them)."""
    from django.conf import settings

    keys = pii.node_signing_keys()
    earlier = [key.public_key for key in keys[:-1]]
    return JsonResponse(
        {
            "node": settings.XIETONG_NODE_ID,
            "algorithm": "Ed25519",
            "public_key": keys[-1].public_key,
            "earlier_keys": earlier,
        }
    )


# Staff: review queue -------------------------------------------------------------------------------


class ApplicationListView(ScopedListView):
    """The review queue: filter by status, search, approve one or many, reject with a reason."""

    permission = "membership.view_joinapplication"
    template_name = "membership/application_list.html"
    partial_template_name = "membership/_partials/application_table.html"
    export_columns = (
        (gettext_lazy("姓名"), "name"),
        (gettext_lazy("身份证号码"), "id_number_masked"),
        (gettext_lazy("手机号码"), "phone_masked"),
        (gettext_lazy("工作单位"), "employer_name"),
        (gettext_lazy("申请加入"), "organization.name"),
        (gettext_lazy("状态"), "get_status_display"),
        (gettext_lazy("提交时间"), lambda a: a.created_at.strftime("%Y-%m-%d %H:%M")),
    )
    export_filename = gettext_lazy("入会申请.xlsx")
    filterset_class = filters.ApplicationFilter
    filter_defaults = {"status": ApplicationStatus.SUBMITTED}

    def get_queryset(self) -> Any:
        return selectors.join_applications(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["reject_form"] = RejectForm()
        return context


@require_POST
@permission_required_scoped("membership.change_joinapplication")
def application_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve one application (the member is made and the e-card issued)."""
    application = selectors.access_application(user=request.user, pk=pk, action="change")
    perform_action(
        request,
        lambda: actions.join_application_approve(application=application, acting_user=acting_user(request)),
        lambda member: (
            _("已通过：%(name)s，会员编号 %(number)s") % {"name": member.person.name, "number": member.number}
        ),
    )
    return redirect(f"{reverse('membership:application_list')}?{request.POST.get('querystring', '')}")


@require_POST
@permission_required_scoped("membership.change_joinapplication")
def application_approve_bulk(request: HttpRequest) -> HttpResponse:
    """Approve the ticked applications; each refusal is reported with its reason."""
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    chosen = list(selectors.join_applications(user=request.user, action="change").filter(pk__in=ids))
    if not chosen:
        messages.warning(request, _("请先勾选要通过的申请"))
    else:
        outcome = actions.join_applications_approve_bulk(
            applications=chosen, acting_user=acting_user(request)
        )
        if outcome.approved:
            messages.success(request, _("已通过 %(count)d 份申请") % {"count": len(outcome.approved)})
        for application, reason in outcome.refused:
            messages.error(request, f"{application.name}：{reason}")
    return redirect("membership:application_list")


@require_POST
@permission_required_scoped("membership.change_joinapplication")
def application_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject with a reason."""
    application = selectors.access_application(user=request.user, pk=pk, action="change")
    form = RejectForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    perform_action(
        request,
        lambda: actions.join_application_reject(
            application=application, reason=reason, acting_user=acting_user(request)
        ),
        lambda _result: _("已退回：%(name)s") % {"name": application.name},
    )
    return redirect("membership:application_list")


# Staff: members and cards --------------------------------------------------------------------------


class MemberListView(ScopedListView):
    """The member roll (实名制信息): search by name, number, employer or ID number; filter by status."""

    permission = "membership.view_member"
    template_name = "membership/member_list.html"
    partial_template_name = "membership/_partials/member_table.html"
    export_columns = (
        (gettext_lazy("会员编号"), "number"),
        (gettext_lazy("姓名"), "person.name"),
        (gettext_lazy("身份证号码"), "person.id_number_masked"),
        (gettext_lazy("性别"), "person.get_gender_display"),
        # the year only without reveal (issue 11, defect 3)
        (gettext_lazy("出生日期"), pii.birth_column("person")),
        (gettext_lazy("所属工会"), "organization.name"),
        (gettext_lazy("工作单位"), "employer.name"),
        (gettext_lazy("入会日期"), "joined_on"),
        (gettext_lazy("会籍状态"), "get_status_display"),
    )
    export_filename = gettext_lazy("会员名册.xlsx")
    filterset_class = filters.MemberFilter

    def get_queryset(self) -> Any:
        return selectors.members(user=self.request.user)


class MemberDetailView(ScopedDetailView):
    """One member: identity (masked), union, cards, the history of every change."""

    permission = "membership.view_member"
    template_name = "membership/member_detail.html"
    breadcrumb_trail = ((gettext_lazy("会员"), "membership:member_list"),)

    def get_object(self, queryset: Any = None) -> Member:
        return selectors.access_member(user=self.request.user, pk=self.kwargs["pk"], action="view")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        member: Member = self.object
        uses = selectors.card_uses(user=self.request.user).filter(card__member=member)[:20]
        context["transfer_form"] = TransferForm(unions=selectors.transfer_targets(member))
        moves = Member.TRANSITIONS.get(member.status, ())
        context["status_moves"] = [(value, label) for value, label in MemberStatus.choices if value in moves]
        context["employer_form"] = LinkEmployerForm(
            employers=selectors.member_employer_choices(user=self.request.user, member=member)
        )
        context["can_issue_card"] = (
            member.status == MemberStatus.ACTIVE and selectors.active_card(member) is None
        )
        context["transfers"] = selectors.member_transfers(member)
        context.update(cards=member.cards.all(), history=selectors.member_history(member), uses=uses)
        return context


@require_POST
@permission_required_scoped("membership.change_member")
def member_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Suspend, reinstate, record leaving or death (the workflow says which moves are allowed); the
    page asks for confirmation and a reason first, and the action refuses a destructive move without one."""
    member = selectors.access_member(user=request.user, pk=pk, action="change")
    status = request.POST.get("status", "")
    if status not in MemberStatus.values:
        messages.error(request, _("请选择会籍状态"))
    else:
        perform_action(
            request,
            lambda: actions.member_set_status(
                member=member,
                status=status,
                reason=request.POST.get("reason", ""),
                acting_user=acting_user(request),
            ),
            lambda moved: _("会籍状态已改为：%(status)s") % {"status": moved.get_status_display()},
        )
    return redirect("membership:member_detail", pk=member.pk)


@require_POST
@permission_required_scoped("membership.change_member")
def member_employer(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the member to a registered employer (for the name typed when joining)."""
    member = selectors.access_member(user=request.user, pk=pk, action="change")
    form = LinkEmployerForm(
        request.POST, employers=selectors.member_employer_choices(user=request.user, member=member)
    )
    if not form.is_valid():
        messages.error(request, _("请选择已登记的工作单位"))
    else:
        employer = form.cleaned_data["employer"]
        perform_action(
            request,
            lambda: actions.member_link_employer(
                member=member, employer=employer, acting_user=acting_user(request)
            ),
            lambda _result: _("工作单位已关联：%(name)s") % {"name": employer.name},
        )
    return redirect("membership:member_detail", pk=member.pk)


@require_POST
@permission_required_scoped("membership.change_membercard")
def member_card_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a card to a member who has none in use (e.g. one imported in bulk)."""
    # Issuing a card is a card right over the member's union (``change_membercard`` there).
    member = selectors.access_member(user=request.user, pk=pk, action="membership.change_membercard")
    perform_action(
        request,
        lambda: actions.member_card_issue(member=member, acting_user=acting_user(request)),
        lambda card: _("已发卡，卡号 %(number)s") % {"number": card.number},
    )
    return redirect("membership:member_detail", pk=member.pk)


@require_POST
@permission_required_scoped("membership.change_membercard")
def members_card_issue_bulk(request: HttpRequest) -> HttpResponse:
    """Issue cards, in one audited action, to the members the roll's filters find (the querystring of
    the page the button was on) that are active and hold no card in use."""
    from django.http import QueryDict

    params = QueryDict(request.POST.get("querystring", ""))
    scoped = selectors.members(user=request.user, action="membership.change_membercard")
    found = filters.MemberFilter(params, queryset=scoped, request=request).qs
    todo = list(selectors.members_without_card(found))
    issued = actions.cards_issue_bulk(members=todo, acting_user=acting_user(request))
    if issued:
        messages.success(request, _("已为 %(count)d 名会员发卡") % {"count": issued})
    else:
        messages.warning(request, _("筛选出的会员都已有正常使用的会员卡，未发卡"))
    return redirect(f"{reverse('membership:member_list')}?{params.urlencode()}")


#: What each card button does, what it says when done, and whether it needs a reason (and so a
#: confirmation with a reason on the page).
CARD_ACTIONS = {
    "lost": (actions.card_report_lost, gettext_noop("已挂失，此卡立即停止核验")),
    "suspend": (actions.card_suspend, gettext_noop("已暂停使用")),
    "resume": (actions.card_resume, gettext_noop("已恢复使用")),
    "replace": (actions.card_replace, gettext_noop("已补换新卡")),
}


@require_POST
@permission_required_scoped("membership.change_membercard")
def card_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """Report lost, suspend, resume or replace a card (with the reason the confirmation asked for)."""
    if what not in CARD_ACTIONS:
        raise Http404
    card = selectors.access_card(user=request.user, pk=pk, action="change")
    action, done = CARD_ACTIONS[what]
    user, reason = acting_user(request), request.POST.get("reason", "")
    perform_action(
        request, lambda: action(card=card, acting_user=user, reason=reason), lambda _result: _(done)
    )
    return redirect("membership:member_detail", pk=card.member_id)


# Staff: outreach events and join codes -------------------------------------------------------------


class EventListView(ScopedListView):
    """Outreach events with their figures so far."""

    permission = "membership.view_outreachevent"
    template_name = "membership/event_list.html"

    filterset_class = filters.EventFilter

    def get_queryset(self) -> Any:
        return selectors.outreach_events(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        unions = organizations_for(user=self.request.user, perm="membership.change_joinapplication")
        context["join_codes"] = [
            (
                org,
                qr_svg(self.request.build_absolute_uri(reverse("membership:join", args=[org.code])), scale=3),
            )
            for org in unions.exclude(code="")[:6]
        ]
        return context


class EventCreateView(ActionFormView):
    """Create an outreach event."""

    permission = "membership.add_outreachevent"
    template_name = "core/form.html"
    extra_context = {"title": gettext_lazy("新建职工沟通会")}

    def get_form(self, form_class: Any = None) -> OutreachEventForm:
        return OutreachEventForm(
            self.request.POST or None,
            organizations=organizations_for(user=self.request.user, perm="membership.add_outreachevent"),
        )

    def perform(self, form: Any) -> HttpResponse:
        event = actions.outreach_event_create(acting_user=acting_user(self.request), **form.cleaned_data)
        return redirect("membership:event_detail", pk=event.pk)


class EventDetailView(ScopedDetailView):
    """The live page of an event: its QR code and the joins and cards so far (htmx polling)."""

    permission = "membership.view_outreachevent"
    template_name = "membership/event_detail.html"
    breadcrumb_trail = ((gettext_lazy("职工沟通会"), "membership:event_list"),)
    partial_template_name = "membership/_partials/event_figures.html"

    def get_object(self, queryset: Any = None) -> OutreachEvent:
        return selectors.access_event(user=self.request.user, pk=self.kwargs["pk"], action="view")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        event: OutreachEvent = self.object
        url = self.request.build_absolute_uri(reverse("membership:join_event", args=[event.code]))
        context.update(join_url=url, qr=qr_svg(url, scale=6))
        return context


# Service points -------------------------------------------------------------------------------------


@permission_required_scoped("membership.verify_membercard")
def verify(request: HttpRequest) -> HttpResponse:
    """A service point desk checks a card: the e-card's QR code (the device's camera or a scanner
    gun) or the card number typed by hand with the last four characters of the ID number. The
    verdict, accepted (the use recorded) or refused with why, shows in large type. Typed numbers are
    limited per desk and per card number."""
    points = selectors.service_points_for(request.user)
    form = VerifyForm(request.POST or None, service_points=points, initial={"service_point": points.first()})
    result: dict[str, Any] = {}
    if request.method == "POST":
        if form.is_valid():
            result = _desk_verdict(request, form)
            kept = {
                "service_point": form.cleaned_data["service_point"],
                "benefit": form.cleaned_data["benefit"],
            }
            form = VerifyForm(service_points=points, initial=kept)
        else:
            errors = [error for errors in form.errors.values() for error in errors]
            result = {"ok": False, "reason": errors[0] if errors else _("请检查输入")}
    template = "membership/_partials/verify_result.html" if request.htmx else "membership/verify.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "result": result, "points": points})


def _desk_verdict(request: HttpRequest, form: VerifyForm) -> dict[str, Any]:
    """Run the check the form asks for; the verdict as the result partial shows it."""
    data, user = form.cleaned_data, acting_user(request)
    where = {"service_point": data["service_point"], "benefit": data["benefit"], "acting_user": user}
    hook = desk.hook_for(data["benefit"])  # a benefit item another app keeps (its own limits)
    try:
        if form.by_number:
            number = data["card_number"]
            desk_key = f"{data['service_point'].pk}:{user.pk}"
            if ratelimit.exceeded(request, "desk_card_number", desk=desk_key, card=number):
                return {"ok": False, "reason": _("手工输入卡号次数过多，请稍后再试或请会员出示电子卡")}
        if hook is not None:
            redemption = hook.redeem(
                choice=data["benefit"],
                service_point=data["service_point"],
                token="" if form.by_number else data["token"],
                card_number=data["card_number"] if form.by_number else "",
                id_last4=data["id_last4"] if form.by_number else "",
                acting_user=user,
            )
            card = redemption.verification.card
            return {"ok": True, "card": card, "benefit": redemption.label, "note": redemption.note}
        if form.by_number:
            verification = actions.card_verify_by_number(
                card_number=data["card_number"], id_last4=data["id_last4"], **where
            )
        else:
            verification = actions.card_verify(token=data["token"], **where)
    except actions.CardRefused as exc:
        return {"ok": False, "reason": exc.messages[0]}
    return {"ok": True, "card": verification.card, "benefit": Benefit(verification.benefit).label}


# Staff: bulk import -----------------------------------------------------------------------------------


class ImportCreateView(ActionFormView):
    """Upload a roll file; the import runs in the background and its page shows progress."""

    permission = "membership.add_memberimport"
    template_name = "membership/import_form.html"

    def get_form(self, form_class: Any = None) -> ImportForm:
        return ImportForm(
            self.request.POST or None,
            self.request.FILES or None,
            organizations=organizations_for(user=self.request.user, perm="membership.add_memberimport"),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["recent"] = selectors.member_imports(user=self.request.user)[:10]
        return context

    def perform(self, form: Any) -> HttpResponse:
        job = actions.member_import_start(
            organization=form.cleaned_data["organization"],
            uploaded=form.cleaned_data["file"],
            skip_invalid=form.cleaned_data["skip_invalid"],
            dry_run=form.cleaned_data["dry_run"],
            issue_cards=form.cleaned_data["issue_cards"],
            acting_user=acting_user(self.request),
        )
        return redirect("membership:import_detail", pk=job.pk)


class ImportDetailView(ScopedDetailView):
    """An import's progress (htmx polls while it runs), its result and its error report."""

    permission = "membership.view_memberimport"
    template_name = "membership/import_detail.html"
    breadcrumb_trail = (
        (gettext_lazy("会员"), "membership:member_list"),
        (gettext_lazy("会员导入"), "membership:import_create"),
    )
    partial_template_name = "_partials/job_progress.html"
    context_object_name = "job"  # what the shared progress partial shows

    def get_object(self, queryset: Any = None) -> MemberImport:
        return selectors.access_import(user=self.request.user, pk=self.kwargs["pk"], action="view")


@permission_required_scoped("membership.view_memberimport")
def import_report(request: HttpRequest, pk: int) -> FileResponse:
    """Download the error report of an import."""
    job = selectors.access_import(user=request.user, pk=pk, action="view")
    if not job.report:
        raise Http404(_("这次导入没有错误报告"))
    response = FileResponse(
        job.report.open("rb"), as_attachment=True, filename=f"{Path(job.original_name).stem}-错误报告.xlsx"
    )
    return response


@permission_required_scoped("membership.add_memberimport")
def import_template(request: HttpRequest) -> HttpResponse:
    """The import template: the standard Chinese headers and one example row."""
    from xietong.core.exports import xlsx_response

    from .imports import TEMPLATE_HEADERS

    example = [
        "张伟",
        "11010519850307001X",
        "男",
        "1985-03-07",
        "13800138000",
        "北京测试科技有限公司",
        "2026-01-05",
    ]
    return xlsx_response(TEMPLATE_HEADERS, [example], filename="会员导入模板.xlsx")


# Staff: transfers -------------------------------------------------------------------------------------


@require_POST
@permission_required_scoped("membership.transfer_member")
def transfer_request(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask another union to take a member of the user's scope."""
    member = selectors.access_member(user=request.user, pk=pk, action="transfer")
    form = TransferForm(request.POST, unions=selectors.transfer_targets(member))
    if not form.is_valid():
        messages.error(request, _("请选择转入工会"))
    else:
        user = acting_user(request)
        perform_action(
            request,
            lambda: actions.transfer_request(member=member, acting_user=user, **form.cleaned_data),
            lambda _result: _("已提交转接申请，等待转入工会办理"),
        )
    return redirect("membership:member_detail", pk=member.pk)


class TransferListView(ScopedListView):
    """Transfers into and out of the user's unions; the receiving union accepts or refuses."""

    permission = "membership.view_member"
    template_name = "membership/transfer_list.html"

    filterset_class = filters.TransferFilter

    def get_queryset(self) -> Any:
        return selectors.transfers(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["decidable"] = set(
            selectors.incoming_transfers(user=self.request.user).values_list("pk", flat=True)
        )
        context["cancellable"] = set(
            selectors.transfers(user=self.request.user, action="transfer").values_list("pk", flat=True)
        )
        return context


@require_POST
@permission_required_scoped("membership.transfer_member")
def transfer_decide(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """Accept or refuse (the receiving union) or withdraw (either union) a pending transfer."""
    if what not in ("accept", "refuse", "cancel"):
        raise Http404
    # Accepting or refusing is the receiving union's decision; either union may withdraw.
    action = "transfer" if what == "cancel" else "decide"
    transfer = selectors.access_transfer(user=request.user, pk=pk, action=action)
    reason = request.POST.get("reason", "")
    user = acting_user(request)
    calls: dict[str, Callable[[], Any]] = {
        "accept": lambda: actions.transfer_accept(transfer=transfer, acting_user=user),
        "refuse": lambda: actions.transfer_refuse(transfer=transfer, reason=reason, acting_user=user),
        "cancel": lambda: actions.transfer_cancel(transfer=transfer, acting_user=user),
    }
    perform_action(request, calls[what], lambda _result: _("已办理：%(transfer)s") % {"transfer": transfer})
    return redirect("membership:transfer_list")


# Figures ----------------------------------------------------------------------------------------------


def _figure_tables(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The figures page's tables (title, headers, rows, file name): shown beside each chart, and
    downloaded as Excel from the same rows."""
    return {
        "members": {
            "title": _("各组织会员与发卡"),
            "headers": [_("组织（含下级）"), _("实名制会员"), _("已发互助服务卡"), _("发卡率（%）")],
            "rows": [
                [row["organization"].name, row["members"], row["cards"], row["card_ratio"]]
                for row in data["rows"]
            ],
        },
        "joins": {
            "title": _("每周入会人数（近26周）"),
            "headers": [_("周（起始日）"), _("入会人数")],
            "rows": [[week, count] for week, count in data["joins"]],
        },
        "uses": {
            "title": _("各服务点用卡次数"),
            "headers": [_("服务点"), _("用卡次数")],
            "rows": [[name, count] for name, count in data["uses"]],
        },
    }


@permission_required_scoped("membership.view_member")
def figures(request: HttpRequest) -> HttpResponse:
    """Members, real-name records and cards by organisation; joins per week; card uses (ECharts).

    Every chart has its table beside it, a chart with no data says so, and ``?export=<table>``
    downloads a table as Excel."""
    from xietong.core.exports import xlsx_response

    data = selectors.figures(user=request.user)
    tables = _figure_tables(data)
    wanted = request.GET.get("export", "")
    if wanted:
        if wanted not in tables:
            raise Http404
        table = tables[wanted]
        return xlsx_response(table["headers"], table["rows"], filename=f"{table['title']}.xlsx")
    joins_chart = {
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [week for week, _count in data["joins"]]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": _("入会人数"), "type": "line", "smooth": True, "data": [c for _w, c in data["joins"]]}
        ],
    }
    uses_chart = {
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": [name for name, _count in data["uses"]]},
        "series": [{"name": _("用卡次数"), "type": "bar", "data": [c for _n, c in data["uses"]]}],
        "grid": {"left": 160},
    }
    charts = [(key, tables[key], bool(data[key])) for key in ("joins", "uses")]
    context = {
        **data,
        "tables": tables,
        "charts": charts,
        "joins_chart": joins_chart,
        "uses_chart": uses_chart,
    }
    return render(request, "membership/figures.html", context)


@permission_required_scoped("membership.change_membercard")
def card_print(request: HttpRequest) -> HttpResponse:
    """A PDF print sheet of the active cards of an organisation's members (with its subtree): a short
    sheet at once; a longer one (GET shows what will be printed, POST starts it) as a job with
    progress whose page offers the PDF once built."""
    from django.utils import timezone

    org = selectors.access_card_print_organization(
        user=request.user,
        pk=request.POST.get("organization")
        or request.GET.get("organization")
        or getattr(request.user, "organization_id", 0),
    )
    printable = selectors.printable_cards(user=request.user, organization=org)
    count = printable.count()
    if not count:
        messages.warning(request, _("%(org)s没有可打印的会员卡") % {"org": org.name})
        return redirect("membership:member_list")
    title = f"{org.name}互助服务卡-{timezone.localdate():%Y%m%d}"
    if count > actions.PRINT_NOW_LIMIT:
        if request.method != "POST":
            total = min(count, actions.PRINT_BATCH_LIMIT)
            return render(request, "membership/card_print.html", {"organization": org, "total": total})
        job = actions.card_print_start(organization=org, acting_user=acting_user(request), title=title)
        return redirect("membership:card_print_job", pk=job.pk)
    pdf = actions.card_print_batch(cards=list(printable), acting_user=acting_user(request), title=title)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(title)}.pdf"
    return response


class CardPrintJobView(ScopedDetailView):
    """A print job's progress (htmx polls while it builds) and, once built, the PDF to download."""

    permission = "membership.change_membercard"
    template_name = "membership/card_print_job.html"
    breadcrumb_trail = ((gettext_lazy("会员"), "membership:member_list"),)
    partial_template_name = "_partials/job_progress.html"
    context_object_name = "job"  # what the shared progress partial shows

    def get_object(self, queryset: Any = None) -> CardPrintJob:
        return selectors.access_card_print_job(user=self.request.user, pk=self.kwargs["pk"])


@permission_required_scoped("membership.change_membercard")
def card_print_file(request: HttpRequest, pk: int) -> FileResponse:
    """Download a built print sheet (audited: it carries every card's signed credential)."""
    job = selectors.access_card_print_job(user=request.user, pk=pk)
    if not job.file:
        raise Http404(_("打印文件尚未生成"))
    actions.card_print_downloaded(job=job, acting_user=acting_user(request))
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=f"{job.title}.pdf")

"""Staff-console pages of the core app. Thin: read through selectors, write through actions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import actions, alerts, audit, filters, pii, processes, selectors
from . import home as homepage
from .choices import JobStatus
from .forms import (
    CalendarYearForm,
    EmployerForm,
    PersonForm,
    PersonLookupForm,
    RoleGrantForm,
    UserCreateForm,
)
from .generic import (
    ActionFormView,
    Crumb,
    ScopedDetailView,
    ScopedListView,
    acting_user,
    attach_errors,
    breadcrumbs,
    perform_action,
    permission_required_scoped,
    public,
)
from .models import AuditEvent, Employer, ExportJob, Notification, Organization, Person, User


@public
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and monitoring: answers without touching the database."""
    return JsonResponse({"status": "ok", "node": settings.XIETONG_NODE_ID})


@public
def health(request: HttpRequest) -> JsonResponse:
    """Readiness of the whole node for monitoring (no personal data): 200 when the database answers
    and every expected process beat within ``XIETONG_HEALTH_STALE_SECONDS``, else 503 naming which.
    Answering it is the web process's own heartbeat."""
    answer = processes.health()
    if answer["database"] == "ok":
        processes.heartbeat(processes.WEB)
    return JsonResponse(answer, status=200 if answer["status"] == "ok" else 503)


@public
def health_process(request: HttpRequest, name: str) -> JsonResponse:
    """The health of one process (``web``, ``worker``, ``exchange``), as in ``health``."""
    if name not in processes.NAMES:
        raise Http404
    answer = processes.health([name])
    if name == processes.WEB and answer["database"] == "ok":
        processes.heartbeat(processes.WEB)
    return JsonResponse(answer, status=200 if answer["status"] == "ok" else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The start page: what the account must act on (counts linking to the filtered lists), the key
    figures of its scope, filled in by the domain apps through ``core.home``. An account whose only
    role has a landing page (a service-point desk: the verification screen) goes there instead."""
    user = acting_user(request)
    landing = homepage.landing_for(user)
    if landing:
        return redirect(landing)
    figures = {
        "organizations": selectors.organization_list(user=user).count(),
        "employers": selectors.employer_list(user=user).count(),
        "people": selectors.person_list(user=user).count(),
    }
    context = {
        "figures": figures,
        "todos": homepage.todos_for(user),
        "panels": homepage.panels_for(user),
        "notifications": selectors.notifications(user=user, unread=True)[:5],
    }
    return render(request, "core/home.html", context)


# Notifications -------------------------------------------------------------------------------------


class NotificationListView(ScopedListView):
    """The account's notification inbox, newest first (``?unread=1``: only unread ones)."""

    template_name = "core/notification_list.html"
    paginate_by = 25

    def get_queryset(self) -> QuerySet[Notification]:
        return selectors.notifications(user=self.request.user, unread=bool(self.request.GET.get("unread")))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["unread_only"] = bool(self.request.GET.get("unread"))
        context["breadcrumbs"] = breadcrumbs(current=_("通知"))
        return context


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification read (its id in the form); ``open`` then goes to the record it names."""
    notification = selectors.access_notification(user=request.user, pk=request.POST.get("pk"))
    actions.notification_mark_read(notification=notification, acting_user=acting_user(request))
    if request.POST.get("open") and notification.link.startswith("/"):
        return HttpResponseRedirect(notification.link)
    return redirect("core:notification_list")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every notification of the account read."""
    count = actions.notifications_mark_all_read(acting_user=acting_user(request))
    messages.success(request, _("已将 %(count)s 条通知标为已读") % {"count": count})
    return redirect("core:notification_list")


# Organisations ------------------------------------------------------------------------------------


class OrganizationTreeView(ScopedListView):
    """The organisations of the user's scope as a tree, with search (htmx narrows it as you type)."""

    permission = "core.view_organization"
    template_name = "core/organization_tree.html"
    partial_template_name = "core/_partials/organization_tree.html"
    export_columns = (
        (gettext_lazy("编码"), "code"),
        (gettext_lazy("名称"), "name"),
        (gettext_lazy("类别"), "get_kind_display"),
        (gettext_lazy("上级组织"), "parent.name"),
        (gettext_lazy("所在地区"), "region.full_name"),
    )
    export_filename = gettext_lazy("组织.xlsx")
    filterset_class = filters.OrganizationFilter
    paginate_by = 0

    def get_queryset(self) -> QuerySet[Organization]:
        return selectors.organization_list(user=self.request.user)

    def get_paginate_by(self, queryset: QuerySet[Any]) -> None:  # type: ignore[override]
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["tree"] = selectors.organization_tree(user=self.request.user, q=self.q)
        return context


class OrganizationDetailView(ScopedDetailView):
    """One organisation: where it sits, what is under it, its employers and people."""

    permission = "core.view_organization"
    access = selectors.access_organization
    template_name = "core/organization_detail.html"

    def get_breadcrumbs(self) -> list[Crumb]:
        org: Organization = self.object
        trail = [Crumb(_("组织"), reverse("core:organization_tree"))]
        trail += [Crumb(a.name, reverse("core:organization_detail", args=[a.pk])) for a in org.ancestors()]
        return [*trail, Crumb(org.name)]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org: Organization = self.object
        user = self.request.user
        context.update(
            ancestors=org.ancestors(),
            children=selectors.organization_list(user=user).filter(parent=org),
            affiliations=org.affiliations.select_related("parent"),
            affiliated=org.affiliated.select_related("organization"),
            counts=selectors.organization_counts(user=user, organization=org),
            employers=selectors.employer_list(user=user, organization=org)[:10],
            people=selectors.person_list(user=user, organization=org)[:10],
        )
        return context


# Employers ----------------------------------------------------------------------------------------


class EmployerListView(ScopedListView):
    """Employers of the user's scope: search by name or credit code, paginate, export."""

    permission = "core.view_employer"
    template_name = "core/employer_list.html"
    partial_template_name = "core/_partials/employer_table.html"
    export_columns = (
        (gettext_lazy("单位名称"), "name"),
        (gettext_lazy("统一社会信用代码"), "credit_code"),
        (gettext_lazy("所属工会"), "organization.name"),
        (gettext_lazy("所在地区"), "region.full_name"),
        (gettext_lazy("行业"), "sector"),
    )
    export_filename = gettext_lazy("用人单位.xlsx")
    filterset_class = filters.EmployerFilter

    def get_queryset(self) -> QuerySet[Employer]:
        return selectors.employer_list(user=self.request.user)


class EmployerDetailView(ScopedDetailView):
    permission = "core.view_employer"
    access = selectors.access_employer
    template_name = "core/employer_detail.html"
    breadcrumb_trail = ((gettext_lazy("用人单位"), "core:employer_list"),)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["alerts"] = alerts.employer_alerts(employer=self.object, user=self.request.user)
        return context


class EmployerFormView(ActionFormView):
    """Create an employer, or edit one in scope (``pk`` in the URL)."""

    permission = "core.add_employer"
    action = "change"
    access = selectors.access_employer
    template_name = "core/form.html"
    form_class = EmployerForm

    def required_permission(self) -> str:
        return "core.change_employer" if "pk" in self.kwargs else "core.add_employer"

    def get_instance(self) -> Employer:
        return self.access_object(self.kwargs["pk"]) if "pk" in self.kwargs else Employer()

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs.update(user=acting_user(self.request), instance=self.get_instance())
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["title"] = _("修改用人单位") if "pk" in self.kwargs else _("新增用人单位")
        return context

    def perform(self, form: EmployerForm) -> HttpResponse:
        employer = actions.employer_save(employer=form.instance, acting_user=acting_user(self.request))
        messages.success(self.request, _("已保存用人单位“%(name)s”") % {"name": employer.name})
        return redirect("core:employer_detail", pk=employer.pk)


# People -------------------------------------------------------------------------------------------


class PersonListView(ScopedListView):
    """People of the user's scope, ID numbers masked; search by name, look up by ID number."""

    permission = "core.view_person"
    template_name = "core/person_list.html"
    partial_template_name = "core/_partials/person_table.html"
    export_columns = (
        (gettext_lazy("姓名"), "name"),
        (gettext_lazy("身份证号码（脱敏）"), "id_number_masked"),
        (gettext_lazy("性别"), "get_gender_display"),
        (gettext_lazy("出生日期"), pii.birth_column()),
        (gettext_lazy("手机号码（脱敏）"), "phone_masked"),
        (gettext_lazy("登记组织"), "organization.name"),
    )
    export_filename = gettext_lazy("人员.xlsx")
    filterset_class = filters.PersonFilter

    def get_queryset(self) -> QuerySet[Person]:
        return selectors.person_list(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["lookup_form"] = PersonLookupForm()
        return context


class PersonDetailView(ScopedDetailView):
    """One person, masked; a reveal button for those allowed to see the full number."""

    permission = "core.view_person"
    access = selectors.access_person
    template_name = "core/person_detail.html"
    breadcrumb_trail = ((gettext_lazy("人员"), "core:person_list"),)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        person: Person = self.object
        context["can_reveal"] = pii.may_reveal(self.request.user, person)
        context["history"] = selectors.audit_list(
            user=self.request.user, target_type="core.person", target_id=str(person.pk)
        )[:20]
        return context


@permission_required_scoped("core.reveal_person")
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full ID and phone number (htmx fragment); needs ``core.reveal_person`` over the
    person (elsewhere only: 404, as if the person did not exist)."""
    person = selectors.access_person(user=request.user, pk=pk, action="reveal")
    revealed = actions.person_reveal(person=person, acting_user=acting_user(request))
    template = "core/_partials/person_identity.html" if request.htmx else "core/person_detail.html"  # type: ignore[attr-defined]
    context = {"person": person, "object": person, "revealed": revealed, "can_reveal": True}
    context["breadcrumbs"] = breadcrumbs((_("人员"), "core:person_list"), current=person)
    return render(request, template, context)


class PersonCreateView(ActionFormView):
    permission = "core.add_person"
    template_name = "core/form.html"
    form_class = PersonForm
    extra_context = {"title": gettext_lazy("登记人员")}

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = acting_user(self.request)
        return kwargs

    def perform(self, form: PersonForm) -> HttpResponse:
        person = actions.person_create(acting_user=acting_user(self.request), **form.cleaned_data)
        messages.success(self.request, _("已登记 %(name)s") % {"name": person.name})
        return redirect("core:person_detail", pk=person.pk)


@permission_required_scoped("core.view_person")
def person_lookup(request: HttpRequest) -> HttpResponse:
    """Find a person by resident ID number within the user's scope (audited)."""
    form = PersonLookupForm(request.GET or None)
    not_found = False
    if form.is_valid():
        try:
            person = actions.person_lookup(
                queryset=selectors.person_list(user=request.user),
                id_number=form.cleaned_data["id_number"],
                acting_user=acting_user(request),
            )
        except ValidationError as exc:
            attach_errors(
                form, ValidationError({"id_number": exc.message_dict.get("id_number", exc.messages)})
            )
        else:
            if person is not None:
                return redirect("core:person_detail", pk=person.pk)
            not_found = True
    return render(request, "core/person_lookup.html", {"form": form, "not_found": not_found})


# Audit log ----------------------------------------------------------------------------------------


class AuditListView(ScopedListView):
    """Who did what to which record, newest first; filter by action, search by account or record."""

    permission = "core.view_auditevent"
    template_name = "core/audit_list.html"
    partial_template_name = "core/_partials/audit_table.html"
    paginate_by = 50
    export_columns = (
        (gettext_lazy("时间"), "created_at"),
        (gettext_lazy("操作账号"), "actor_username"),
        (gettext_lazy("操作"), "get_action_display"),
        (gettext_lazy("对象类型"), lambda event: audit.target_type_name(event.target_type)),
        (gettext_lazy("对象"), "target_repr"),
        (gettext_lazy("详情"), lambda event: str(audit.describe(event))),
        (gettext_lazy("IP地址"), "ip_address"),
        (gettext_lazy("哈希"), "hash"),
    )
    export_filename = gettext_lazy("审计日志.xlsx")
    filterset_class = filters.AuditFilter

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return selectors.audit_list(user=self.request.user)


# Accounts -----------------------------------------------------------------------------------------


class UserListView(ScopedListView):
    """Accounts whose home organisation is in scope (node administrators see all)."""

    permission = "core.manage_accounts"
    template_name = "core/user_list.html"
    partial_template_name = "core/_partials/user_table.html"
    export_columns = (
        (gettext_lazy("账号"), "username"),
        (gettext_lazy("姓名"), "display_name"),
        (gettext_lazy("所属组织"), "organization.name"),
        (gettext_lazy("启用"), "is_active"),
    )
    export_filename = gettext_lazy("账号.xlsx")
    filterset_class = filters.UserFilter

    def get_queryset(self) -> QuerySet[User]:
        return selectors.user_list(user=self.request.user)


class UserCreateView(ActionFormView):
    permission = "core.manage_accounts"
    template_name = "core/form.html"
    form_class = UserCreateForm
    extra_context = {"title": gettext_lazy("新建账号")}

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = acting_user(self.request)
        return kwargs

    def perform(self, form: UserCreateForm) -> HttpResponse:
        account = actions.user_create(acting_user=acting_user(self.request), **form.cleaned_data)
        messages.success(self.request, _("已创建账号 %(name)s，请为其授予角色") % {"name": account.username})
        return redirect("core:user_detail", pk=account.pk)


@permission_required_scoped("core.manage_accounts")
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An account, its roles, and a form to grant another (POST) — for account managers in scope.
    Who may grant what is the action's decision (ADR 011); a refusal shows on the form."""
    account = selectors.access_user(
        user=request.user, pk=pk, action="change" if request.method == "POST" else "view"
    )
    form = RoleGrantForm(request.POST or None, user=acting_user(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.role_grant(
                user=account,
                role=form.cleaned_data["role"],
                organization=form.cleaned_data["organization"],
                acting_user=acting_user(request),
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("已授予角色"))
            return HttpResponseRedirect(reverse("core:user_detail", args=[account.pk]))
    context = {
        "account": account,
        "assignments": selectors.role_assignments_of(user=request.user, account=account),
        "form": form,
        "breadcrumbs": breadcrumbs((_("账号与角色"), "core:user_list"), current=account.username),
    }
    return render(request, "core/user_detail.html", context)


@permission_required_scoped("core.manage_accounts")
@require_POST
def user_revoke(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    """Take a role back (refused, with the reason as a message, under the rules of granting it)."""
    account = selectors.access_user(user=request.user, pk=pk, action="change")
    assignment = selectors.get_scoped(
        selectors.role_assignments_of(user=request.user, account=account), assignment_pk
    )
    perform_action(
        request,
        lambda: actions.role_revoke(assignment=assignment, acting_user=acting_user(request)),
        lambda _result: _("已撤销角色"),
    )
    return redirect("core:user_detail", pk=account.pk)


@permission_required_scoped("core.manage_accounts")
@require_POST
def user_toggle_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Disable (ending its sessions and tokens) or enable an account in scope; never one's own."""
    account = selectors.access_user(user=request.user, pk=pk, action="change")
    perform_action(
        request,
        lambda: actions.user_set_active(
            user=account, active=not account.is_active, acting_user=acting_user(request)
        ),
        lambda changed: _("已启用账号") if changed.is_active else _("已停用账号"),
    )
    return redirect("core:user_detail", pk=account.pk)


class CalendarView(ActionFormView):
    """The working-day calendar (node administrators): where each year's schedule comes from, a warning
    when next year's is missing a month before the year ends, and the form to enter a year."""

    permission = "core.change_workcalendaryear"
    template_name = "core/calendar.html"
    form_class = CalendarYearForm

    def get_initial(self) -> dict[str, Any]:
        missing = selectors.calendar_missing_next_year()
        return {"year": missing} if missing else {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(years=selectors.calendar_years(), missing_year=selectors.calendar_missing_next_year())
        return context

    def perform(self, form: CalendarYearForm) -> HttpResponse:
        entry = actions.calendar_year_set(acting_user=acting_user(self.request), **form.cleaned_data)
        messages.success(self.request, _("已录入 %(year)s 年工作日历") % {"year": entry.year})
        return redirect("core:calendar")


# Background exports (issue 16) --------------------------------------------------------------------


class ExportDetailView(ScopedDetailView):
    """A large export's progress (htmx polls while it is written), then its download link until it
    expires. Only its creator, or an officer whose scope covers the creator's organisation, sees it."""

    template_name = "core/export_detail.html"
    partial_template_name = "_partials/job_progress.html"
    context_object_name = "job"  # what the shared progress partial shows

    def get_object(self, queryset: Any = None) -> ExportJob:
        actions.export_jobs_purge()  # clean-up on access, besides ``xietong exports purge``
        return selectors.access_export(user=self.request.user, pk=self.kwargs["pk"])


@login_required
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The workbook of a finished export; every download is audited like an immediate export."""
    actions.export_jobs_purge()
    job = selectors.access_export(user=request.user, pk=pk)
    if job.status != JobStatus.DONE or not job.file:
        raise Http404(_("导出文件尚未生成"))
    actions.export_download(job=job, acting_user=acting_user(request))
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename)

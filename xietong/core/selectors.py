"""Every read a user makes in the core app (ARCHITECTURE.md §3.2).

Each selector takes the user and returns a scoped queryset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from xietong.lib import names, workdays

from .models import (
    Affiliation,
    AuditEvent,
    Employer,
    ExportJob,
    Notification,
    Organization,
    Person,
    PiiKeyRotation,
    Region,
    Role,
    RoleAssignment,
    User,
    WorkCalendarYear,
)

if TYPE_CHECKING:
    from .typing import Viewer

M = TypeVar("M", bound=Model)


def get_scoped(queryset: QuerySet[M], pk: object) -> M:
    """The row of ``queryset`` with primary key ``pk``, or ``Http404``: the same answer whether the
    row is missing, outside the user's scope, or ``pk`` is malformed (``"abc"``), so nothing can be
    learnt from the difference (ARCHITECTURE.md §3 rule 9)."""
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404(f"No {queryset.model._meta.object_name} matches the given query.") from exc


def normalize_query(q: str | None) -> str:
    """A search term as typed: trimmed, traditional characters folded to simplified."""
    return names.to_simplified((q or "").strip())


def region_list(*, q: str = "") -> QuerySet[Region]:
    """Regions are public reference data; search by code or name."""
    qs = Region.objects.select_related("parent")
    q = normalize_query(q)
    if q:
        qs = qs.filter(Q(code__startswith=q) | Q(full_name__contains=q))
    return qs


def organization_list(
    *, user: Viewer, action: str = "view", q: str = "", kind: str = ""
) -> QuerySet[Organization]:
    """Organisations in the user's scope, searchable by name or code."""
    qs = search_organizations(
        Organization.objects.restrict(user, action).select_related("parent", "region"), q
    )
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def access_organization(*, user: Viewer, pk: object, action: str = "view") -> Organization:
    """The organisation if ``user`` may do ``action`` on it, else the same ``Http404`` as a missing one."""
    return get_scoped(organization_list(user=user, action=action), pk)


def organizations_for(*, user: Viewer, perm: str) -> QuerySet[Organization]:
    """Organisations where ``user`` holds ``perm`` (``core.add_person``: where they may register people)."""
    from .permissions import NODE_WIDE, scope_paths

    qs = Organization.objects.select_related("region")
    if user.is_superuser:
        return qs
    paths = scope_paths(user, perm) if user.is_authenticated and user.is_active else set()
    if paths is NODE_WIDE:
        return qs
    if not paths:
        return qs.none()
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return qs.filter(condition)


@dataclass
class TreeNode:
    """One organisation in the scope tree with its visible children."""

    organization: Organization
    children: list[TreeNode] = field(default_factory=list)
    matched: bool = True


def organization_tree(*, user: Viewer, q: str = "") -> list[TreeNode]:
    """The user's organisations as a forest; with ``q``, matches and the path to them only."""
    visible = list(organization_list(user=user).order_by("path"))
    by_path = {org.path: TreeNode(org) for org in visible}
    q = normalize_query(q)
    if q:
        keep: set[str] = set()
        for org in visible:
            if q in org.name or q.lower() in org.code:
                parts = org.path.strip("/").split("/")
                keep.update("/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
        for node in by_path.values():
            node.matched = q in node.organization.name or q.lower() in node.organization.code
        by_path = {path: node for path, node in by_path.items() if path in keep}
    roots: list[TreeNode] = []
    for path, node in by_path.items():
        parent_path = path[: path.rstrip("/").rfind("/") + 1]
        parent = by_path.get(parent_path)
        (parent.children if parent else roots).append(node)
    return roots


def organization_counts(*, user: Viewer, organization: Organization) -> dict[str, int]:
    """How many sub-organisations, employers and people the user can see under an organisation."""
    prefix = organization.path
    return {
        "organizations": organization_list(user=user).filter(path__startswith=prefix).count() - 1,
        "employers": employer_list(user=user).filter(organization__path__startswith=prefix).count(),
        "people": person_list(user=user).filter(organization__path__startswith=prefix).count(),
    }


def employer_list(
    *, user: Viewer, action: str = "view", q: str = "", organization: Organization | None = None
) -> QuerySet[Employer]:
    """Employers in the user's scope, searchable by name or credit code, optionally under one organisation."""
    qs = search_employers(Employer.objects.restrict(user, action).select_related("organization", "region"), q)
    if organization is not None:
        qs = qs.filter(organization__path__startswith=organization.path)
    return qs


def access_employer(*, user: Viewer, pk: object, action: str = "view") -> Employer:
    """The employer if ``user`` may do ``action`` on it, else the same ``Http404`` as a missing one."""
    return get_scoped(employer_list(user=user, action=action), pk)


def person_list(
    *, user: Viewer, action: str = "view", q: str = "", organization: Organization | None = None
) -> QuerySet[Person]:
    """People in the user's scope, searchable by name (ID numbers are looked up by blind index instead)."""
    qs = search_people(Person.objects.restrict(user, action).select_related("organization", "id_region"), q)
    if organization is not None:
        qs = qs.filter(organization__path__startswith=organization.path)
    return qs


def access_person(*, user: Viewer, pk: object, action: str = "view") -> Person:
    """The person if ``user`` may do ``action`` on them (``"view"``, ``"change"``, ``"reveal"``),
    else the same ``Http404`` as a missing one."""
    return get_scoped(person_list(user=user, action=action), pk)


def audit_list(
    *, user: Viewer, q: str = "", action: str = "", target_type: str = "", target_id: str = ""
) -> QuerySet[AuditEvent]:
    """Audit events the user may read: those of organisations in scope (node-wide readers see all)."""
    qs = search_audit(AuditEvent.objects.restrict(user, "view").select_related("actor", "organization"), q)
    if action:
        qs = qs.filter(action=action)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=target_id)
    return qs


def user_list(*, user: Viewer, action: str = "core.manage_accounts", q: str = "") -> QuerySet[User]:
    """Accounts whose home organisation lies where the user may manage accounts."""
    qs = (
        User.objects.restrict(user, action)
        .select_related("organization")
        .annotate(n_roles=Count("role_assignments"))
    )
    return search_users(qs, q).order_by("username")


def access_user(*, user: Viewer, pk: object, action: str = "view") -> User:
    """An account whose home organisation lies where ``user`` manages accounts, else ``Http404``.

    Seeing and changing an account both need ``core.manage_accounts`` over it, so ``action`` does not
    narrow further; it is there so account pages call this like every other ``access_*``.
    """
    return get_scoped(user_list(user=user), pk)


def role_assignments_of(*, user: Viewer, account: User) -> QuerySet[RoleAssignment]:
    """The roles an account holds (shown to someone allowed to see that account)."""
    return RoleAssignment.objects.filter(user=account).select_related("role", "organization")


def role_list() -> QuerySet[Role]:
    """All roles defined on this node."""
    return Role.objects.prefetch_related("permissions")


def grantable_roles(*, user: Viewer | None) -> QuerySet[Role]:
    """The roles ``user`` may grant to others: those listed as grantable by the roles it holds with
    ``core.manage_accounts`` (ADR 011). A superuser may grant every role; ``None`` (set-up, the
    demo, the command line) too."""
    if user is None or user.is_superuser:
        return Role.objects.all()
    if not user.is_active:
        return Role.objects.none()
    held = RoleAssignment.objects.filter(
        user=user,
        role__permissions__content_type__app_label="core",
        role__permissions__codename="manage_accounts",
    ).values("role")
    return Role.objects.filter(granted_by__in=held).distinct()


# Searches: what a list's search box finds, shared by the selectors above and the lists' filters.


def search_organizations(queryset: QuerySet[Organization], q: str) -> QuerySet[Organization]:
    """Organisations whose name contains ``q`` or whose code contains it (any case)."""
    q = normalize_query(q)
    return queryset.filter(Q(name__contains=q) | Q(code__icontains=q)) if q else queryset


def search_employers(queryset: QuerySet[Employer], q: str) -> QuerySet[Employer]:
    """Employers whose name contains ``q`` or whose credit code starts with it."""
    q = normalize_query(q)
    return queryset.filter(Q(name__contains=q) | Q(credit_code__startswith=q.upper())) if q else queryset


def search_people(queryset: QuerySet[Person], q: str) -> QuerySet[Person]:
    """People whose name (as registered or as typed) contains ``q``."""
    q = normalize_query(q)
    return queryset.filter(Q(name__contains=q) | Q(name_original__contains=q)) if q else queryset


def search_audit(queryset: QuerySet[AuditEvent], q: str) -> QuerySet[AuditEvent]:
    """Audit events by the acting account or the record's description."""
    q = normalize_query(q)
    return queryset.filter(Q(actor_username__icontains=q) | Q(target_repr__contains=q)) if q else queryset


def search_users(queryset: QuerySet[User], q: str) -> QuerySet[User]:
    """Accounts by user name or display name."""
    q = normalize_query(q)
    return queryset.filter(Q(username__icontains=q) | Q(display_name__contains=q)) if q else queryset


# Working-day calendar ---------------------------------------------------------------------------------


def work_calendar() -> dict[int, workdays.YearSchedule]:
    """The years an operator entered (``xietong calendar set`` or the calendar page), in the form
    ``xietong.lib.workdays`` takes: they win over the packaged calendar."""
    return {
        entry.year: workdays.YearSchedule(
            holidays=frozenset(entry.holiday_dates()), workdays=frozenset(entry.workday_dates())
        )
        for entry in WorkCalendarYear.objects.all()
    }


def deadline_is_provisional(due: date) -> bool:
    """True when a deadline falls in a year without an official schedule (counted by weekends only)."""
    if workdays.packaged(due.year):
        return False
    return not WorkCalendarYear.objects.filter(year=due.year).exists()


@dataclass
class CalendarYearRow:
    """One year on the calendar page: where its schedule comes from, and the entry if there is one."""

    year: int
    source: str  # "entered", "packaged" or "weekends"
    entry: WorkCalendarYear | None


def calendar_years(*, today: date | None = None) -> list[CalendarYearRow]:
    """Last year, this year, next year and every entered year, newest first."""
    today = today or timezone.localdate()
    entered = {entry.year: entry for entry in WorkCalendarYear.objects.all()}
    years = sorted({today.year - 1, today.year, today.year + 1, *entered}, reverse=True)
    return [
        CalendarYearRow(
            year,
            "entered" if year in entered else "packaged" if workdays.packaged(year) else "weekends",
            entered.get(year),
        )
        for year in years
    ]


def calendar_missing_next_year(*, today: date | None = None) -> int | None:
    """Next year, when the year ends within a month and next year's schedule is not known yet."""
    today = today or timezone.localdate()
    if (date(today.year, 12, 31) - today).days > 31:
        return None
    return None if workdays.year_is_known(today.year + 1, work_calendar()) else today.year + 1


# Notifications (issue 12 §2) ------------------------------------------------------------------------


def _path_and_ancestors(path: str) -> set[str]:
    """``/1/5/12/`` → {``/1/``, ``/1/5/``, ``/1/5/12/``}: where a grant reaching ``path`` may sit."""
    parts = [part for part in path.strip("/").split("/") if part]
    return {"/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))}


def users_with_perm_over(perm: str, organization: Organization | None) -> QuerySet[User]:
    """The active accounts that hold ``perm`` over ``organization``: by a role granted at it or an
    organisation above it, node-wide, or at a body it is affiliated to by dual management (the same
    reach as ``permissions.scope_paths``). Without an organisation: every holder of ``perm``.
    Serves notifications: who must hear about a record."""
    app_label, codename = perm.split(".", 1)
    grants = RoleAssignment.objects.filter(
        role__permissions__content_type__app_label=app_label, role__permissions__codename=codename
    )
    if organization is not None:
        paths = _path_and_ancestors(organization.path)
        for parent_path in Affiliation.objects.filter(organization__path__in=paths).values_list(
            "parent__path", flat=True
        ):
            paths |= _path_and_ancestors(parent_path)
        grants = grants.filter(Q(organization__isnull=True) | Q(organization__path__in=paths))
    return User.objects.filter(is_active=True, pk__in=grants.values("user_id")).order_by("pk")


def notifications(*, user: Viewer, unread: bool = False) -> QuerySet[Notification]:
    """The account's own notifications, newest first (``unread``: only those not read yet)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    queryset = Notification.objects.filter(recipient=user)
    return queryset.filter(read_at__isnull=True) if unread else queryset


def unread_count(*, user: Viewer) -> int:
    """How many notifications the account has not read: one COUNT, for the badge on every page."""
    return notifications(user=user, unread=True).count()


def access_notification(*, user: Viewer, pk: object) -> Notification:
    """One of the account's own notifications; someone else's answers the same 404 as a missing one."""
    return get_scoped(notifications(user=user), pk)


def access_export(*, user: Viewer, pk: object) -> ExportJob:
    """The background export ``pk`` if ``user`` may have it: its creator, or an officer whose scope
    of the exported list's permission covers the creator's organisation (the rows are theirs to see
    too). An expired one answers the same ``Http404`` as a missing one or one out of scope."""
    try:
        number = int(str(pk))
    except (TypeError, ValueError):
        raise Http404 from None
    job = ExportJob.objects.filter(pk=number).first() if 0 < number < 2**63 else None
    if job is None or job.expired or not user.is_authenticated:
        raise Http404
    if job.created_by_id == user.pk:
        return job
    if (
        job.organization_id is not None
        and user.has_perm(job.permission)
        and Organization.objects.restrict(user, job.permission).filter(pk=job.organization_id).exists()
    ):
        return job
    raise Http404


def pii_key_rotation_latest() -> PiiKeyRotation | None:
    """The newest PII key rotation (node-wide; the operator page shows its progress), if any."""
    return PiiKeyRotation.objects.order_by("-created_at", "-pk").first()

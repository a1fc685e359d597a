"""Every read of the services app that a user makes: takes the user, returns a scoped queryset.

The public directory and the public Q&A take no user: they show what every worker may see. A few
node-wide look-ups serve writes rather than users (the union responsible for a district, a worker's
current membership, a request arriving from another node); they take no user and say so."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Avg, Count, Model, Q, QuerySet
from django.db.models.functions import Length
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from xietong.core import pii
from xietong.core.choices import OrganizationKind
from xietong.core.models import Organization, Region
from xietong.core.selectors import normalize_query, organizations_for

from .choices import BenefitPeriod, Channel, RequestStatus
from .models import (
    Benefit,
    BenefitProvider,
    BenefitUse,
    KnowledgeAnswer,
    Lawyer,
    LegalAidCase,
    RequestEntry,
    ServiceCategory,
    ServiceRequest,
    ServiceStation,
)

if TYPE_CHECKING:
    from xietong.core.typing import Viewer
    from xietong.membership.models import Member

_Row = TypeVar("_Row", bound=Model)


def _access(queryset: QuerySet[_Row], pk: object) -> _Row:
    """The row ``pk`` of ``queryset`` (already scoped to the user and the action); the same
    ``Http404`` whether ``pk`` is malformed, missing or outside the user's scope."""
    try:
        number = int(str(pk))
    except (TypeError, ValueError):
        raise Http404 from None
    row = queryset.filter(pk=number).first() if 0 < number < 2**63 else None
    if row is None:
        raise Http404
    return row


# Reference data ------------------------------------------------------------------------------------


def categories(*, active_only: bool = True) -> QuerySet[ServiceCategory]:
    """The request categories of this node (reference data, the same for every user)."""
    queryset = ServiceCategory.objects.all()
    return queryset.filter(active=True) if active_only else queryset


def access_category(*, user: Viewer, pk: object, action: str = "change") -> ServiceCategory:
    """A request category to change. Categories are node-wide reference data: every holder of
    ``services.change_servicecategory`` may change every one (the view checks the permission);
    Http404 when missing."""
    return _access(categories(active_only=False), pk)


# The service network --------------------------------------------------------------------------------


def stations(*, user: Viewer, action: str = "view") -> QuerySet[ServiceStation]:
    """Service centres and stations of the unions in the user's scope."""
    return (
        ServiceStation.objects.restrict(user, action)
        .select_related("organization", "district")
        .prefetch_related("services")
    )


def access_station(*, user: Viewer, pk: object, action: str = "view") -> ServiceStation:
    """The station if ``user`` may do ``action`` on it; the same Http404 when missing or out of scope."""
    return _access(stations(user=user, action=action), pk)


def search_stations(queryset: QuerySet[ServiceStation], q: str) -> QuerySet[ServiceStation]:
    """Stations by name or address."""
    q = normalize_query(q)
    return queryset.filter(Q(name__icontains=q) | Q(address__icontains=q)) if q else queryset


def public_stations() -> QuerySet[ServiceStation]:
    """What the public directory lists: every open station of this node (no account needed)."""
    return (
        ServiceStation.objects.filter(active=True)
        .select_related("organization", "district")
        .prefetch_related("services")
    )


def public_station(pk: object) -> ServiceStation:
    """One open station for its public page (Http404 if missing or closed)."""
    return _access(public_stations(), pk)


def directory_districts() -> QuerySet[Region]:
    """The districts that have an open station, for the directory's district picker."""
    return Region.objects.filter(pk__in=public_stations().values("district")).order_by("code")


# Requests ---------------------------------------------------------------------------------------------


def service_requests(*, user: Viewer, action: str = "view") -> QuerySet[ServiceRequest]:
    """Requests of the unions in the user's scope (an overdue request escalated to a parent union is
    in that union's scope already: the parent's subtree holds it)."""
    return ServiceRequest.objects.restrict(user, action).select_related(
        "organization", "category", "escalated_to", "district"
    )


def access_request(*, user: Viewer, pk: object, action: str = "view") -> ServiceRequest:
    """The request if ``user`` may do ``action`` on it; the same Http404 when missing or out of scope."""
    return _access(service_requests(user=user, action=action), pk)


def search_requests(queryset: QuerySet[ServiceRequest], q: str) -> QuerySet[ServiceRequest]:
    """Requests by number, subject, the worker's name or their full phone number (blind index)."""
    q = normalize_query(q)
    if not q:
        return queryset
    condition = Q(number__icontains=q) | Q(subject__icontains=q) | Q(requester_name__icontains=q)
    digits = q.replace(" ", "")
    if digits.isdigit() and len(digits) == 11:
        condition |= Q(requester_phone_index__in=pii.lookup_indexes(digits, purpose="phone"))
    return queryset.filter(condition)


def overdue_condition(today: dt.date | None = None) -> Q:
    """Open requests past their limit: not acknowledged in time, or not answered in time."""
    today = today or timezone.localdate()
    return Q(status__in=ServiceRequest.OPEN) & (
        Q(answer_due__lt=today) | Q(status=RequestStatus.NEW, acknowledge_due__lt=today)
    )


def requests_in_status(queryset: QuerySet[ServiceRequest], status: str) -> QuerySet[ServiceRequest]:
    """Requests in ``status``; ``overdue`` selects open requests past a limit, ``followup`` the low
    ratings still waiting for their follow-up call."""
    if status == "overdue":
        return queryset.filter(overdue_condition())
    if status == "followup":
        return queryset.filter(followup_due=True)
    return queryset.filter(status=status) if status else queryset


def overdue_requests(*, user: Viewer) -> QuerySet[ServiceRequest]:
    """The overdue requests the user answers for (their unions' and those escalated to them), oldest
    limit first: for home pages (issue 12) and the list's ``overdue`` filter."""
    return service_requests(user=user).filter(overdue_condition()).order_by("answer_due", "pk")


def is_overdue(service_request: ServiceRequest, today: dt.date | None = None) -> bool:
    """Whether one request is past a limit (the same rule as ``overdue_condition``)."""
    today = today or timezone.localdate()
    if service_request.status not in ServiceRequest.OPEN:
        return False
    late_ack = service_request.status == RequestStatus.NEW and service_request.acknowledge_due < today
    return late_ack or service_request.answer_due < today


def requests_to_escalate(today: dt.date) -> QuerySet[ServiceRequest]:
    """Node-wide (serves the escalation job): overdue requests not yet escalated whose union has a
    parent."""
    return ServiceRequest.objects.filter(
        overdue_condition(today), escalated_to__isnull=True, organization__parent__isnull=False
    ).select_related("organization__parent")


def thread(service_request: ServiceRequest, *, staff: bool = True) -> QuerySet[RequestEntry]:
    """The request's thread: everything for staff, replies only for the worker."""
    entries = service_request.entries.select_related("author")
    return entries if staff else entries.filter(kind="reply")


def access_entry(*, user: Viewer, pk: object, action: str = "view") -> RequestEntry:
    """A thread entry (for its attachment) through the scope of its request."""
    visible = service_requests(user=user, action=action).values("pk")
    return _access(RequestEntry.objects.filter(request__in=visible), pk)


def reassign_targets(*, user: Viewer) -> QuerySet[Organization]:
    """Unions the user may hand a request to: those where they may change requests."""
    return organizations_for(user=user, perm="services.change_servicerequest").filter(
        kind__in=OrganizationKind.union_kinds()
    )


def handover_nodes() -> list[Any]:
    """The trusted peer nodes a request can be handed to (not this node)."""
    from django.conf import settings

    from xietong.exchange.models import ExchangeNode

    return [
        node
        for node in ExchangeNode.objects.exclude(node_id=settings.XIETONG_NODE_ID).order_by("node_id")
        if node.is_trusted()
    ]


# Look-ups that serve writes (node-wide, no user) ------------------------------------------------------


def union_for_district(region: Region | None) -> Organization | None:
    """The union responsible for a district: a union whose region is the district, nearest the root
    (the district federation); else the union of the district's city. ``None`` if neither."""
    candidates = Organization.objects.filter(kind__in=OrganizationKind.union_kinds())
    while region is not None:
        union = candidates.filter(region=region).order_by(Length("path"), "pk").first()
        if union is not None:
            return union
        region = region.parent
    return None


def top_union() -> Organization | None:
    """This node's top union (the one nearest the root of the tree), where unrouted requests go."""
    return (
        Organization.objects.filter(kind__in=OrganizationKind.union_kinds())
        .order_by(Length("path"), "pk")
        .first()
    )


def current_membership(id_number_indexes: list[str]) -> Member | None:
    """The active membership of the person with one of these ID blind indexes (``pii.lookup_indexes``),
    if any (routing by membership)."""
    from xietong.membership.models import Member

    return (
        Member.objects.filter(person__id_number_index__in=id_number_indexes, status="active")
        .select_related("organization", "person")
        .order_by("-joined_on", "-pk")
        .first()
    )


def request_by_uid(uid: str) -> ServiceRequest | None:
    """A request by the uid it shares with another node (for messages from that node)."""
    return ServiceRequest.objects.filter(uid=uid).first()


# Knowledge base -----------------------------------------------------------------------------------------


def knowledge(*, user: Viewer, action: str = "view") -> QuerySet[KnowledgeAnswer]:
    """Standard answers written by the unions of the user's scope or above them (an officer reads the
    answers their federation wrote), plus every public one."""
    own = KnowledgeAnswer.objects.restrict(user, action)
    if action != "view":
        return own.select_related("category", "organization")
    paths = list(
        organizations_for(user=user, perm="services.view_knowledgeanswer").values_list("path", flat=True)
    )
    above = {int(part) for path in paths for part in path.strip("/").split("/") if part}
    return KnowledgeAnswer.objects.filter(
        Q(pk__in=own.values("pk")) | Q(organization__in=above) | Q(public=True)
    ).select_related("category", "organization")


def access_knowledge(*, user: Viewer, pk: object, action: str = "view") -> KnowledgeAnswer:
    """A standard answer if ``user`` may do ``action`` on it (Http404 otherwise)."""
    return _access(knowledge(user=user, action=action), pk)


def search_knowledge(queryset: QuerySet[KnowledgeAnswer], q: str) -> QuerySet[KnowledgeAnswer]:
    """Standard answers by words of the question, the answer or the keywords (every word must match)."""
    for word in normalize_query(q).split():
        queryset = queryset.filter(
            Q(question__icontains=word) | Q(answer__icontains=word) | Q(keywords__icontains=word)
        )
    return queryset


def public_answers(*, category: str = "", q: str = "") -> QuerySet[KnowledgeAnswer]:
    """The Q&A a worker reads before filing (public answers only, no account needed)."""
    queryset = KnowledgeAnswer.objects.filter(public=True).select_related("category")
    if category:
        queryset = queryset.filter(category__code=category)
    return search_knowledge(queryset, q)


# Legal aid ------------------------------------------------------------------------------------------------


def lawyers(*, user: Viewer, action: str = "view") -> QuerySet[Lawyer]:
    """The lawyer rosters of the unions in the user's scope."""
    return Lawyer.objects.restrict(user, action).select_related("organization")


def access_lawyer(*, user: Viewer, pk: object, action: str = "view") -> Lawyer:
    return _access(lawyers(user=user, action=action), pk)


def search_lawyers(queryset: QuerySet[Lawyer], q: str) -> QuerySet[Lawyer]:
    """Lawyers by name, firm or specialty."""
    q = normalize_query(q)
    if not q:
        return queryset
    return queryset.filter(Q(name__icontains=q) | Q(firm__icontains=q) | Q(specialties__icontains=q))


def roster_for(service_request: ServiceRequest) -> QuerySet[Lawyer]:
    """The lawyers a request's case may go to: active roster lawyers of its union or of a union above."""
    organization = service_request.organization
    ids = [int(part) for part in organization.path.strip("/").split("/") if part]
    return Lawyer.objects.filter(organization__in=ids, active=True).select_related("organization")


def legal_aid_cases(*, user: Viewer, action: str = "view") -> QuerySet[LegalAidCase]:
    """Legal-aid cases of the unions in the user's scope."""
    return LegalAidCase.objects.restrict(user, action).select_related("organization", "lawyer", "request")


def access_case(*, user: Viewer, pk: object, action: str = "view") -> LegalAidCase:
    return _access(legal_aid_cases(user=user, action=action), pk)


def search_cases(queryset: QuerySet[LegalAidCase], q: str) -> QuerySet[LegalAidCase]:
    """Cases by the worker's name, the lawyer's name or the request's number."""
    q = normalize_query(q)
    if not q:
        return queryset
    return queryset.filter(
        Q(request__requester_name__icontains=q)
        | Q(lawyer__name__icontains=q)
        | Q(request__number__icontains=q)
    )


# Figures ----------------------------------------------------------------------------------------------------


def figures(*, user: Viewer, since: dt.date | None = None) -> dict[str, Any]:
    """Volume by category, channel and union; on-time rate; satisfaction, over the user's scope.

    On time: answered (or closed) no later than the answer limit. Requests handed to another node
    count where they were filed."""
    queryset = service_requests(user=user)
    if since is not None:
        queryset = queryset.filter(created_at__date__gte=since)
    by_category = list(queryset.values("category__name").annotate(count=Count("pk")).order_by("-count"))
    labels = dict(Channel.choices)
    by_channel = [
        {"channel": str(labels.get(row["channel"], row["channel"])), "count": row["count"]}
        for row in queryset.values("channel").annotate(count=Count("pk")).order_by("-count")
    ]
    by_union = list(queryset.values("organization__name").annotate(count=Count("pk")).order_by("-count")[:30])
    answered = queryset.filter(answered_at__isnull=False)
    on_time = sum(
        1 for at, due in answered.values_list("answered_at", "answer_due") if timezone.localdate(at) <= due
    )
    rated = queryset.filter(satisfaction__isnull=False)
    average = rated.aggregate(avg=Avg("satisfaction"))["avg"]
    stars = {
        row["satisfaction"]: row["count"] for row in rated.values("satisfaction").annotate(count=Count("pk"))
    }
    return {
        "total": queryset.count(),
        "by_category": [(row["category__name"], row["count"]) for row in by_category],
        "by_channel": [(row["channel"], row["count"]) for row in by_channel],
        "by_union": [(row["organization__name"], row["count"]) for row in by_union],
        "answered": answered.count(),
        "on_time": on_time,
        "on_time_rate": round(100 * on_time / answered.count(), 1) if answered.exists() else None,
        "rated": rated.count(),
        "satisfaction": round(average, 2) if average is not None else None,
        "stars": [(score, stars.get(score, 0)) for score in range(1, 6)],
        "overdue": queryset.filter(overdue_condition()).count(),
    }


# Universal benefits on the card (普惠服务) -------------------------------------------------------------


def providers(*, user: Viewer, action: str = "view") -> QuerySet[BenefitProvider]:
    """Partner providers of the unions in the user's scope."""
    return BenefitProvider.objects.restrict(user, action).select_related("organization", "district")


def access_provider(*, user: Viewer, pk: object, action: str = "view") -> BenefitProvider:
    return _access(providers(user=user, action=action), pk)


def benefits(*, user: Viewer, action: str = "view") -> QuerySet[Benefit]:
    """Benefit items of the providers of the unions in the user's scope."""
    return Benefit.objects.restrict(user, action).select_related("provider__organization")


def access_benefit(*, user: Viewer, pk: object, action: str = "view") -> Benefit:
    return _access(benefits(user=user, action=action), pk)


def search_benefits(queryset: QuerySet[Benefit], q: str) -> QuerySet[Benefit]:
    """Benefit items by name or provider."""
    q = normalize_query(q)
    return queryset.filter(Q(name__icontains=q) | Q(provider__name__icontains=q)) if q else queryset


def provider_service_point_choices(
    *, user: Viewer, perm: str = "services.add_benefitprovider"
) -> QuerySet[Any]:
    """The card desks (membership's service points) of the unions where the user holds ``perm``
    (register, or change, providers): what a provider may be linked to."""
    from xietong.membership.models import ServicePoint

    unions = organizations_for(user=user, perm=perm)
    return ServicePoint.objects.filter(organization__in=unions).order_by("name", "pk")


def _desk_providers(user: Viewer) -> QuerySet[BenefitProvider] | None:
    """The providers whose desks this account staffs, or ``None`` for an account that staffs no
    desk (a union officer): a provider's desk account sees its own provider only."""
    if not user.is_authenticated:
        return None
    staffed = BenefitProvider.objects.filter(service_points__accounts=user)
    return staffed if staffed.exists() else None


def benefit_uses(*, user: Viewer) -> QuerySet[BenefitUse]:
    """Uses of the benefit items in the user's scope; a provider's desk account sees only the uses of
    its own provider (not another partner's, even under the same union)."""
    queryset = BenefitUse.objects.restrict(user, "view").select_related(
        "benefit__provider", "member__person", "member__organization", "service_point"
    )
    own = _desk_providers(user)
    return queryset.filter(benefit__provider__in=own) if own is not None else queryset


def used_benefits(*, user: Viewer) -> QuerySet[Benefit]:
    """The items among the uses the user may see (the uses list's item filter)."""
    return Benefit.objects.filter(pk__in=benefit_uses(user=user).values("benefit")).select_related("provider")


def search_benefit_uses(queryset: QuerySet[BenefitUse], q: str) -> QuerySet[BenefitUse]:
    """Uses by the member's name, the item or the provider."""
    q = normalize_query(q)
    if not q:
        return queryset
    return queryset.filter(
        Q(member__person__name__icontains=q)
        | Q(benefit__name__icontains=q)
        | Q(benefit__provider__name__icontains=q)
    )


def benefit_figures(*, user: Viewer) -> dict[str, Any]:
    """Uses per benefit item and per provider over what the user may see (a desk: its provider)."""
    queryset = benefit_uses(user=user)
    by_item = queryset.values("benefit__provider__name", "benefit__name").annotate(count=Count("pk"))
    by_provider = queryset.values("benefit__provider__name").annotate(count=Count("pk"))
    return {
        "total": queryset.count(),
        "members": queryset.values("member").distinct().count(),
        "by_item": [
            (f"{row['benefit__provider__name']} · {row['benefit__name']}", row["count"])
            for row in by_item.order_by("-count")[:30]
        ],
        "by_provider": [
            (row["benefit__provider__name"], row["count"]) for row in by_provider.order_by("-count")[:30]
        ],
    }


# Benefit look-ups that serve the desk and the redemption (no user: the desk's right was checked) ---


def benefit_offered_at(benefit: Benefit, service_point: Any) -> bool:
    """Whether the desk ``service_point`` belongs to the provider of ``benefit``."""
    return benefit.provider.service_points.filter(pk=service_point.pk).exists()


def desk_benefits(points: QuerySet[Any]) -> QuerySet[Benefit]:
    """The active items of the providers the desks ``points`` belong to (the desk's picker)."""
    return (
        Benefit.objects.filter(active=True, provider__active=True, provider__service_points__in=points)
        .select_related("provider")
        .distinct()
    )


def benefit_by_choice(pk: str) -> Benefit | None:
    """A benefit item by the id the desk's picker sent."""
    return Benefit.objects.select_related("provider").filter(pk=int(pk)).first() if pk.isdigit() else None


def period_start(period: str, today: dt.date) -> dt.date | None:
    """The first day of the calendar period that holds ``today`` (``None``: no period, count all)."""
    if period == BenefitPeriod.DAY:
        return today
    if period == BenefitPeriod.WEEK:
        return today - dt.timedelta(days=today.weekday())
    if period == BenefitPeriod.MONTH:
        return today.replace(day=1)
    if period == BenefitPeriod.YEAR:
        return today.replace(month=1, day=1)
    return None


def benefit_uses_in_period(benefit: Benefit, member: Member, today: dt.date) -> QuerySet[BenefitUse]:
    """The member's uses of ``benefit`` in the current limit period."""
    uses = BenefitUse.objects.filter(benefit=benefit, member=member)
    start = period_start(benefit.limit_period, today)
    return uses.filter(created_at__date__gte=start) if start is not None else uses


def benefit_ineligible(benefit: Benefit, member: Member) -> str:
    """Why ``member`` may not use ``benefit`` (empty: eligible). Card and membership status are
    membership's verification; this checks the item's unions and regions."""
    union_paths = [path for path in benefit.unions.values_list("path", flat=True)]
    if union_paths and not any(member.organization.path.startswith(path) for path in union_paths):
        return _("此项目仅限%(unions)s会员") % {
            "unions": "、".join(benefit.unions.values_list("name", flat=True))
        }
    region_codes = set(benefit.regions.values_list("code", flat=True))
    if region_codes:
        region: Region | None = member.organization.region
        chain = set()
        while region is not None:
            chain.add(region.code)
            region = region.parent
        if not chain & region_codes:
            return _("此项目仅限%(regions)s的工会会员") % {
                "regions": "、".join(benefit.regions.values_list("name", flat=True))
            }
    return ""


def member_benefits(member: Member) -> list[dict[str, Any]]:
    """The items ``member`` may use today, each with the uses left in the period (the portal's
    "benefits I can use"). Every node-wide active item the member is eligible for."""
    today = timezone.localdate()
    items = (
        Benefit.objects.filter(active=True, provider__active=True, valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("provider", "provider__district")
    )
    listed = []
    for item in items:
        if benefit_ineligible(item, member):
            continue
        used = benefit_uses_in_period(item, member, today).count()
        left = None if item.limit_count is None else max(item.limit_count - used, 0)
        listed.append({"benefit": item, "used": used, "left": left})
    return listed


def member_benefit_uses(member: Member) -> QuerySet[BenefitUse]:
    """The member's own uses (the portal's "my uses")."""
    return BenefitUse.objects.filter(member=member).select_related("benefit__provider", "service_point")

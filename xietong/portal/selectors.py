"""Every read of the member portal. A signed-in member reads only their own records: each selector
takes the ``Member`` the portal session holds and filters by that member's person, never by a
staff scope. Sign-in look-ups take a phone index and serve the actions."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from xietong.membership.choices import MemberStatus
from xietong.membership.models import JoinApplication, Member, MembershipTransfer
from xietong.services import selectors as services
from xietong.services.models import BenefitUse, RequestEntry, ServiceRequest

from .models import SignInCode

CURRENT = (MemberStatus.ACTIVE, MemberStatus.SUSPENDED)


# Sign-in -------------------------------------------------------------------------------------------------


def member_by_phone(phone_indexes: list[str]) -> Member | None:
    """The current membership of the person with this phone (any of its ``pii.lookup_indexes``), if any."""
    return (
        Member.objects.filter(person__phone_index__in=phone_indexes, status__in=CURRENT)
        .select_related("person", "organization")
        .order_by("-joined_on", "-pk")
        .first()
    )


def live_code(phone_indexes: list[str]) -> SignInCode | None:
    """The newest unused, unexpired code sent to this phone (any of its ``pii.lookup_indexes``: a code
    sent just before a key rotation still counts); older ones no longer count."""
    newest = SignInCode.objects.filter(phone_index__in=phone_indexes).order_by("-created_at", "-pk").first()
    if newest is None or newest.used_at is not None or newest.expires_at <= timezone.now():
        return None
    return newest


def portal_member(pk: object) -> Member | None:
    """The member a portal session names, while the membership is current (else the session ends)."""
    try:
        number = int(str(pk))
    except (TypeError, ValueError):
        return None
    return (
        Member.objects.filter(pk=number, status__in=CURRENT)
        .select_related("person", "organization", "employer")
        .first()
    )


# The member's own records --------------------------------------------------------------------------------


def membership_history(member: Member) -> QuerySet[Member]:
    """Every membership of the member's person on this node, newest first."""
    return (
        Member.objects.filter(person=member.person)
        .select_related("organization")
        .order_by("-joined_on", "-pk")
    )


def my_transfers(member: Member) -> QuerySet[MembershipTransfer]:
    """The transfers of any of the person's memberships."""
    return MembershipTransfer.objects.filter(member__person=member.person).select_related(
        "from_organization", "to_organization"
    )


def my_applications(member: Member) -> QuerySet[JoinApplication]:
    """Join applications made with the person's ID number (matched by its blind index)."""
    return JoinApplication.objects.filter(id_number_index=member.person.id_number_index).select_related(
        "organization"
    )


def my_requests(member: Member) -> QuerySet[ServiceRequest]:
    """Service requests filed by or for the person (any of their memberships), newest first."""
    return ServiceRequest.objects.filter(member__person=member.person).select_related(
        "category", "organization"
    )


def my_request(member: Member, pk: object) -> ServiceRequest:
    """One of the member's requests; the same Http404 when missing or someone else's."""
    try:
        number = int(str(pk))
    except (TypeError, ValueError):
        raise Http404 from None
    found = my_requests(member).filter(pk=number).first() if 0 < number < 2**63 else None
    if found is None:
        raise Http404
    return found


def my_thread(service_request: ServiceRequest) -> QuerySet[RequestEntry]:
    """What the worker reads of a request's thread: the replies only (no internal notes)."""
    return services.thread(service_request, staff=False)


def my_benefits(member: Member) -> list[dict[str, Any]]:
    """The benefit items the member can use today, with what is left of each limit."""
    return services.member_benefits(member)


def my_benefit_uses(member: Member) -> QuerySet[BenefitUse]:
    return services.member_benefit_uses(member).filter(member__person=member.person)


def notifications(member: Member, *, limit: int = 50) -> list[dict[str, Any]]:
    """Events about the member's requests and applications, newest first: replies and answers to
    requests, decisions on join applications and transfers. Derived from the records, not stored."""
    events: list[dict[str, Any]] = []
    for entry in RequestEntry.objects.filter(request__in=my_requests(member), kind="reply").select_related(
        "request"
    )[:limit]:
        events.append(
            {"at": entry.created_at, "kind": "reply", "text": entry.request.subject, "request": entry.request}
        )
    for service_request in my_requests(member).filter(Q(answered_at__isnull=False))[:limit]:
        events.append(
            {
                "at": service_request.answered_at,
                "kind": "answered",
                "text": service_request.subject,
                "request": service_request,
            }
        )
    for application in my_applications(member).exclude(reviewed_at__isnull=True)[:limit]:
        events.append(
            {
                "at": application.reviewed_at,
                "kind": "application",
                "text": application.get_status_display(),
                "application": application,
            }
        )
    for transfer in my_transfers(member).exclude(decided_at__isnull=True)[:limit]:
        events.append(
            {
                "at": transfer.decided_at,
                "kind": "transfer",
                "text": transfer.get_status_display(),
                "transfer": transfer,
            }
        )
    events.sort(key=lambda event: event["at"], reverse=True)
    return events[:limit]


def request_categories() -> Any:
    return services.categories()


def public_answers(category: str = "") -> Any:
    """The public Q&A a member reads before filing."""
    return services.public_answers(category=category)[:5]

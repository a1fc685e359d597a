"""Every read of the membership app that a user makes: takes the user, returns a scoped queryset.

A few node-wide look-ups serve writes rather than users (a card by number at a service desk, the
people and memberships a roll import must not duplicate); they take no user and say so."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404
from django.utils.crypto import constant_time_compare

from xietong.core import bulk, pii
from xietong.core.models import AuditEvent, Employer, Organization, Person
from xietong.core.selectors import normalize_query
from xietong.lib import phone

from . import cardtokens
from .choices import ApplicationStatus, CardStatus, MemberStatus
from .models import (
    CardPrintJob,
    CardUse,
    JoinApplication,
    JoinDay,
    Member,
    MemberCard,
    MemberImport,
    MembershipTransfer,
    OrganizationFigures,
    OutreachEvent,
    ServicePoint,
)

if TYPE_CHECKING:
    from xietong.core.models import User
    from xietong.core.typing import Viewer

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


def join_applications(*, user: Viewer, action: str = "view") -> QuerySet[JoinApplication]:
    """Applications to the unions of the user's scope, newest first."""
    return JoinApplication.objects.restrict(user, action).select_related("organization", "event", "member")


def join_review_queue(
    *, user: Viewer, q: str = "", status: str = ApplicationStatus.SUBMITTED
) -> QuerySet[JoinApplication]:
    """What an officer reviews: applications in a status, searched by name or employer."""
    queryset = join_applications(user=user).filter(status=status) if status else join_applications(user=user)
    return search_applications(queryset, q)


def search_applications(queryset: QuerySet[JoinApplication], q: str) -> QuerySet[JoinApplication]:
    """Applications by the applicant's name or the employer typed."""
    q = normalize_query(q)
    return queryset.filter(Q(name__icontains=q) | Q(employer_name__icontains=q)) if q else queryset


def search_events(queryset: QuerySet[OutreachEvent], q: str) -> QuerySet[OutreachEvent]:
    """Outreach events by title."""
    q = normalize_query(q)
    return queryset.filter(title__icontains=q) if q else queryset


def search_transfers(queryset: QuerySet[MembershipTransfer], q: str) -> QuerySet[MembershipTransfer]:
    """Membership transfers by the member's name."""
    q = normalize_query(q)
    return queryset.filter(member__person__name__icontains=q) if q else queryset


def join_application_by_token(token: str) -> JoinApplication | None:
    """The application an e-card link points to (no account needed: the link is the secret)."""
    if not token or len(token) > 64:
        return None
    return JoinApplication.objects.select_related("organization", "member").filter(access_token=token).first()


_RECEIPT_SALT = "xietong.membership.join-receipt"


def join_receipt_token(*, organization_id: int, id_number_index: str) -> str:
    """The token of a join answer's status link: signed (union, ID blind index, a nonce), so every
    submission gets a link of the same shape whether or not it made an application."""
    return signing.dumps(
        [organization_id, id_number_index, secrets.token_hex(4)], salt=_RECEIPT_SALT, compress=False
    )


def join_status_subject(token: str) -> tuple[Organization, str] | None:
    """The union and ID blind index a status link is about: a join receipt, or (links given before
    receipts) an application's own token. ``None`` when the link is neither."""
    if not token or len(token) > 200:
        return None
    try:
        organization_id, index, _nonce = signing.loads(token, salt=_RECEIPT_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        application = join_application_by_token(token)
        return (application.organization, application.id_number_index) if application else None
    organization = Organization.objects.filter(pk=organization_id).first()
    return (organization, str(index)) if organization else None


def join_number_state(*, organization: Organization, id_number_indexes: list[str]) -> str:
    """What the union already knows of an ID number (any of its ``pii.lookup_indexes``): ``"member"``,
    ``"pending"`` or ``""``. Node-internal: the join action uses it and never shows it on the public form."""
    if Member.objects.filter(
        person__id_number_index__in=id_number_indexes,
        organization=organization,
        status__in=MemberStatus.current(),
    ).exists():
        return "member"
    if JoinApplication.objects.filter(
        organization=organization, id_number_index__in=id_number_indexes, status=ApplicationStatus.SUBMITTED
    ).exists():
        return "pending"
    return ""


class JoinOutcome(NamedTuple):
    """What the status page may tell someone who gave the phone number on record: the union, the
    newest application with that phone (if any), and the membership (if the number is a member)."""

    organization: Organization
    application: JoinApplication | None
    member: Member | None


def join_outcome(*, token: str, phone_number: str) -> JoinOutcome | None:
    """The outcome behind a status link, only when ``phone_number`` matches the one on record (the
    application's, or the member's); ``None`` otherwise, whatever the number's state."""
    subject = join_status_subject(token)
    try:
        number = phone.parse(phone_number)
    except phone.InvalidPhone:
        return None
    if subject is None:
        return None
    organization, index = subject
    return _outcome(indexes=[index], number=number, organization=organization)


def join_find(*, id_number: str, phone_number: str) -> JoinOutcome | None:
    """The outcome for a worker who lost the status link and gives the ID number and the phone
    number: the newest application, on any union of the node, whose ID and phone both match, or the
    current membership whose person's do. ``None`` in every other case (no such number, a wrong
    phone), so the public page answers them alike. A malformed ID number raises ``ValidationError``
    in the public wording (that says nothing about who is on record)."""
    from .wording import parse_public_id_number

    parsed = parse_public_id_number(id_number)
    try:
        number = phone.parse(phone_number)
    except phone.InvalidPhone:
        return None
    indexes = pii.lookup_indexes(parsed.number, purpose="id_number")
    return _outcome(indexes=indexes, number=number, organization=None)


def _outcome(*, indexes: list[str], number: str, organization: Organization | None) -> JoinOutcome | None:
    """What an ID blind index (any of ``indexes``, see ``pii.lookup_indexes``) and a phone number that
    matches it may see, within ``organization`` (a status link's union) or node-wide (``None``: the
    look-up by ID number and phone)."""
    applications = JoinApplication.objects.filter(id_number_index__in=indexes).select_related(
        "member", "organization"
    )
    members = Member.objects.filter(person__id_number_index__in=indexes, status__in=MemberStatus.current())
    if organization is not None:
        applications = applications.filter(organization=organization)
        members = members.filter(organization=organization)
    matching = next(
        (
            application
            for application in applications[:20]
            if constant_time_compare(pii.decrypt(application.phone_cipher, field="phone"), number)
        ),
        None,
    )
    member = members.select_related("person", "organization").first()
    if member is not None:
        phone_indexes = pii.lookup_indexes(number, purpose="phone")
        if matching is not None or any(
            constant_time_compare(member.person.phone_index, i) for i in phone_indexes
        ):
            own = matching if matching is not None and matching.member_id == member.pk else None
            return JoinOutcome(organization or member.organization, own, member)
    if matching is None:
        return None
    return JoinOutcome(organization or matching.organization, matching, None)


def employer_for_union(*, name: str, organization: Organization) -> Employer | None:
    """The registered employer a worker's typed name means, within the union's scope: the exact name
    once simplified (traditional folded, spaces trimmed), registered under the union, one of its
    subunions, or a federation above it. Node-internal (joining and approval use it); ``None`` when
    none or several fit."""
    from xietong.lib import names

    simplified = names.to_simplified((name or "").strip())
    if not simplified or not organization.path:
        return None
    ancestors = [organization.path[: i + 1] for i, ch in enumerate(organization.path) if ch == "/" and i > 0]
    found = list(
        Employer.objects.filter(name=simplified)
        .filter(Q(organization__path__startswith=organization.path) | Q(organization__path__in=ancestors))
        .order_by("-organization__depth", "pk")[:2]
    )
    return found[0] if len(found) == 1 else None


def member_employer_choices(*, user: Viewer, member: Member) -> QuerySet[Employer]:
    """Registered employers an officer may link a member to: in the user's scope, within the member's
    union (its subtree or the federations above it), those like the typed name first."""
    from xietong.core.selectors import employer_list

    path = member.organization.path
    ancestors = [path[: i + 1] for i, ch in enumerate(path) if ch == "/" and i > 0]
    return employer_list(user=user).filter(
        Q(organization__path__startswith=path) | Q(organization__path__in=ancestors)
    )


def join_organization(code: str) -> Organization | None:
    """The union a join QR code names (by its code); only unions take members."""
    from xietong.core.choices import OrganizationKind

    return Organization.objects.filter(code=code, kind__in=OrganizationKind.union_kinds()).first()


def outreach_event_by_code(code: str) -> OutreachEvent | None:
    """The outreach event a QR code names."""
    return OutreachEvent.objects.select_related("organization", "employer").filter(code=code).first()


def outreach_events(*, user: Viewer, action: str = "view") -> QuerySet[OutreachEvent]:
    """Events of the user's scope with their live figures (applications, members made, cards)."""
    return (
        OutreachEvent.objects.restrict(user, action)
        .select_related("organization", "employer")
        .annotate(
            applications_count=Count("applications", distinct=True),
            joined_count=Count(
                "applications", filter=Q(applications__status=ApplicationStatus.APPROVED), distinct=True
            ),
            cards_count=Count("applications__member__cards", distinct=True),
        )
        .order_by("-held_on", "-pk")
    )


def members(*, user: Viewer, action: str = "view") -> QuerySet[Member]:
    """Members of the user's scope."""
    return Member.objects.restrict(user, action).select_related("person", "organization", "employer")


def members_without_card(queryset: QuerySet[Member]) -> QuerySet[Member]:
    """The active members of ``queryset`` that hold no card in use (those a card can be issued to)."""
    holding = MemberCard.objects.filter(status=CardStatus.ACTIVE).values("member_id")
    return queryset.filter(status=MemberStatus.ACTIVE).exclude(pk__in=holding)


def members_with_card_lost(queryset: QuerySet[Member], days: int = 7) -> QuerySet[Member]:
    """The members of ``queryset`` with a card reported lost in the last ``days`` days and not yet
    replaced (the card list's "lost this week", for the home page's to-do and the roll's filter)."""
    import datetime as dt

    from django.utils import timezone

    since = timezone.now() - dt.timedelta(days=days)
    lost = MemberCard.objects.filter(status=CardStatus.LOST, updated_at__gte=since).values("member_id")
    return queryset.filter(pk__in=lost)


#: What a membership number looks like (``numbers.member_numbers``: HY, the year, eight digits).
_MEMBER_NUMBER = re.compile(r"HY\d{12}")


#: A name search sends up to this many matching ids to the roll's queries as a list (issue 15 §4).
SEARCH_IDS_INLINE = 2000


def member_search(queryset: QuerySet[Member], q: str) -> QuerySet[Member]:
    """Search by name, membership number, employer, or resident ID number (exact, by blind index)."""
    q = q.strip()
    if not q:
        return queryset
    index = pii.id_number_lookup(q)
    if index:
        return queryset.filter(person__id_number_index__in=index)
    if _MEMBER_NUMBER.fullmatch(q.upper()):  # a membership number: its unique index, no scan (issue 16)
        return queryset.filter(number=q.upper())
    # The people and employers whose name matches, each a scan of one table; the roll is then read by
    # its person and employer indexes, not scanned with two joins per row (issue 16). A term without
    # letters that have a case (Chinese) is matched as typed: PostgreSQL then reads the name index
    # instead of folding every name with UPPER() (issue 15 §4: five times faster at 12万 people).
    name = normalize_query(q)
    contains = "name__icontains" if name.upper() != name.lower() else "name__contains"
    people: Any = Person.objects.order_by().filter(**{contains: name}).values_list("pk", flat=True)
    employers: Any = Employer.objects.order_by().filter(**{contains: name}).values_list("pk", flat=True)
    # The matching ids are read once, here: the list counts its rows and then reads its page, and
    # a subquery would scan the people table in both (issue 15 §4). A very common term keeps the
    # subquery rather than sending tens of thousands of ids.
    found = list(people[: SEARCH_IDS_INLINE + 1])
    if len(found) <= SEARCH_IDS_INLINE:
        people = found
    found = list(employers[: SEARCH_IDS_INLINE + 1])
    if len(found) <= SEARCH_IDS_INLINE:
        employers = found
    return queryset.filter(Q(person__in=people) | Q(number=q.upper()) | Q(employer__in=employers))


def member_history(member: Member) -> QuerySet[AuditEvent]:
    """Every audited change of the member and of its cards, oldest first."""
    card_ids = [str(pk) for pk in member.cards.values_list("pk", flat=True)]
    return AuditEvent.objects.filter(
        Q(target_type="membership.member", target_id=str(member.pk))
        | Q(target_type="membership.membercard", target_id__in=card_ids)
    ).order_by("id")


def cards(*, user: Viewer, action: str = "view") -> QuerySet[MemberCard]:
    """Cards of the members of the user's scope."""
    return MemberCard.objects.restrict(user, action).select_related("member__person", "member__organization")


def active_card(member: Member) -> MemberCard | None:
    """The member's card in use, if any."""
    return member.cards.filter(status=CardStatus.ACTIVE).first()


def card_token(card: MemberCard) -> str:
    """A fresh signed token for the card's QR code (valid ``XIETONG_CARD_TOKEN_TTL`` seconds)."""
    return cardtokens.issue(
        card_number=card.number,
        node=settings.XIETONG_NODE_ID,
        private_key=pii.node_signing_key(),
        ttl=settings.XIETONG_CARD_TOKEN_TTL,
    )


def service_points_for(user: Viewer) -> QuerySet[ServicePoint]:
    """The service points whose desks this account staffs and where it may verify cards (the
    ``verify_membercard`` permission in the point's subtree)."""
    if not user.is_authenticated:
        return ServicePoint.objects.none()
    return (
        ServicePoint.objects.restrict(user, "membership.verify_membercard")
        .filter(accounts=user)
        .select_related("organization")
    )


def card_uses(*, user: Viewer) -> QuerySet[CardUse]:
    """Uses of the cards of the user's scope."""
    return CardUse.objects.restrict(user, "view").select_related("card__member__person", "service_point")


class KnownPerson(NamedTuple):
    """A person already on the node, as a member import needs them (found by ID blind index)."""

    pk: int
    name: str
    phone_cipher: str
    phone_index: str
    phone_masked: str


class KnownMembership(NamedTuple):
    """A person's current membership, as a member import needs it."""

    pk: int
    person_id: int
    organization_id: int
    organization_name: str
    number: str
    employer_id: int | None
    joined_on: date


def people_by_id_index(
    indexes: list[str], *, aliases: dict[str, str] | None = None
) -> dict[str, KnownPerson]:
    """The people on the node among these ID blind indexes, by index (one query on PostgreSQL).
    Node-wide: an import must find a person whichever union registered them. ``aliases`` (old index →
    current index, ``pii.old_lookup_indexes``) also finds people not yet re-indexed in a key rotation,
    under their current index."""
    aliases = aliases or {}
    found: dict[str, KnownPerson] = {}
    fields = ("id_number_index", "pk", *KnownPerson._fields[1:])
    for part in bulk.where_in(Person.objects.order_by(), "id_number_index", [*indexes, *aliases]):
        for index, *values in part.values_list(*fields):
            found[aliases.get(index, index)] = KnownPerson(*values)
    return found


def current_memberships(person_ids: list[int]) -> dict[int, KnownMembership]:
    """The current (active or suspended) membership of each of these people that has one
    (node-wide: a member of another union is offered a transfer, not a second membership)."""
    fields = (
        "pk", "person_id", "organization_id", "organization__name", "number", "employer_id", "joined_on",
    )  # fmt: skip
    found: dict[int, KnownMembership] = {}
    queryset = Member.objects.order_by().filter(status__in=MemberStatus.current())
    for part in bulk.where_in(queryset, "person_id", person_ids, sql_type="bigint"):
        for values in part.values_list(*fields):
            found[values[1]] = KnownMembership(*values)
    return found


def member_imports(*, user: Viewer, action: str = "view") -> QuerySet[MemberImport]:
    """Imports into the unions of the user's scope, newest first."""
    return MemberImport.objects.restrict(user, action).select_related("organization", "created_by")


def transfers(*, user: Viewer, action: str = "view") -> QuerySet[MembershipTransfer]:
    """Transfers into or out of the unions of the user's scope: ``action`` is ``"view"`` (seeing
    them, ``view_member``) or ``"transfer"`` (handling them, ``transfer_member``)."""
    perm = f"membership.{action}_member"
    incoming = MembershipTransfer.objects.restrict(user, perm)
    outgoing = MembershipTransfer.objects.restrict(user, perm, lookup="from_organization__path")
    return MembershipTransfer.objects.filter(
        Q(pk__in=incoming.values("pk")) | Q(pk__in=outgoing.values("pk"))
    ).select_related("member__person", "from_organization", "to_organization")


def incoming_transfers(*, user: Viewer) -> QuerySet[MembershipTransfer]:
    """Transfers the user may decide: into the unions of the user's scope (``transfer_member``)."""
    return MembershipTransfer.objects.restrict(user, "membership.transfer_member").select_related(
        "member__person", "from_organization", "to_organization"
    )


def transfer_targets(member: Member) -> QuerySet[Organization]:
    """Unions of the node a member can move to (any but the current one)."""
    from xietong.core.choices import OrganizationKind

    return Organization.objects.filter(kind__in=OrganizationKind.union_kinds()).exclude(
        pk=member.organization_id
    )


def member_transfers(member: Member) -> QuerySet[MembershipTransfer]:
    """A member's transfers, newest first (shown on the member's page, whose scope is already checked)."""
    return MembershipTransfer.objects.filter(member=member).select_related(
        "from_organization", "to_organization"
    )


# The access layer (ARCHITECTURE.md §3 rule 9): one record for one user and one action, or Http404.
# Pages and the API call these with the action the request performs: "view" to show, "change" to
# move a workflow, "transfer" to hand a member to another union.


def access_member(*, user: Viewer, pk: object, action: str = "view") -> Member:
    """The member ``pk`` if ``user`` may do ``action`` on it (``view``, ``change``, ``transfer``)."""
    return _access(members(user=user, action=action), pk)


def access_application(*, user: Viewer, pk: object, action: str = "view") -> JoinApplication:
    """The join application ``pk`` if ``user`` may do ``action`` on it (``view``, ``change``)."""
    return _access(join_applications(user=user, action=action), pk)


def access_card(*, user: Viewer, pk: object, action: str = "view") -> MemberCard:
    """The card ``pk`` if ``user`` may do ``action`` on it (``view``, ``change``)."""
    return _access(cards(user=user, action=action), pk)


def access_event(*, user: Viewer, pk: object, action: str = "view") -> OutreachEvent:
    """The outreach event ``pk`` (with its figures) if ``user`` may do ``action`` on it."""
    return _access(outreach_events(user=user, action=action), pk)


def access_import(*, user: Viewer, pk: object, action: str = "view") -> MemberImport:
    """The member import ``pk`` if ``user`` may do ``action`` on it."""
    return _access(member_imports(user=user, action=action), pk)


def access_transfer(*, user: Viewer, pk: object, action: str = "view") -> MembershipTransfer:
    """The transfer ``pk`` if ``user`` may do ``action`` on it: ``view`` (either union),
    ``transfer`` (withdraw it: either union) or ``decide`` (accept or refuse: the receiving union)."""
    if action == "decide":
        return _access(incoming_transfers(user=user), pk)
    return _access(transfers(user=user, action=action), pk)


def printable_cards(*, user: Viewer, organization: Organization) -> QuerySet[MemberCard]:
    """The active cards of ``organization``'s members (with its subtree) that ``user`` may change,
    in print order (by union, then number)."""
    return (
        cards(user=user, action="change")
        .filter(status=CardStatus.ACTIVE, member__organization__path__startswith=organization.path)
        .order_by("member__organization__path", "number")
    )


def card_print_jobs(*, user: Viewer) -> QuerySet[CardPrintJob]:
    """Print jobs of the unions where ``user`` may change cards (who may print may follow and download)."""
    return CardPrintJob.objects.restrict(user, "membership.change_membercard").select_related("organization")


def access_card_print_job(*, user: Viewer, pk: object) -> CardPrintJob:
    """The print job ``pk`` if ``user`` may print cards in its union; the same 404 otherwise."""
    return _access(card_print_jobs(user=user), pk)


def access_card_print_organization(*, user: Viewer, pk: object) -> Organization:
    """The organisation whose members' cards ``user`` may print (``change_membercard`` there)."""
    from xietong.core.selectors import organizations_for

    return _access(organizations_for(user=user, perm="membership.change_membercard"), pk)


# A desk's right to verify at a service point, remembered briefly per process: checking the role and
# the service point's accounts costs three queries, more than verifying the card itself.
DESK_CACHE_SECONDS = 30
_desk_cache: dict[tuple[int, int], tuple[float, ServicePoint]] = {}


class DeskCard(NamedTuple):
    """What a service point desk needs of a scanned card: its state and the member's masked identity."""

    id: int
    number: str
    status: str
    member_status: str
    name: str
    id_number_masked: str
    union: str


@functools.cache
def desk_card_sql() -> str:
    """One SELECT over card, member, person and union (the columns of ``DeskCard``, one ``%s``: the
    card number), built once from the models' tables; ``actions.card_verify`` embeds it too."""
    from xietong.core.models import Person

    card, member = MemberCard._meta, Member._meta
    person, union = Person._meta, Organization._meta
    return (
        "SELECT c.id, c.number, c.status, m.status AS member_status, p.name, p.id_number_masked, "  # noqa: S608
        "o.name AS union_name "
        f"FROM {card.db_table} c JOIN {member.db_table} m ON m.id = c.member_id "
        f"JOIN {person.db_table} p ON p.id = m.person_id JOIN {union.db_table} o ON o.id = m.organization_id "
        "WHERE c.number = %s"
    )


def desk_card(number: str) -> DeskCard | None:
    """The card ``number`` as a desk sees it, in one statement without the ORM's per-query work:
    card verification runs this on every scan (issue 3 asks 1,500 scans/s of a node)."""
    with connection.cursor() as cursor:
        cursor.execute(desk_card_sql(), [number])
        row = cursor.fetchone()
    return DeskCard(*row) if row else None


def desk_card_id_number(card_id: int) -> str:
    """The full ID number of a card's member, decrypted, for the desk's second factor (its last four
    characters) when a card number is typed by hand; never shown. Node-internal."""
    cipher = (
        Person.objects.filter(memberships__cards__pk=card_id)
        .values_list("id_number_cipher", flat=True)
        .first()
    )
    return pii.decrypt(cipher, field="id_number") if cipher else ""


def desk_service_point(*, user: User, point_id: int) -> ServicePoint | None:
    """The service point ``point_id`` if ``user`` may verify cards there (cached ``DESK_CACHE_SECONDS``).

    Revoking a desk account's role or detaching it from the point takes effect within that time.
    """
    import time

    key = (user.pk, point_id)
    hit = _desk_cache.get(key)
    now = time.monotonic()
    if hit and hit[0] > now:
        return hit[1]
    point = service_points_for(user).filter(pk=point_id).first()
    if point is not None:
        if len(_desk_cache) > 10_000:
            _desk_cache.clear()
        _desk_cache[key] = (now + DESK_CACHE_SECONDS, point)
    return point


def figures(*, user: Viewer, weeks: int = 26) -> dict[str, Any]:
    """Members (the real-name roll: active and suspended), active members and cards in use per
    organisation of the user's scope, each over its whole subtree; joins per week; card uses per
    service point; for the figures page.

    Read from the aggregates the actions keep (``OrganizationFigures``, ``JoinDay``; issue 16): a
    few rows per organisation, however long the roll. ``updated_at`` says how fresh they are."""
    import datetime as dt

    from django.utils import timezone

    from xietong.core.selectors import organizations_for

    scope = organizations_for(user=user, perm="membership.view_member")
    top_depth = min(scope.values_list("depth", flat=True), default=0)
    tops = list(scope.filter(depth__in=[top_depth, top_depth + 1]).order_by("depth", "path")[:40])
    own = list(
        OrganizationFigures.objects.filter(organization__in=scope).values_list(
            "organization__path", "active", "suspended", "cards", "updated_at"
        )
    )
    rows = []
    for org in tops:
        inside = [row for row in own if row[0].startswith(org.path)]
        active = sum(row[1] for row in inside)
        members = active + sum(row[2] for row in inside)
        cards = sum(row[3] for row in inside)
        rows.append({"organization": org, "members": members, "active": active, "cards": cards,
                     "card_ratio": round(100 * cards / members, 1) if members else None})  # fmt: skip
    since = timezone.localdate() - dt.timedelta(weeks=weeks)
    per_week: dict[dt.date, int] = {}
    for day, count in JoinDay.objects.filter(organization__in=scope, day__gte=since).values_list(
        "day", "joins"
    ):
        monday = day - dt.timedelta(days=day.weekday())
        per_week[monday] = per_week.get(monday, 0) + count
    uses = (
        card_uses(user=user).values("service_point__name").annotate(count=Count("pk")).order_by("-count")[:20]
    )
    return {
        "rows": rows,
        "joins": [(str(week), count) for week, count in sorted(per_week.items()) if count],
        "uses": [(item["service_point__name"], item["count"]) for item in uses],
        "updated_at": max((row[4] for row in own), default=None),
    }


def members_export_rows(members: Any) -> Any:
    """The roll as rows in the import template's columns (so an export can be imported again)."""
    for member in members.iterator(chunk_size=2000):
        person = member.person
        yield [
            person.name,
            pii.decrypt(person.id_number_cipher, field="id_number"),
            person.get_gender_display(),
            person.birth_date.isoformat(),
            pii.decrypt(person.phone_cipher, field="phone") if person.phone_cipher else "",
            member.employer.name if member.employer else "",
            member.joined_on.isoformat(),
        ]

"""Every read of the exchange app: peers and queues for operators, the message log, the blacklist,
transfers, and eligibility certification (rosters, runs, findings, figures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from xietong.core import pii
from xietong.core.choices import ImportStatus
from xietong.lib import creditcode
from xietong.lib.names import to_simplified

from .choices import Direction, FindingStatus, ListingStatus, MessageStatus, RosterKind, RunStatus
from .models import (
    ArrearsListing,
    BenefitRoster,
    CertificationAssistance,
    CertificationFinding,
    CertificationRequest,
    CertificationStatistic,
    EligibilityCheck,
    ExchangeMessage,
    ExchangeNode,
    InsuranceTransfer,
    NodeRegistry,
    RefusedDelivery,
    RosterEntry,
)


def can_operate(user: Any) -> bool:
    return bool(user.has_perm("exchange.operate_exchange"))


@dataclass(frozen=True)
class PeerState:
    """A peer as the operator page shows it: its entry, queue and last error."""

    node: ExchangeNode
    pending: int
    refused: int
    oldest: Any


def peers(*, user: Any) -> list[PeerState]:
    """Every node of the registry with this node's outbox figures towards it (operators only)."""
    return peer_states() if can_operate(user) else []


def peer_states() -> list[PeerState]:
    """The figures of ``peers`` for the command line (``xietong exchange status``), unscoped."""
    pending = Q(status=MessageStatus.PENDING)
    figures: dict[str, dict[str, Any]] = {
        row["receiver"]: dict(row)
        for row in ExchangeMessage.objects.filter(direction=Direction.OUT)
        .values("receiver")
        .annotate(
            pending=Count("id", filter=pending),
            refused=Count("id", filter=Q(status=MessageStatus.REFUSED)),
            oldest=Min("created", filter=pending),
        )
    }
    empty = {"pending": 0, "refused": 0, "oldest": None}
    return [
        PeerState(node, **{key: figures.get(node.node_id, empty)[key] for key in empty})
        for node in ExchangeNode.objects.order_by("node_id")
    ]


def messages(*, user: Any, q: str = "", status: str = "") -> QuerySet[ExchangeMessage]:
    """The message log, newest first (operators only)."""
    if not can_operate(user):
        return ExchangeMessage.objects.none()
    queryset = ExchangeMessage.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    if q:
        queryset = queryset.filter(Q(kind__icontains=q) | Q(sender=q) | Q(receiver=q) | Q(message_id=q))
    return queryset


def refused_deliveries(*, user: Any) -> QuerySet[RefusedDelivery]:
    if not can_operate(user):
        return RefusedDelivery.objects.none()
    return RefusedDelivery.objects.all()


def is_hub() -> bool:
    """Whether this node signs the region group's registry."""
    return bool(settings.XIETONG_HUB_NODE_ID == settings.XIETONG_NODE_ID)


def registered_nodes() -> QuerySet[ExchangeNode]:
    """Every node of the registry held here, revoked ones included."""
    return ExchangeNode.objects.order_by("node_id")


def trusted_peers() -> list[ExchangeNode]:
    """The other nodes of the region group that this node may send to now."""
    return [
        node for node in ExchangeNode.objects.exclude(node_id=settings.XIETONG_NODE_ID) if node.is_trusted()
    ]


def registry() -> NodeRegistry | None:
    """The newest registry this node holds (the hub serves it to the others)."""
    return NodeRegistry.objects.order_by("-version").first()


def arrears_listings(*, user: Any, q: str = "", status: str = "") -> QuerySet[ArrearsListing]:
    """The blacklist as every node holds it: its own listings and those published by the others."""
    if not user.has_perm("exchange.view_arrearslisting"):
        return ArrearsListing.objects.none()
    queryset = ArrearsListing.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    if q:
        text = to_simplified(q.strip())
        code = creditcode.normalize(q)
        queryset = queryset.filter(
            Q(employer_name__icontains=text) | Q(credit_code=code) | Q(decision_no__icontains=q.strip())
        )
    return queryset


def arrears_check(*, credit_code: str = "", name: str = "") -> list[ArrearsListing]:
    """Is this employer on the blacklist anywhere in the region group? Its current listings.

    For other apps (honours, competitions): no user, no scope, the blacklist is shared by design.
    A credit code is matched exactly (after normalising); a name exactly after simplification.
    """
    condition = Q()
    if credit_code.strip():
        condition |= Q(credit_code=creditcode.normalize(credit_code))
    if name.strip():
        condition |= Q(employer_name=to_simplified(name.strip()))
    if not condition:
        return []
    return list(ArrearsListing.objects.filter(condition, status=ListingStatus.LISTED))


def arrears_editable_by(*, user: Any) -> QuerySet[ArrearsListing]:
    """Listings this node made in the organisations where the user may change them."""
    return ArrearsListing.objects.restrict(user, "change").filter(organization__isnull=False)


def verify_log() -> tuple[int, list[str]]:
    """Check both message logs: each channel's sequence and hash chain, each content hash, each
    sender signature (this node's key for what it sent, the sender's registry key for what it
    received). Returns the number of messages checked and the problems found, in words."""
    from xietong.core import pii

    from . import envelope
    from .models import GENESIS_HASH

    keys = {node.node_id: node.public_key for node in ExchangeNode.objects.all()}
    checked, problems = 0, []
    last: dict[tuple[str, str, str], tuple[int, str]] = {}
    for message in ExchangeMessage.objects.order_by("direction", "sender", "receiver", "seq").iterator():
        checked += 1
        channel = (message.direction, message.sender, message.receiver)
        seq, previous = last.get(channel, (0, GENESIS_HASH))
        where = f"{message.get_direction_display()} {message.sender}→{message.receiver} 第{message.seq}条"
        if message.seq != seq + 1:
            problems.append(f"{where}：序号不连续（上一条为第{seq}条）")
        if message.prev_hash != previous:
            problems.append(f"{where}：前序摘要与上一条不符（链条断裂）")
        if envelope.content_hash(message.content()) != message.hash:
            problems.append(f"{where}：内容与摘要不符（内容被改动）")
        key = pii.node_public_key() if message.direction == Direction.OUT else keys.get(message.sender, "")
        if not envelope.crypto.verify(key, message.hash.encode(), message.signature):
            problems.append(f"{where}：签名无效")
        last[channel] = (message.seq, message.hash)
    return checked, problems


WAITING = ("requested", "answered")


def transfers(
    *, user: Any, q: str = "", status: str = "", action: str = "view"
) -> QuerySet[InsuranceTransfer]:
    """Transfers this node takes part in that ``user`` may ``action`` ("view" or "change").

    A transfer accepted here belongs to the office that accepted it and is scoped by its subtree; one
    that arrived from another region (this node is the sending region) has no office yet and is in
    the queue of everyone holding the permission.
    """
    if not user.has_perm(f"exchange.{action}_insurancetransfer"):
        return InsuranceTransfer.objects.none()
    queryset = InsuranceTransfer.objects.restrict(user, action) | InsuranceTransfer.objects.filter(
        organization__isnull=True
    )
    queryset = queryset.select_related("organization")
    if status == "overdue":
        queryset = queryset.filter(status__in=WAITING, due_on__lt=timezone.localdate())
    elif status:
        queryset = queryset.filter(status=status)
    if q:
        index = pii.id_number_lookup(q)
        text = q.strip()
        queryset = queryset.filter(
            Q(id_number_index=index) if index else Q(name__icontains=to_simplified(text)) | Q(uid=text)
        )
    return queryset


def transfer_for_worker(token: str) -> InsuranceTransfer | None:
    """The transfer a worker follows with the link on their receipt (no account needed)."""
    return InsuranceTransfer.objects.filter(status_token=token).first()


def transfer_is_overdue(transfer: InsuranceTransfer) -> bool:
    """Still waiting on a step whose working-day limit has passed."""
    return transfer.status in WAITING and transfer.due_on < timezone.localdate()


def transfer_waits_on_this_node(transfer: InsuranceTransfer) -> bool:
    """Whether the next step is this node's (answer as sending region, complete as receiving one)."""
    return (transfer.side, transfer.status) in {("sending", "requested"), ("receiving", "answered")}


# Benefit eligibility certification ------------------------------------------------------------------


def rosters(*, user: Any, q: str = "", kind: str = "", action: str = "view") -> QuerySet[BenefitRoster]:
    """The rosters of the user's offices (newest first)."""
    queryset = BenefitRoster.objects.restrict(user, action).select_related("organization")
    if kind:
        queryset = queryset.filter(kind=kind)
    if q:
        queryset = queryset.filter(Q(title__icontains=to_simplified(q)) | Q(original_name__icontains=q))
    return queryset


def runnable_rosters(*, user: Any) -> QuerySet[BenefitRoster]:
    """Current benefit rosters the user may certify (not death registrations, imported, not superseded)."""
    return (
        rosters(user=user, action="exchange.add_eligibilitycheck")
        .filter(status=ImportStatus.DONE, superseded=False)
        .exclude(kind=RosterKind.DEATH)
    )


def roster_entries(*, user: Any, roster: BenefitRoster, q: str = "") -> QuerySet[RosterEntry]:
    """The people on a roster the user may see (masked), searchable by name or ID number."""
    queryset = RosterEntry.objects.restrict(user, "exchange.view_benefitroster").filter(roster=roster)
    if q:
        index = pii.id_number_lookup(q)
        queryset = queryset.filter(
            Q(id_number_index=index)
            if index
            else Q(name__icontains=to_simplified(q.strip())) | Q(record_id=q)
        )
    return queryset


def certification_runs(*, user: Any, q: str = "", status: str = "") -> QuerySet[EligibilityCheck]:
    """Runs of the user's offices, with their finding counts."""
    queryset = (
        EligibilityCheck.objects.restrict(user, "view")
        .select_related("organization", "roster")
        .annotate(
            finding_count=Count("findings", distinct=True),
            open_count=Count("findings", filter=Q(findings__status=FindingStatus.OPEN), distinct=True),
        )
        .order_by("-created_at", "-pk")
    )
    if status:
        queryset = queryset.filter(status=status)
    if q:
        queryset = queryset.filter(Q(roster__title__icontains=to_simplified(q)) | Q(uid=q.strip()))
    return queryset


def findings(
    *, user: Any, run: EligibilityCheck | None = None, q: str = "", status: str = "", kind: str = "",
    action: str = "view",
) -> QuerySet[CertificationFinding]:  # fmt: skip
    """Findings the user may see (or decide, with ``action="change"``), open ones first."""
    queryset = CertificationFinding.objects.restrict(user, action).select_related(
        "entry", "entry__roster", "run", "run__organization"
    )
    if run is not None:
        queryset = queryset.filter(run=run)
    if status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    if q:
        index = pii.id_number_lookup(q)
        queryset = queryset.filter(
            Q(entry__id_number_index=index) if index else Q(entry__name__icontains=to_simplified(q.strip()))
        )
    return queryset


def run_partner_problems(run: EligibilityCheck) -> list[ExchangeMessage]:
    """This run's messages a partner refused or could not apply (with the reason they gave)."""
    return list(
        ExchangeMessage.objects.filter(
            direction=Direction.OUT,
            idempotency_key__startswith=f"certification.request:{run.uid}:",
            status=MessageStatus.REFUSED,
        ).order_by("receiver", "seq")
    )


@dataclass
class YearFigures:
    """One region's certification figures in one year."""

    region: str
    year: int
    checked: int = 0
    findings: int = 0
    confirmed: int = 0
    assisted: int = 0
    source: str = ""


def certification_figures(*, user: Any) -> list[YearFigures]:
    """Figures per region and year: for this node's region, the people it checked, the findings,
    the confirmed ones and the people it checked for other regions; for each partner region, the
    people it checked for us; and the figures regions reported outside the platform."""
    from django.db.models.functions import ExtractYear

    own = settings.XIETONG_NODE_NAME
    table: dict[tuple[str, int], YearFigures] = {}

    def row(region: str, year: int, source: str = "本平台统计") -> YearFigures:
        return table.setdefault((region, year), YearFigures(region, year, source=source))

    runs = EligibilityCheck.objects.restrict(user, "view")
    for year, checked in (
        runs.exclude(status=RunStatus.FAILED).annotate(y=ExtractYear("created_at")).values("y")
        .annotate(n=Sum("records")).values_list("y", "n")
    ):  # fmt: skip
        row(own, year).checked += checked or 0
    found = CertificationFinding.objects.filter(run__in=runs).annotate(y=ExtractYear("run__created_at"))
    for year, total, confirmed in (
        found.values("y")
        .annotate(n=Count("pk"), c=Count("pk", filter=Q(status=FindingStatus.CONFIRMED)))
        .values_list("y", "n", "c")
    ):
        row(own, year).findings += total
        row(own, year).confirmed += confirmed
    if user.has_perm("exchange.view_eligibilitycheck"):
        for year, assisted in (
            CertificationAssistance.objects.annotate(y=ExtractYear("created_at")).values("y")
            .annotate(n=Sum("checked")).values_list("y", "n")
        ):  # fmt: skip
            row(own, year).assisted += assisted or 0
    for name, year, checked in (
        CertificationRequest.objects.filter(run__in=runs).annotate(y=ExtractYear("run__created_at"))
        .values("partner_name", "y").annotate(n=Sum("checked")).values_list("partner_name", "y", "n")
    ):  # fmt: skip
        row(name, year).assisted += checked or 0
    for statistic in CertificationStatistic.objects.all():
        figures = row(statistic.region_name, statistic.year, statistic.source)
        figures.checked += statistic.checked
        figures.findings += statistic.findings
        figures.confirmed += statistic.confirmed
        figures.assisted += statistic.assisted
    return sorted(table.values(), key=lambda f: (-f.year, f.region))

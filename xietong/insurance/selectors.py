"""Every read of the insurance app: insurance transfers, and eligibility certification (rosters, runs,
findings, figures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from xietong.core import pii
from xietong.core.choices import ImportStatus, OrganizationKind
from xietong.core.models import Organization
from xietong.core.selectors import organizations_for
from xietong.exchange.choices import Direction, MessageStatus
from xietong.exchange.models import ExchangeMessage
from xietong.lib.names import to_simplified

from .choices import FindingStatus, RosterKind, RunStatus
from .models import (
    BenefitRoster,
    CertificationAssistance,
    CertificationFinding,
    CertificationRequest,
    CertificationStatistic,
    EligibilityCheck,
    InsuranceTransfer,
    RosterEntry,
)

WAITING = ("requested", "answered")


def hrss_offices_for(*, user: Any, perm: str) -> QuerySet[Organization]:
    """The HRSS bureaus where ``user`` holds ``perm``: the offices a transfer or a roster may belong
    to (never an arbitration commission, an inspection authority or a union in the same tree)."""
    return organizations_for(user=user, perm=perm).filter(kind=OrganizationKind.HRSS_BUREAU)


def transfers(
    *, user: Any, q: str = "", status: str = "", action: str = "view"
) -> QuerySet[InsuranceTransfer]:
    """Transfers this node takes part in that ``user`` may ``action`` ("view" or "change").

    Every transfer belongs to one office (an incoming request to the HRSS bureau it names, or the
    node's top one, which may hand it to a district office) and is scoped by that office's subtree.
    """
    if not user.has_perm(f"insurance.{action}_insurancetransfer"):
        return InsuranceTransfer.objects.none()
    queryset = InsuranceTransfer.objects.restrict(user, action).select_related("organization")
    return search_transfers(transfers_in_status(queryset, status), q)


def transfers_in_status(queryset: QuerySet[InsuranceTransfer], status: str) -> QuerySet[InsuranceTransfer]:
    """Transfers in ``status``; ``"overdue"``: still waiting on a step whose limit has passed."""
    if status == "overdue":
        return queryset.filter(status__in=WAITING, due_on__lt=timezone.localdate())
    return queryset.filter(status=status) if status else queryset


def search_transfers(queryset: QuerySet[InsuranceTransfer], q: str) -> QuerySet[InsuranceTransfer]:
    """Transfers by the worker's ID number (blind index), name, or the transfer's number."""
    if not q.strip():
        return queryset
    index = pii.id_number_lookup(q)
    text = q.strip()
    return queryset.filter(
        Q(id_number_index=index) if index else Q(name__icontains=to_simplified(text)) | Q(uid=text)
    )


def access_transfer(*, user: Any, pk: int | str, action: str = "view") -> InsuranceTransfer:
    """The transfer if ``user`` may ``action`` it ("view", or "change" for answer, refuse, complete and
    assign); the same ``Http404`` whether it is missing or outside the user's scope. Pages and API
    call this with the action the request performs."""
    if not str(pk).isdigit():
        raise Http404
    transfer = transfers(user=user, action=action).filter(pk=int(pk)).first()
    if transfer is None:
        raise Http404
    return transfer


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
    return search_rosters(queryset, q)


def search_rosters(queryset: QuerySet[BenefitRoster], q: str) -> QuerySet[BenefitRoster]:
    """Rosters by title or the uploaded file's name."""
    q = q.strip()
    return (
        queryset.filter(Q(title__icontains=to_simplified(q)) | Q(original_name__icontains=q))
        if q
        else queryset
    )


def runnable_rosters(*, user: Any) -> QuerySet[BenefitRoster]:
    """Current benefit rosters the user may certify (not death registrations, imported, not superseded)."""
    return (
        rosters(user=user, action="insurance.add_eligibilitycheck")
        .filter(status=ImportStatus.DONE, superseded=False)
        .exclude(kind=RosterKind.DEATH)
    )


def roster_entries(*, user: Any, roster: BenefitRoster, q: str = "") -> QuerySet[RosterEntry]:
    """The people on a roster the user may see (masked), searchable by name or ID number."""
    queryset = RosterEntry.objects.restrict(user, "insurance.view_benefitroster").filter(roster=roster)
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
    return search_runs(queryset, q)


def search_runs(queryset: QuerySet[EligibilityCheck], q: str) -> QuerySet[EligibilityCheck]:
    """Runs by their roster's title or the run's number."""
    q = q.strip()
    return queryset.filter(Q(roster__title__icontains=to_simplified(q)) | Q(uid=q)) if q else queryset


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
    return search_findings(queryset, q)


def search_findings(queryset: QuerySet[CertificationFinding], q: str) -> QuerySet[CertificationFinding]:
    """Findings by the person's ID number (blind index) or name."""
    if not q.strip():
        return queryset
    index = pii.id_number_lookup(q)
    return queryset.filter(
        Q(entry__id_number_index=index) if index else Q(entry__name__icontains=to_simplified(q.strip()))
    )


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
    if user.has_perm("insurance.view_eligibilitycheck"):
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

"""Every read of the insurance app: insurance transfers, and eligibility certification (rosters, runs,
findings, figures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from xietong.core import pii
from xietong.core.choices import JobStatus, OrganizationKind
from xietong.core.models import Organization
from xietong.core.selectors import get_scoped, organizations_for
from xietong.exchange.choices import Direction, MessageStatus
from xietong.exchange.models import ExchangeMessage, ExchangeNode
from xietong.lib import idnumber
from xietong.lib.names import to_simplified

from .choices import BENEFIT_NAMES, FindingStatus, RosterKind, RunStage
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

if TYPE_CHECKING:
    from xietong.core.typing import Viewer

    from .printing import SuspensionLetter

WAITING = ("requested", "answered")


def hrss_offices_for(*, user: Viewer, perm: str) -> QuerySet[Organization]:
    """The HRSS bureaus where ``user`` holds ``perm``: the offices a transfer or a roster may belong
    to (never an arbitration commission, an inspection authority or a union in the same tree)."""
    return organizations_for(user=user, perm=perm).filter(kind=OrganizationKind.HRSS_BUREAU)


def transfers(
    *, user: Viewer, q: str = "", status: str = "", action: str = "view"
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


def access_transfer(*, user: Viewer, pk: object, action: str = "view") -> InsuranceTransfer:
    """The transfer if ``user`` may ``action`` it ("view", or "change" for answer, refuse, complete and
    assign); the same ``Http404`` whether it is missing or outside the user's scope. Pages and API
    call this with the action the request performs."""
    return get_scoped(transfers(user=user, action=action), pk)


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


def rosters(*, user: Viewer, q: str = "", kind: str = "", action: str = "view") -> QuerySet[BenefitRoster]:
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


def runnable_rosters(*, user: Viewer) -> QuerySet[BenefitRoster]:
    """Current benefit rosters the user may certify (not death registrations, imported, not superseded)."""
    return (
        rosters(user=user, action="insurance.add_eligibilitycheck")
        .filter(status=JobStatus.DONE, superseded=False)
        .exclude(kind=RosterKind.DEATH)
    )


def roster_entries(*, user: Viewer, roster: BenefitRoster, q: str = "") -> QuerySet[RosterEntry]:
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


def certification_runs(*, user: Viewer, q: str = "", status: str = "") -> QuerySet[EligibilityCheck]:
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
    return search_runs(runs_in_state(queryset, status), q)


def runs_in_state(queryset: QuerySet[EligibilityCheck], state: str) -> QuerySet[EligibilityCheck]:
    """Runs in one of ``choices.RUN_STATES``: a job state, or (once sent) the partners' stage."""
    if state in RunStage.values:
        return queryset.filter(status=JobStatus.DONE, stage=state)
    return queryset.filter(status=state) if state else queryset


def search_runs(queryset: QuerySet[EligibilityCheck], q: str) -> QuerySet[EligibilityCheck]:
    """Runs by their roster's title or the run's number."""
    q = q.strip()
    return queryset.filter(Q(roster__title__icontains=to_simplified(q)) | Q(uid=q)) if q else queryset


def findings(
    *, user: Viewer, run: EligibilityCheck | None = None, q: str = "", status: str = "", kind: str = "",
    action: str = "view",
) -> QuerySet[CertificationFinding]:  # fmt: skip
    """Findings the user may see (or decide, with ``action="change"``), open ones first."""
    queryset = CertificationFinding.objects.restrict(user, action).select_related(
        "entry", "entry__roster", "run", "run__organization", "decided_by", "decided_in", "decided_in__roster"
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


def same_person_findings(finding: CertificationFinding) -> QuerySet[CertificationFinding]:
    """Every finding, in any run of the same office, about the same person (the roster entry's ID
    blind index, or its record number when it has no valid ID), from the same partner and of the same
    kind: the findings one decision holds for (``finding`` included). Unscoped: the actions call it
    for a finding the user was already allowed to decide; pages use ``other_run_decisions``."""
    entry = finding.entry
    person = (
        Q(entry__id_number_index=entry.id_number_index)
        if entry.id_number_index
        else Q(entry__id_number_index="", entry__record_id=entry.record_id)
    )
    return CertificationFinding.objects.filter(
        person, partner=finding.partner, kind=finding.kind, run__organization_id=finding.run.organization_id
    ).select_related("entry", "run", "run__roster", "decided_by", "decided_in", "decided_in__roster")


def other_run_decisions(*, user: Viewer, finding: CertificationFinding) -> list[CertificationFinding]:
    """The same person's findings from the same partner in the user's other runs, with their
    decisions (who, when, in which run): what the finding page shows beside its own decision."""
    visible = CertificationFinding.objects.restrict(user, "view").values("pk")
    return list(
        same_person_findings(finding)
        .exclude(pk=finding.pk)
        .filter(pk__in=visible)
        .order_by("-run__created_at")
    )


# The access layer (ARCHITECTURE.md §3 rule 9): one record for one user and one action, or the same
# Http404 for a missing record and one outside the user's scope. Pages and the API call these with
# the action the request performs.

# Deciding a run's findings needs the right to change findings over the run's office.
DECIDE_FINDINGS = "insurance.change_certificationfinding"


def access_roster(*, user: Viewer, pk: object, action: str = "view") -> BenefitRoster:
    """The benefit roster ``pk`` if ``user`` may ``action`` it (``view``)."""
    return get_scoped(rosters(user=user, action=action), pk)


def access_run(*, user: Viewer, pk: object, action: str = "view") -> EligibilityCheck:
    """The certification run ``pk`` (with its finding counts) if ``user`` may ``action`` it: ``view``,
    or ``decide`` (confirm or dismiss its findings: ``change_certificationfinding`` over its office)."""
    queryset = certification_runs(user=user)
    if action != "view":
        allowed = EligibilityCheck.objects.restrict(user, DECIDE_FINDINGS if action == "decide" else action)
        queryset = queryset.filter(pk__in=allowed.values("pk"))
    return get_scoped(queryset, pk)


def may_decide_findings(*, user: Viewer, run: EligibilityCheck) -> bool:
    """Whether ``user`` may confirm or dismiss ``run``'s findings (what the run page offers)."""
    return EligibilityCheck.objects.restrict(user, DECIDE_FINDINGS).filter(pk=run.pk).exists()


def access_finding(*, user: Viewer, pk: object, action: str = "view") -> CertificationFinding:
    """The finding ``pk`` if ``user`` may ``action`` it (``view``; ``change`` to confirm or dismiss)."""
    return get_scoped(findings(user=user, action=action), pk)


def may_change_finding(*, user: Viewer, finding: CertificationFinding) -> bool:
    """Whether ``user`` may confirm or dismiss ``finding`` (what the finding page offers)."""
    return findings(user=user, action="change").filter(pk=finding.pk).exists()


def may_change_transfer(*, user: Viewer, transfer: InsuranceTransfer) -> bool:
    """Whether ``user`` may take ``transfer``'s next step or assign it (what its page offers)."""
    return transfers(user=user, action="change").filter(pk=transfer.pk).exists()


def run_partner_problems(run: EligibilityCheck) -> list[ExchangeMessage]:
    """This run's messages a partner refused or could not apply (with the reason they gave)."""
    return list(
        ExchangeMessage.objects.filter(
            direction=Direction.OUT,
            idempotency_key__startswith=f"certification.request:{run.uid}:",
            status=MessageStatus.REFUSED,
        ).order_by("receiver", "seq")
    )


# Regions, as a citizen or a director reads them: never a node id or "…节点" -----------------------

# Province-level municipalities name their HRSS authority 局; provinces and autonomous regions 厅.
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})


def region_name(region_code: str, fallback: str = "") -> str:
    """The province-level region of a 6-digit code (``"130100"`` → ``"河北省"``); ``fallback``
    without its "节点" when the code is blank or unknown (a node registered without one)."""
    try:
        return idnumber.region_name(region_code[:2] + "0000")[0] if region_code else ""
    except idnumber.InvalidIdNumber:
        pass
    return fallback.removesuffix("节点").strip() or fallback


def hrss_authority(region_code: str, fallback: str = "") -> str:
    """The HRSS authority of a region (``"130000"`` → ``"河北省人力资源和社会保障厅"``), or
    "<fallback region>人力资源和社会保障部门" when the code is unknown."""
    region = region_name(region_code)
    if not region:
        return f"{region_name('', fallback) or '对方地区'}人力资源和社会保障部门"
    return f"{region}人力资源和社会保障{'局' if region_code[:2] in MUNICIPALITIES else '厅'}"


def node_regions() -> dict[str, tuple[str, str]]:
    """Each registered node's region name and region code, by node id (the registry's entry)."""
    return {
        node.node_id: (region_name(node.region_code, node.name), node.region_code)
        for node in ExchangeNode.objects.all()
    }


def own_region() -> str:
    """This node's region (``XIETONG_REGION_CODE``), as the figures name it."""
    return region_name(settings.XIETONG_REGION_CODE, settings.XIETONG_NODE_NAME)


def suspension_letter(finding: CertificationFinding) -> SuspensionLetter:
    """What the suspension letter of a confirmed finding says: the partner is named by its region's
    HRSS authority (from the registry's region code), never by its node."""
    from .printing import SuspensionLetter

    entry = finding.entry
    node = ExchangeNode.objects.filter(node_id=finding.partner).first()
    return SuspensionLetter(
        office=finding.run.organization.name,
        name=entry.name,
        id_masked=entry.id_number_masked,
        benefit=str(BENEFIT_NAMES[finding.run.roster.kind]),
        partner=hrss_authority(node.region_code if node else "", finding.partner_name),
        reason=finding.get_kind_display(),
        suspended_on=(entry.suspended_at or timezone.now()).date(),
        letter_no=f"{finding.run.uid[:8]}-{finding.pk}",
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


def certification_figures(*, user: Viewer) -> list[YearFigures]:
    """Figures per region and year: for this node's region, the people it checked, the findings,
    the confirmed ones and the people it checked for other regions; for each partner region, the
    people it checked for us; and the figures regions reported outside the platform."""
    from django.db.models.functions import ExtractYear

    own = own_region()
    regions = node_regions()
    table: dict[tuple[str, int], YearFigures] = {}

    def row(region: str, year: int, source: str = "本平台统计") -> YearFigures:
        return table.setdefault((region, year), YearFigures(region, year, source=source))

    runs = EligibilityCheck.objects.restrict(user, "view")
    for year, checked in (
        runs.filter(status=JobStatus.DONE).annotate(y=ExtractYear("created_at")).values("y")
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
    for partner, name, year, checked in (
        CertificationRequest.objects.filter(run__in=runs).annotate(y=ExtractYear("run__created_at"))
        .values("partner", "partner_name", "y").annotate(n=Sum("checked"))
        .values_list("partner", "partner_name", "y", "n")
    ):  # fmt: skip
        region = regions.get(partner, (region_name("", name), ""))[0]
        row(region, year).assisted += checked or 0
    for statistic in CertificationStatistic.objects.all():
        figures = row(statistic.region_name, statistic.year, statistic.source)
        figures.checked += statistic.checked
        figures.findings += statistic.findings
        figures.confirmed += statistic.confirmed
        figures.assisted += statistic.assisted
    return sorted(table.values(), key=lambda f: (-f.year, f.region))

"""Every read of the insurance app: insurance transfers, and eligibility certification (rosters, runs,
findings, figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from xietong.core import bulk, pii
from xietong.core.choices import JobStatus, OrganizationKind
from xietong.core.models import Organization, Region
from xietong.core.selectors import get_scoped, organizations_for, work_calendar
from xietong.exchange.choices import Direction, MessageStatus
from xietong.exchange.models import ExchangeMessage, ExchangeNode
from xietong.lib import idnumber, workdays
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


def transfers(*, user: Viewer, action: str = "view") -> QuerySet[InsuranceTransfer]:
    """Transfers this node takes part in that ``user`` may ``action`` ("view" or "change").

    Every transfer belongs to one office (an incoming request to the HRSS bureau it names, or the
    node's top one, which may hand it to a district office) and is scoped by that office's subtree.
    """
    if not user.has_perm(f"insurance.{action}_insurancetransfer"):
        return InsuranceTransfer.objects.none()
    return InsuranceTransfer.objects.restrict(user, action).select_related("organization")


def transfers_in_status(queryset: QuerySet[InsuranceTransfer], status: str) -> QuerySet[InsuranceTransfer]:
    """Transfers in ``status``; ``"overdue"``: still open, and the current limit has passed or a step
    finished after its limit; ``"ours"``: waiting for this node's step."""
    if status == "overdue":
        return queryset.filter(status__in=WAITING).filter(
            Q(due_on__lt=timezone.localdate()) | Q(step_late=True)
        )
    if status == "ours":  # the next step is this node's (as ``transfer_waits_on_this_node``)
        return queryset.filter(Q(side="sending", status="requested") | Q(side="receiving", status="answered"))
    return queryset.filter(status=status) if status else queryset


def search_transfers(queryset: QuerySet[InsuranceTransfer], q: str) -> QuerySet[InsuranceTransfer]:
    """Transfers by the worker's ID number (blind index), name, or the transfer's number."""
    if not q.strip():
        return queryset
    index = pii.id_number_lookup(q)
    text = q.strip()
    return queryset.filter(
        Q(id_number_index__in=index) if index else Q(name__icontains=to_simplified(text)) | Q(uid=text)
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
    """Still open, and the current step's limit has passed or an earlier step finished late."""
    return transfer.status in WAITING and (transfer.due_on < timezone.localdate() or transfer.step_late)


@dataclass
class TransferStep:
    """One step of a transfer as the law counts it: the date its limit runs from, the limit, when
    it finished, and whether late (finished after the limit, or still open past it)."""

    title: str
    counts_from: str
    starts_on: date | None
    due_on: date | None
    finished_on: date | None
    current: bool
    late: bool
    provisional: bool


@dataclass
class TransferTimeline:
    """A transfer's three steps, its end-to-end limit, and the limit the current step must meet."""

    steps: list[TransferStep]
    total_due: date
    due_on: date
    late: bool
    total_days: int


def transfer_timeline(transfer: InsuranceTransfer, *, status: str | None = None) -> TransferTimeline:
    """The steps of 国办发〔2009〕66号, each counted in working days from the date it names, with the
    entered calendar (``xietong.core.selectors.work_calendar``). A step whose starting date is not
    known yet (the letter has not arrived) has no limit of its own; the end-to-end limit holds."""
    entered = work_calendar()
    days, today = settings.XIETONG_TRANSFER_STEP_WORKING_DAYS, timezone.localdate()

    def limit(start: date | None, count: int = days) -> workdays.Deadline | None:
        return workdays.deadline(start, count, entered) if start else None

    total = workdays.deadline(
        transfer.applied_on, settings.XIETONG_TRANSFER_TOTAL_WORKING_DAYS, entered
    )  # 全程
    current = {"requested": 1, "answered": 2}.get(status or transfer.status, -1)
    rows = (
        (_("转入地受理申请，发出联系函"), _("受理申请之日"), transfer.applied_on, transfer.letter_sent_on),
        (
            _("转出地核对，转出信息表和基金"),
            _("收到联系函之日"),
            transfer.letter_received_on,
            transfer.answered_on,
        ),
        (_("转入地核对并接续"), _("收到信息表和基金之日"), transfer.funds_received_on, transfer.completed_on),
    )
    steps = []
    for index, (title, counts_from, start, finished) in enumerate(rows):
        due = limit(start)
        late = due is not None and (finished or (today if index == current else None) or due.due) > due.due
        steps.append(
            TransferStep(
                title=str(title), counts_from=str(counts_from), starts_on=start,
                due_on=due.due if due else None, finished_on=finished, current=index == current,
                late=late, provisional=bool(due and due.provisional),
            )
        )  # fmt: skip
    step_due = steps[current].due_on if current >= 0 else None
    due_on = min(step_due, total.due) if step_due else total.due
    finished_late = any(step.late and step.finished_on for step in steps)
    closed_late = transfer.completed_on is not None and transfer.completed_on > total.due
    total_days = settings.XIETONG_TRANSFER_TOTAL_WORKING_DAYS
    return TransferTimeline(steps, total.due, due_on, finished_late or closed_late, total_days)


_CARRIES = {
    "insurance.transfer_requested": _lazy("联系函"),
    "insurance.transfer_answered": _lazy("信息表和基金转移"),
    "insurance.transfer_refused": _lazy("不予转移通知"),
    "insurance.transfer_completed": _lazy("办结通知"),
}


@dataclass
class TransferDelivery:
    """This node's latest message about a transfer as the exchange knows it: ``state`` is pending
    (待发送: the peer has not taken it yet), refused, delivered (已送达) or accepted (对方已受理)."""

    state: str
    label: str
    reason: str = ""


def transfer_delivery(transfer: InsuranceTransfer) -> TransferDelivery | None:
    """Whether this node's last step has reached the other region: the outgoing message's status,
    and for the contact letter the peer's receipt (or its answer) as acceptance. None before this
    node has sent anything (the sending region before it answers)."""
    message = (
        ExchangeMessage.objects.filter(
            direction=Direction.OUT, kind__in=list(_CARRIES), idempotency_key__endswith=f":{transfer.uid}"
        )
        .order_by("-seq")
        .first()
    )
    if message is None:
        return None
    what = str(_CARRIES[message.kind])
    if message.status == MessageStatus.PENDING:
        return TransferDelivery(
            "pending", _("%(what)s待发送（对方地区系统暂未接收，恢复后自动送达）") % {"what": what}
        )
    if message.status == MessageStatus.REFUSED:
        return TransferDelivery("refused", _("%(what)s被对方地区拒收") % {"what": what}, message.reason)
    accepted = message.kind == "insurance.transfer_requested" and (
        transfer.letter_received_on is not None or transfer.status != "requested"
    )
    if accepted:
        return TransferDelivery("accepted", _("%(what)s已送达，对方已受理") % {"what": what})
    return TransferDelivery("delivered", _("%(what)s已送达") % {"what": what})


@dataclass
class TransferParties:
    """The two regions and offices of a transfer, named as a worker reads them (never node ids)."""

    sending_region: str
    receiving_region: str
    sending_office: str
    receiving_office: str


def _region_name(node_id: str) -> str:
    node = ExchangeNode.objects.filter(node_id=node_id).first()
    if node is None:
        own = node_id == settings.XIETONG_NODE_ID
        return str(settings.XIETONG_NODE_NAME).removesuffix("节点") if own else _("对方地区")
    region = Region.objects.filter(code=node.region_code).first() if node.region_code else None
    return region.name if region else node.name.removesuffix("节点")


def transfer_parties(transfer: InsuranceTransfer) -> TransferParties:
    """Regions by their administrative names (the node's region code), offices by name: this node's
    owning office, and the other region's office as its receipt or letter named it."""
    ours = transfer.organization.name if transfer.organization else ""
    theirs = transfer.peer_office or _("由对方地区人社部门分派")
    receiving = transfer.side == "receiving"
    return TransferParties(
        sending_region=_region_name(transfer.sending_node),
        receiving_region=_region_name(transfer.receiving_node),
        sending_office=theirs if receiving else ours,
        receiving_office=ours if receiving else theirs,
    )


def transfer_waits_on_this_node(transfer: InsuranceTransfer) -> bool:
    """Whether the next step is this node's (answer as sending region, complete as receiving one)."""
    return (transfer.side, transfer.status) in {("sending", "requested"), ("receiving", "answered")}


# Benefit eligibility certification ------------------------------------------------------------------


def rosters(*, user: Viewer, action: str = "view") -> QuerySet[BenefitRoster]:
    """The rosters of the user's offices (newest first); lists narrow them with ``filters.RosterFilter``."""
    return BenefitRoster.objects.restrict(user, action).select_related("organization")


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
            Q(id_number_index__in=index)
            if index
            else Q(name__icontains=to_simplified(q.strip())) | Q(record_id=q)
        )
    return queryset


def certification_runs(*, user: Viewer) -> QuerySet[EligibilityCheck]:
    """Runs of the user's offices, with their finding counts (lists narrow them with ``RunFilter``)."""
    return (
        EligibilityCheck.objects.restrict(user, "view")
        .select_related("organization", "roster")
        .annotate(
            finding_count=Count("findings", distinct=True),
            open_count=Count("findings", filter=Q(findings__status=FindingStatus.OPEN), distinct=True),
        )
        .order_by("-created_at", "-pk")
    )


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
        Q(entry__id_number_index__in=index) if index else Q(entry__name__icontains=to_simplified(q.strip()))
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


def confirmed_same_person(
    *, run: EligibilityCheck, partner: str, entries: list[RosterEntry]
) -> dict[tuple[str, str], CertificationFinding]:
    """The latest confirmed finding from ``partner`` in any run of ``run``'s office about each of the
    people of ``entries``, by (``person_key``, kind): the decision a new finding about them adopts
    (``same_person_findings`` for many entries at once, read by their blind indexes and record
    numbers, a few queries however many)."""
    confirmed = (
        CertificationFinding.objects.filter(
            status=FindingStatus.CONFIRMED, partner=partner, run__organization_id=run.organization_id
        )
        .select_related("entry__roster", "run", "decided_by", "decided_in")
        .order_by("decided_at", "pk")
    )
    indexes = sorted({entry.id_number_index for entry in entries if entry.id_number_index})
    records = sorted({entry.record_id for entry in entries if not entry.id_number_index})
    found: dict[tuple[str, str], CertificationFinding] = {}
    parts = [
        *bulk.where_in(confirmed, "entry__id_number_index", indexes),
        *bulk.where_in(confirmed.filter(entry__id_number_index=""), "entry__record_id", records),
    ]
    for part in parts:
        for finding in part:
            found[(finding.entry.person_key, finding.kind)] = finding  # the latest decision wins
    return found


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
# Sending a run again to a partner that failed needs the right to start runs over its office.
RESEND_RUN = "insurance.add_eligibilitycheck"
_RUN_ACTIONS = {"decide": DECIDE_FINDINGS, "resend": RESEND_RUN}


def access_roster(*, user: Viewer, pk: object, action: str = "view") -> BenefitRoster:
    """The benefit roster ``pk`` if ``user`` may ``action`` it (``view``)."""
    return get_scoped(rosters(user=user, action=action), pk)


def access_run(*, user: Viewer, pk: object, action: str = "view") -> EligibilityCheck:
    """The certification run ``pk`` (with its finding counts) if ``user`` may ``action`` it: ``view``,
    ``decide`` (confirm or dismiss its findings: ``change_certificationfinding`` over its office) or
    ``resend`` (send it again to a partner that failed: ``add_eligibilitycheck`` over its office)."""
    queryset = certification_runs(user=user)
    if action != "view":
        allowed = EligibilityCheck.objects.restrict(user, _RUN_ACTIONS.get(action, action))
        queryset = queryset.filter(pk__in=allowed.values("pk"))
    return get_scoped(queryset, pk)


def may_resend_run(*, user: Viewer, run: EligibilityCheck) -> bool:
    """Whether ``user`` may send ``run`` again to a partner that failed (what the run page offers)."""
    return EligibilityCheck.objects.restrict(user, RESEND_RUN).filter(pk=run.pk).exists()


def run_request(*, run: EligibilityCheck, partner: str) -> CertificationRequest:
    """The request of ``run`` to ``partner`` (``ValidationError`` when the run was not sent there)."""
    request = run.requests.filter(partner=partner).first()
    if request is None:
        raise ValidationError(_("认证批次未发给节点 %(node)s") % {"node": partner})
    return request


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

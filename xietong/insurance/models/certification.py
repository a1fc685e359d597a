"""Benefit eligibility certification between regions (待遇领取资格认证).

A node keeps the HRSS bureau's rosters (``BenefitRoster`` and its ``RosterEntry`` rows, ID numbers
encrypted). A certification run (``EligibilityCheck``) sends private-mode encodings of one roster to
partner nodes, one ``CertificationRequest`` per partner; each partner compares them with its own
rosters (``CertificationAssistance`` is its record of that help) and answers with findings
(``CertificationFinding``), which officers confirm or dismiss. A decision holds for the person,
partner and kind in every run of the office (``decided_in`` names the run where it was made), and
a dismissal (``FindingDismissal``) is remembered so the same finding does not come back later.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.choices import JobStatus
from xietong.core.models.base import BackgroundJob, BaseModel

from ..choices import FindingKind, FindingStatus, RequestStatus, RosterKind, RunStage


class BenefitRoster(BackgroundJob):
    """One roster file as the bureau keeps it (pension or unemployment-benefit recipients, death
    registrations), imported in the background through the comparison engine's column mapping.

    A newer roster of the same kind from the same office supersedes the older one: comparisons use
    the current rosters only. The uploaded file is deleted once its rows are stored (encrypted).
    A job of the one pipeline (``xietong.core.jobs``): ``roster_import_run`` is its runner.
    """

    runner = "xietong.insurance.actions.roster_import_run"
    progress_fields = ("processed_rows", "total_rows")
    progress_text = _("已处理 %(done)s / %(total)s 行")

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("经办机构"),
        on_delete=models.PROTECT,
        related_name="benefit_rosters",
    )
    kind = models.CharField(_("名册类别"), max_length=16, choices=RosterKind.choices)
    title = models.CharField(_("名册名称"), max_length=100)
    file = models.FileField(_("文件"), upload_to="rosters/", blank=True)
    original_name = models.CharField(_("文件名"), max_length=200)
    mapping = models.JSONField(_("列映射"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理"), default=0)
    invalid_ids = models.PositiveIntegerField(_("身份证号无效"), default=0)
    superseded = models.BooleanField(_("已被新名册取代"), default=False)
    # The roster's private-mode encodings, made once when it is imported (a roster does not change)
    # and re-used by every run and every partner's request (ADR 018); ``encodings_key`` is the group
    # key's fingerprint they were made with: another key re-encodes.
    encodings = models.FileField(_("编码文件"), upload_to="roster-encodings/", blank=True, editable=False)
    encodings_key = models.CharField(_("编码密钥指纹"), max_length=32, blank=True, editable=False)

    class Meta(BackgroundJob.Meta):
        db_table = "exchange_benefitroster"  # kept from the exchange app (migration 0001)
        verbose_name = _("待遇名册")
        verbose_name_plural = _("待遇名册")

    def __str__(self) -> str:
        return f"{self.title}（{self.get_kind_display()}）"


class RosterEntry(BaseModel):
    """One person on a roster: the bureau's own record number, the name, the ID number (encrypted,
    blind-indexed, masked) and the date that matters for the roster (death, or start of payment).
    ``suspended_at`` marks a recipient whose payment is suspended after a confirmed finding."""

    scope_field = "roster__organization"

    roster = models.ForeignKey(BenefitRoster, on_delete=models.CASCADE, related_name="entries")
    record_id = models.CharField(_("人员编号"), max_length=64)
    name = models.CharField(_("姓名"), max_length=64, blank=True)
    id_number_cipher = models.TextField(_("身份证号码（密文）"), blank=True, editable=False)
    id_number_index = models.CharField(
        _("身份证号码索引"), max_length=64, blank=True, db_index=True, editable=False
    )
    id_number_masked = models.CharField(_("身份证号码"), max_length=24, blank=True, editable=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    gender = models.CharField(_("性别"), max_length=1, blank=True)
    event_date = models.DateField(_("死亡日期或待遇起始日期"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("暂停发放时间"), null=True, blank=True)

    audit_exclude = ("id_number_cipher", "id_number_index")

    class Meta:
        db_table = "exchange_rosterentry"  # kept from the exchange app (migration 0001)
        ordering = ["roster", "record_id"]
        verbose_name = _("名册人员")
        verbose_name_plural = _("名册人员")
        constraints = [models.UniqueConstraint(fields=["roster", "record_id"], name="roster_entry_once")]

    def __str__(self) -> str:
        return f"{self.name}（{self.record_id}）"

    @property
    def person_key(self) -> str:
        """What a dismissal remembers the person by: the ID number's blind index, or the record."""
        return self.id_number_index or f"record:{self.roster.organization_id}:{self.record_id}"


class EligibilityCheck(BackgroundJob):
    """One eligibility check (待遇领取资格认证, GLOSSARY: ``EligibilityCheck``), a "run" in the code: which
    roster, which partner nodes, which checks.

    Its job (``certification_run_send``, the runner) puts one request per partner in the outbox,
    each carrying the roster's stored encodings as a file, and ends ``done`` once they are there. The
    partners' answers arrive later, for as long as they take: ``stage`` says whether the run still
    waits for them (``RunStage``), and the page keeps polling, counting partners that answered or
    failed, until none is left waiting (complete, or partial when one failed).
    """

    runner = "xietong.insurance.actions.certification_run_send"
    progress_text = _("对方已答复 %(done)s / %(total)s 个节点")
    detail_template = "insurance/_partials/run_answers.html"

    uid = models.CharField(_("认证批次号"), max_length=32, unique=True, editable=False)
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("经办机构"),
        on_delete=models.PROTECT,
        related_name="certification_runs",
    )
    roster = models.ForeignKey(
        BenefitRoster, verbose_name=_("名册"), on_delete=models.PROTECT, related_name="runs"
    )
    checks = models.JSONField(_("核查内容"), default=list)
    stage = models.CharField(_("对方比对"), max_length=10, choices=RunStage.choices, blank=True)
    records = models.PositiveIntegerField(_("核查人数"), default=0)
    chunks = models.PositiveIntegerField(_("分批数"), default=0)

    class Meta(BackgroundJob.Meta):
        db_table = "exchange_eligibilitycheck"  # kept from the exchange app (migration 0001)
        verbose_name = _("资格认证批次")
        verbose_name_plural = _("资格认证批次")

    def __str__(self) -> str:
        return f"{self.roster.title} · {self.created_at:%Y-%m-%d}"

    @property
    def polling(self) -> bool:
        """Keep polling while the run is sent and while it waits for the partners' comparisons."""
        return not self.finished or self.stage == RunStage.WAITING

    @property
    def state(self) -> str:
        """How the run stands, one value of ``RUN_STATES``: its job until it is sent, then its stage."""
        return self.stage if self.status == JobStatus.DONE and self.stage else self.status

    @property
    def status_label(self) -> str:
        """The status in words: once sent, whether the run waits for the partners or is complete."""
        if self.status == JobStatus.DONE and self.stage:
            return str(self.get_stage_display())
        if self.status == JobStatus.RUNNING:
            return str(_("编码发送中"))
        if self.status == JobStatus.FAILED:
            return str(_("未能发起"))
        return super().status_label

    def progress_counts(self) -> tuple[int, int]:
        """Partners that have answered or failed, of all partners."""
        requests = list(self.requests.all())
        return sum(1 for r in requests if r.settled), len(requests)


class CertificationRequest(BaseModel):
    """A run as sent to one partner node: chunks sent and answered, people the partner checked, and
    how it stands (``status``): waiting, answered, or failed with the reason (``error``). A failed
    request may be sent again (``certification_request_resend``): ``attempt`` counts the sendings,
    and an answer to an earlier attempt is ignored."""

    scope_field = "run__organization"

    run = models.ForeignKey(EligibilityCheck, on_delete=models.CASCADE, related_name="requests")
    partner = models.SlugField(_("对方节点"), max_length=32)
    partner_name = models.CharField(_("对方地区"), max_length=100)
    chunks = models.PositiveIntegerField(_("分批数"), default=0)
    answered = models.JSONField(_("已答复的批"), default=list)
    checked = models.PositiveIntegerField(_("对方核查人数"), default=0)
    findings = models.PositiveIntegerField(_("发现"), default=0)
    error = models.CharField(_("对方未能比对的原因"), max_length=300, blank=True)
    answered_at = models.DateTimeField(_("答复完成时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.WAITING
    )
    attempt = models.PositiveIntegerField(_("发送次数"), default=1)

    class Meta:
        db_table = "exchange_certificationrequest"  # kept from the exchange app (migration 0001)
        ordering = ["run", "partner"]
        constraints = [models.UniqueConstraint(fields=["run", "partner"], name="certification_request_once")]

    def __str__(self) -> str:
        return f"{self.run.uid} → {self.partner}"

    @property
    def complete(self) -> bool:
        """Whether every chunk of the current attempt has been answered."""
        return len(self.answered) >= self.chunks > 0

    @property
    def settled(self) -> bool:
        """Whether the partner has answered or failed: the run no longer waits for it."""
        return self.status != RequestStatus.WAITING


class CertificationFinding(BaseModel):
    """What a partner found about one person of a run, and the officer's decision."""

    scope_field = "run__organization"

    run = models.ForeignKey(EligibilityCheck, on_delete=models.CASCADE, related_name="findings")
    entry = models.ForeignKey(
        RosterEntry, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="findings"
    )
    partner = models.SlugField(_("对方节点"), max_length=32)
    partner_name = models.CharField(_("对方地区"), max_length=100)
    kind = models.CharField(_("类别"), max_length=16, choices=FindingKind.choices)
    evidence = models.CharField(_("依据"), max_length=300)
    score = models.FloatField(_("匹配概率"))
    status = models.CharField(
        _("处理"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("核实人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    note = models.CharField(_("核实说明"), max_length=300, blank=True)
    decided_in = models.ForeignKey(
        EligibilityCheck, verbose_name=_("决定所在批次"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    override_reason = models.CharField(_("改判理由"), max_length=300, blank=True)

    # A decided finding changes only by an explicit override with a reason (``finding_confirm`` /
    # ``finding_dismiss`` check it): a decision holds for the person and partner in every run.
    TRANSITIONS = {
        FindingStatus.OPEN: (FindingStatus.CONFIRMED, FindingStatus.DISMISSED),
        FindingStatus.CONFIRMED: (FindingStatus.DISMISSED,),
        FindingStatus.DISMISSED: (FindingStatus.CONFIRMED,),
    }

    class Meta:
        db_table = "exchange_certificationfinding"  # kept from the exchange app (migration 0001)
        ordering = ["status", "-score", "pk"]
        verbose_name = _("认证发现")
        verbose_name_plural = _("认证发现")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "entry", "partner", "kind"], name="certification_finding_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry.name} · {self.get_kind_display()}"

    @property
    def decided_elsewhere(self) -> bool:
        """Whether the decision was made on the same person's finding in another run."""
        return self.decided_in_id is not None and self.decided_in_id != self.run_id


class FindingDismissal(BaseModel):
    """A finding an officer dismissed: the same person, partner and kind are not reported again."""

    scope_field = "organization"

    organization = models.ForeignKey("core.Organization", on_delete=models.PROTECT, related_name="+")
    person_key = models.CharField(max_length=100)
    partner = models.SlugField(max_length=32)
    kind = models.CharField(max_length=16, choices=FindingKind.choices)
    finding = models.ForeignKey(CertificationFinding, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "exchange_findingdismissal"  # kept from the exchange app (migration 0001)
        constraints = [
            models.UniqueConstraint(fields=["person_key", "partner", "kind"], name="finding_dismissed_once")
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.kind}"


class CertificationAssistance(BackgroundJob):
    """This node's help to another region: one chunk of its run compared with our rosters (协助认证).

    A job of the one pipeline (``xietong.core.jobs``) whose runner, ``certification_assist``,
    compares and answers. The encodings wait here (they are keyed, no names or ID numbers) until it
    has; they are cleared once the findings are sent. ``created_by`` stays empty: a partner node
    asked, not a user.
    """

    runner = "xietong.insurance.actions.certification_assist"
    scope_field = None
    # A comparison can start over when a restart interrupts it (its answer goes out once, by
    # idempotency key); if it keeps dying the requester is told, so its run ends (issue 13 §4).
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        **BackgroundJob.TRANSITIONS, "running": ("done", "failed", "queued"),
    }  # fmt: skip
    requeue_when_abandoned = 2
    abandoned_runner = "xietong.insurance.actions.certification_assist_abandoned"

    requester = models.SlugField(_("请求节点"), max_length=32)
    requester_name = models.CharField(_("请求地区"), max_length=100)
    run_uid = models.CharField(_("认证批次号"), max_length=32)
    attempt = models.PositiveIntegerField(_("发送次数"), default=1)
    chunk = models.PositiveIntegerField(_("批次"))
    checks = models.JSONField(_("核查内容"), default=list)
    roster_kind = models.CharField(_("名册类别"), max_length=16, choices=RosterKind.choices)
    records = models.JSONField(default=list)  # the encodings of an older node's JSON chunk
    # The requester's encodings as a Parquet file (issue 13 §2), deleted once compared.
    encodings = models.FileField(upload_to="assistance/", blank=True, editable=False)
    checked = models.PositiveIntegerField(_("核查人数"), default=0)
    findings = models.PositiveIntegerField(_("发现"), default=0)

    audit_exclude = ("records", "encodings")

    class Meta(BackgroundJob.Meta):
        db_table = "exchange_certificationassistance"  # kept from the exchange app (migration 0001)
        verbose_name = _("协助认证")
        verbose_name_plural = _("协助认证")
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "run_uid", "attempt", "chunk"], name="assistance_once_per_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"{self.requester} · {self.run_uid} #{self.attempt}.{self.chunk}"


class CertificationStatistic(BaseModel):
    """A region's yearly certification figures as reported outside this platform (an annual report,
    a cooperation bulletin), shown beside the figures the platform counts itself."""

    scope_field = None

    region_name = models.CharField(_("地区"), max_length=50)
    year = models.PositiveIntegerField(_("年度"))
    checked = models.PositiveIntegerField(_("本地区核查人数"), default=0)
    findings = models.PositiveIntegerField(_("发现"), default=0)
    confirmed = models.PositiveIntegerField(_("确认"), default=0)
    assisted = models.PositiveIntegerField(_("协助其他地区认证人数"), default=0)
    source = models.CharField(_("来源"), max_length=200)

    class Meta:
        db_table = "exchange_certificationstatistic"  # kept from the exchange app (migration 0001)
        ordering = ["-year", "region_name"]
        verbose_name = _("资格认证年度统计")
        verbose_name_plural = _("资格认证年度统计")
        constraints = [
            models.UniqueConstraint(fields=["region_name", "year"], name="certification_statistic_once")
        ]

    def __str__(self) -> str:
        return f"{self.region_name} {self.year}"

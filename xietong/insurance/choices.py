"""Choices of the insurance app."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scheme(models.TextChoices):
    PENSION = "pension", _("养老保险")
    UNEMPLOYMENT = "unemployment", _("失业保险")
    MEDICAL = "medical", _("医疗保险")


class TransferSide(models.TextChoices):
    RECEIVING = "receiving", _("转入地（本节点受理）")
    SENDING = "sending", _("转出地（本节点转出）")


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("已受理，待转出地答复")
    ANSWERED = "answered", _("转出地已转出，待转入地接续")
    REFUSED = "refused", _("转出地不予转移")
    COMPLETED = "completed", _("已接续，办结")


class RosterKind(models.TextChoices):
    """The rosters an HRSS bureau keeps that eligibility certification compares."""

    PENSION = "pension", _("养老保险待遇领取人员")
    UNEMPLOYMENT = "unemployment", _("失业保险金领取人员")
    DEATH = "death", _("死亡登记")


# The benefit a recipients' roster is about, as a letter or a finding names it.
BENEFIT_NAMES: dict[str, Any] = {
    RosterKind.PENSION: _("基本养老保险待遇"),
    RosterKind.UNEMPLOYMENT: _("失业保险金"),
}


class FindingKind(models.TextChoices):
    """What a partner region found about a recipient (GLOSSARY: 冒领 / 重复享受); also the checks a
    certification run asks for."""

    FRAUD_SUSPECTED = "fraud_suspected", _("疑似冒领（对方地区已登记死亡）")
    DUPLICATE = "duplicate", _("重复享受（对方地区发放同项待遇）")


class RunStage(models.TextChoices):
    """What a certification run waits for once its job (encoding and sending) is done: the partners'
    comparisons. Kept on the run beside the job's status (ADR 013); blank until the run is sent."""

    WAITING = "waiting", _("等待对方比对")
    COMPLETE = "complete", _("比对完成")
    # Every partner has answered or failed, and at least one failed (the run page names them).
    PARTIAL = "partial", _("部分完成")


class RequestStatus(models.TextChoices):
    """How a run stands with one partner: waiting for its answer, answered, or failed (the partner
    refused the request or could not compare; the reason is kept and the officer may resend)."""

    WAITING = "waiting", _("等待对方比对")
    ANSWERED = "answered", _("已答复")
    FAILED = "failed", _("失败")


# How a run stands, as one list for the run list's filter: its job while it is queued, sending or
# failed, then the partners' comparisons (``EligibilityCheck.state``).
RUN_STATES: list[tuple[str, Any]] = [
    ("queued", _("排队中")),
    ("running", _("编码发送中")),
    (RunStage.WAITING, RunStage.WAITING.label),
    (RunStage.COMPLETE, RunStage.COMPLETE.label),
    (RunStage.PARTIAL, RunStage.PARTIAL.label),
    ("failed", _("未能发起")),
]


class FindingStatus(models.TextChoices):
    OPEN = "open", _("待核实")
    CONFIRMED = "confirmed", _("已确认，暂停发放")
    DISMISSED = "dismissed", _("已排除")

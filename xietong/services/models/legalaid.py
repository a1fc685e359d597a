"""Legal aid (法律援助): the union's lawyer roster and the cases a service request becomes."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BaseModel

from ..choices import LegalAidOutcome, LegalAidStage


class Lawyer(BaseModel):
    """A lawyer on a union's roster (工会法律援助律师库), who takes its legal-aid cases."""

    organization = models.ForeignKey(
        "core.Organization", verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="lawyers"
    )
    name = models.CharField(_("姓名"), max_length=64)
    firm = models.CharField(_("律师事务所"), max_length=128)
    phone = models.CharField(_("办公电话"), max_length=32, blank=True)
    specialties = models.CharField(_("擅长领域"), max_length=200, blank=True)
    active = models.BooleanField(_("在库"), default=True)

    class Meta:
        verbose_name = _("援助律师")
        verbose_name_plural = _("援助律师")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name}（{self.firm}）"


class LegalAidCase(BaseModel):
    """A legal-aid case opened from a service request and assigned to a roster lawyer. Its stage
    moves through the milestones (consultation, mediation, arbitration filed, closed) as data; the
    outcome is recorded on closing."""

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        LegalAidStage.OPENED: (LegalAidStage.CONSULTATION, LegalAidStage.CLOSED),
        LegalAidStage.CONSULTATION: (
            LegalAidStage.MEDIATION,
            LegalAidStage.ARBITRATION_FILED,
            LegalAidStage.CLOSED,
        ),
        LegalAidStage.MEDIATION: (LegalAidStage.ARBITRATION_FILED, LegalAidStage.CLOSED),
        LegalAidStage.ARBITRATION_FILED: (LegalAidStage.CLOSED,),
    }

    request = models.OneToOneField(
        "services.ServiceRequest",
        verbose_name=_("来源诉求"),
        on_delete=models.PROTECT,
        related_name="legal_aid",
    )
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("承办工会"),
        on_delete=models.PROTECT,
        related_name="legal_aid_cases",
    )
    lawyer = models.ForeignKey(
        Lawyer, verbose_name=_("承办律师"), on_delete=models.PROTECT, related_name="cases"
    )
    status = models.CharField(
        _("阶段"), max_length=20, choices=LegalAidStage.choices, default=LegalAidStage.OPENED
    )
    outcome = models.CharField(_("结果"), max_length=16, choices=LegalAidOutcome.choices, blank=True)
    outcome_note = models.TextField(_("结案说明"), blank=True)
    opened_on = models.DateField(_("立案日期"))
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("法律援助案件")
        verbose_name_plural = _("法律援助案件")
        ordering = ["-opened_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.request.requester_name}（{self.lawyer.name}）"


class LegalAidMilestone(BaseModel):
    """One milestone of a case: the stage reached, when, and what happened."""

    scope_field: ClassVar[str | None] = "case__organization"

    case = models.ForeignKey(
        LegalAidCase, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="milestones"
    )
    stage = models.CharField(_("阶段"), max_length=20, choices=LegalAidStage.choices)
    happened_on = models.DateField(_("日期"))
    note = models.TextField(_("情况"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("案件节点")
        verbose_name_plural = _("案件节点")
        ordering = ["happened_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.happened_on}"

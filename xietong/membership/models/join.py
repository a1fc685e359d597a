"""Joining by QR code (入会) and the outreach events (职工沟通会) that drive it."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models import BaseModel

from ..choices import ApplicationStatus


class OutreachEvent(BaseModel):
    """A join drive at a workplace (职工沟通会) with its own QR code and live figures."""

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("主办工会"),
        on_delete=models.PROTECT,
        related_name="outreach_events",
    )
    employer = models.ForeignKey(
        "core.Employer", verbose_name=_("举办单位"), null=True, blank=True, on_delete=models.PROTECT
    )
    title = models.CharField(_("活动名称"), max_length=120)
    held_on = models.DateField(_("日期"))
    code = models.SlugField(_("二维码编码"), max_length=32, unique=True, editable=False)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("职工沟通会")
        verbose_name_plural = _("职工沟通会")

    def __str__(self) -> str:
        return self.title


class JoinApplication(BaseModel):
    """A worker's self-service application to join a union, submitted from a phone.

    The identity is kept encrypted like ``Person``'s until an officer approves it; the worker comes
    back to the status page through ``access_token`` (the link shown after submitting).
    """

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        ApplicationStatus.SUBMITTED: (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED),
        ApplicationStatus.APPROVED: (),
        ApplicationStatus.REJECTED: (),
    }
    audit_exclude = ("id_number_cipher", "phone_cipher", "id_number_index", "access_token")

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("申请加入的工会"),
        on_delete=models.PROTECT,
        related_name="join_applications",
    )
    event = models.ForeignKey(
        OutreachEvent,
        verbose_name=_("职工沟通会"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )
    name = models.CharField(_("姓名"), max_length=64)
    id_number_cipher = models.TextField(editable=False)
    id_number_index = models.CharField(max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField(_("身份证号码"), max_length=18, editable=False)
    phone_cipher = models.TextField(editable=False)
    phone_masked = models.CharField(_("手机号码"), max_length=16, editable=False)
    employer_name = models.CharField(_("工作单位"), max_length=200)
    employer = models.ForeignKey(
        "core.Employer", verbose_name=_("工作单位（已登记）"), null=True, blank=True, on_delete=models.PROTECT
    )
    consented_at = models.DateTimeField(_("同意个人信息处理的时间"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    reason = models.CharField(_("未通过原因"), max_length=200, blank=True)
    access_token = models.CharField(max_length=43, unique=True, editable=False)
    member = models.ForeignKey(
        "membership.Member", verbose_name=_("会员"), null=True, blank=True, on_delete=models.PROTECT
    )
    reviewed_by = models.ForeignKey(
        "core.User", verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("入会申请")
        verbose_name_plural = _("入会申请")

    def __str__(self) -> str:
        return f"{self.name}（{self.id_number_masked}）"

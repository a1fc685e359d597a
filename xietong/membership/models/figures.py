"""The membership figures kept as aggregates, so that figures pages never count the roll (issue 16)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationFigures(models.Model):
    """One organisation's own roll in figures (not its subtree): members active and suspended (the
    real-name roll, 实名制会员, is both), cards in use. Kept current by the actions that change them
    (``actions.figures``); ``updated_at`` says how fresh they are; ``xietong figures rebuild``
    recounts them from the roll."""

    organization = models.OneToOneField(
        "core.Organization", verbose_name=_("组织"), on_delete=models.CASCADE, related_name="+"
    )
    active = models.IntegerField(_("在册会员"), default=0)
    suspended = models.IntegerField(_("暂停会员"), default=0)
    cards = models.IntegerField(_("在用互助服务卡"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("会员统计")
        verbose_name_plural = _("会员统计")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.active}/{self.suspended}/{self.cards}"

    @property
    def members(self) -> int:
        """The real-name roll: active and suspended members."""
        return self.active + self.suspended


class JoinDay(models.Model):
    """How many memberships of one organisation began on one day (any status since: a member who
    left still joined), for the charts over time. A transferred membership moves with its member."""

    organization = models.ForeignKey(
        "core.Organization", verbose_name=_("组织"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("入会日期"))
    joins = models.IntegerField(_("入会人数"), default=0)

    class Meta:
        verbose_name = _("每日入会人数")
        verbose_name_plural = _("每日入会人数")
        constraints = [models.UniqueConstraint(fields=["organization", "day"], name="join_day_unique")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.day}: {self.joins}"

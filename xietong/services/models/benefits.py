"""Universal benefits on the card (普惠服务): partner providers, the benefit items they offer with
eligibility, a per-member limit and validity dates, and each use redeemed at a provider's desk."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BaseModel
from xietong.membership.choices import Benefit as BenefitKind

from ..choices import BenefitPeriod, ProviderKind


class BenefitProvider(BaseModel):
    """A partner that offers benefits to members (a hospital, a park, a shop, a service station).

    ``organization`` is the union that made the partnership and manages it; ``service_points`` are
    the card-verification desks of membership (``membership.ServicePoint``) where the provider's
    staff redeem benefits, so a desk account sees its own provider's uses only.
    """

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("合作工会"),
        on_delete=models.PROTECT,
        related_name="benefit_providers",
    )
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类型"), max_length=12, choices=ProviderKind.choices)
    district = models.ForeignKey(
        "core.Region", verbose_name=_("所在区县"), on_delete=models.PROTECT, null=True, blank=True
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    service_points = models.ManyToManyField(
        "membership.ServicePoint", verbose_name=_("核验窗口"), blank=True, related_name="benefit_providers"
    )
    active = models.BooleanField(_("合作中"), default=True)

    class Meta:
        verbose_name = _("普惠服务合作单位")
        verbose_name_plural = _("普惠服务合作单位")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="services_provider_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Benefit(BaseModel):
    """One benefit item (普惠服务项目) a provider offers with the card: e.g. free registration at
    门头沟区医院, 12 times a year.

    Eligible: an active member with an active card; when ``unions`` is not empty, a member of one of
    them (or of a union below one); when ``regions`` is not empty, a member whose union lies in one
    of them. ``limit_count`` uses per member per ``limit_period`` (none: unlimited); valid from
    ``valid_from`` to ``valid_until`` (open-ended when empty). ``kind`` is the card-use kind the
    desk records (``membership.CardUse.benefit``).
    """

    scope_field: ClassVar[str | None] = "provider__organization"

    provider = models.ForeignKey(
        BenefitProvider, verbose_name=_("合作单位"), on_delete=models.PROTECT, related_name="benefits"
    )
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("服务类型"), max_length=24, choices=BenefitKind.choices)
    description = models.TextField(_("说明"), blank=True)
    unions = models.ManyToManyField(
        "core.Organization", verbose_name=_("限以下工会会员"), blank=True, related_name="+"
    )
    regions = models.ManyToManyField(
        "core.Region", verbose_name=_("限以下地区会员"), blank=True, related_name="+"
    )
    limit_count = models.PositiveSmallIntegerField(_("每人次数上限"), null=True, blank=True)
    limit_period = models.CharField(
        _("上限周期"), max_length=8, choices=BenefitPeriod.choices, default=BenefitPeriod.YEAR
    )
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("截止日期"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("普惠服务项目")
        verbose_name_plural = _("普惠服务项目")
        ordering = ["provider__name", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.provider.name} · {self.name}"


class BenefitUse(BaseModel):
    """One redemption of a benefit item by a member at a provider's desk, with the card use that
    membership's verification recorded for it."""

    scope_field: ClassVar[str | None] = "benefit__provider__organization"

    benefit = models.ForeignKey(
        Benefit, verbose_name=_("普惠服务项目"), on_delete=models.PROTECT, related_name="uses"
    )
    member = models.ForeignKey(
        "membership.Member", verbose_name=_("会员"), on_delete=models.PROTECT, related_name="benefit_uses"
    )
    card_use = models.OneToOneField(
        "membership.CardUse", verbose_name=_("用卡记录"), on_delete=models.PROTECT, related_name="benefit_use"
    )
    service_point = models.ForeignKey(
        "membership.ServicePoint", verbose_name=_("核验窗口"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("普惠服务使用记录")
        verbose_name_plural = _("普惠服务使用记录")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["benefit", "member", "created_at"], name="services_benefituse_count")]

    def __str__(self) -> str:
        return f"{self.benefit} · {self.member_id}"

"""The wage-arrears blacklist (欠薪"黑名单"), shared by every node of the region group."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BaseModel

from ..choices import ListingStatus


class ArrearsListing(BaseModel):
    """An employer listed by a labour inspection authority for wage arrears ("一处欠薪、处处受限").

    Listed at one node (``origin_node``, with the listing authority as ``organization`` there) and
    copied to every node of the region group by exchange messages; ``uid`` names it everywhere.
    A copy received from another node has no local ``organization``.
    """

    uid = models.CharField(_("名单编号"), max_length=32, unique=True, editable=False)
    origin_node = models.SlugField(_("列入节点"), max_length=32)
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("列入机关（本节点）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="arrears_listings",
    )
    authority = models.CharField(_("作出决定的劳动保障监察机构"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    employer_name = models.CharField(_("用人单位名称"), max_length=200, db_index=True)
    amount_owed = models.DecimalField(_("拖欠工资金额（元）"), max_digits=14, decimal_places=2)
    workers_affected = models.PositiveIntegerField(_("涉及劳动者人数"))
    decision_no = models.CharField(_("决定书文号"), max_length=100)
    listed_on = models.DateField(_("列入日期"))
    expires_on = models.DateField(_("届满日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ListingStatus.choices, default=ListingStatus.LISTED
    )
    removed_on = models.DateField(_("移出日期"), null=True, blank=True)
    removal_reason = models.CharField(_("移出原因"), max_length=200, blank=True)

    class Meta:
        db_table = "exchange_arrearslisting"  # kept from the exchange app (migration 0001)
        verbose_name = _("欠薪黑名单")
        verbose_name_plural = _("欠薪黑名单")
        ordering = ["-listed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.employer_name}（{self.credit_code}）"

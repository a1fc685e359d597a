"""Membership transfers between unions of the node (会员关系转接)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xietong.core.models import BaseModel

from ..choices import TransferStatus


class MembershipTransfer(BaseModel):
    """A member's move to another union: requested, then accepted or refused by the receiving union.

    Both unions see it (the receiving one through ``scope_field``, the sending one through
    ``from_organization``); the member's history keeps every step.
    """

    scope_field: ClassVar[str | None] = "to_organization"
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        TransferStatus.REQUESTED: (TransferStatus.ACCEPTED, TransferStatus.REFUSED, TransferStatus.CANCELLED),
        TransferStatus.ACCEPTED: (),
        TransferStatus.REFUSED: (),
        TransferStatus.CANCELLED: (),
    }

    member = models.ForeignKey(
        "membership.Member", verbose_name=_("会员"), on_delete=models.PROTECT, related_name="transfers"
    )
    from_organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("转出工会"),
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    to_organization = models.ForeignKey(
        "core.Organization", verbose_name=_("转入工会"), on_delete=models.PROTECT, related_name="transfers_in"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    reason = models.CharField(_("说明"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("办理时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("会员关系转接")
        verbose_name_plural = _("会员关系转接")
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(status="requested"), name="transfer_one_pending_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}：{self.from_organization} → {self.to_organization}"

"""Transfers of social-insurance records between regions (社会保险关系转移接续)."""

from __future__ import annotations

import secrets
from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BaseModel

from ..choices import Scheme, TransferSide, TransferStatus


def _status_token() -> str:
    return secrets.token_urlsafe(16)


class InsuranceTransfer(BaseModel):
    """One worker's transfer, as each of the two nodes keeps it (``uid`` is shared).

    The receiving region (转入地, where the worker now works) accepts the application and sends the
    contact letter; the sending region (转出地) answers with the contribution record and the fund
    transfer amount, or refuses with a reason; the receiving region continues the record and closes.
    Each step's limit counts in working days from the date the law names (DOMAIN-RULES.md): the
    acceptance of the application (``applied_on``), the sending region's receipt of the contact letter
    (``letter_received_on``), the receiving region's receipt of the record and funds
    (``funds_received_on``); ``due_on`` is the current step's limit, never later than the end-to-end
    one, and ``step_late`` says a step finished after its limit.
    """

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        TransferStatus.REQUESTED: (TransferStatus.ANSWERED, TransferStatus.REFUSED),
        TransferStatus.ANSWERED: (TransferStatus.COMPLETED,),
    }

    uid = models.CharField(_("转移编号"), max_length=32, unique=True, editable=False)
    side = models.CharField(_("本节点角色"), max_length=10, choices=TransferSide.choices)
    receiving_node = models.SlugField(_("转入地节点"), max_length=32)
    sending_node = models.SlugField(_("转出地节点"), max_length=32)
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("经办机构（本节点）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="insurance_transfers",
    )
    scheme = models.CharField(_("险种"), max_length=16, choices=Scheme.choices, default=Scheme.PENSION)
    name = models.CharField(_("姓名"), max_length=64)
    id_number_cipher = models.TextField(_("身份证号码（密文）"), editable=False)
    id_number_index = models.CharField(_("身份证号码索引"), max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField(_("身份证号码"), max_length=18, editable=False)
    applied_on = models.DateField(_("申请日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    due_on = models.DateField(_("本步办理时限"))
    letter_sent_on = models.DateField(_("联系函发出日期"), null=True, blank=True)
    letter_received_on = models.DateField(_("转出地收到联系函日期"), null=True, blank=True)
    funds_received_on = models.DateField(_("转入地收到信息表和基金日期"), null=True, blank=True)
    peer_office = models.CharField(_("对方经办机构"), max_length=200, blank=True)
    step_late = models.BooleanField(_("有步骤逾期"), default=False)
    periods = models.JSONField(_("缴费记录"), default=list, blank=True)
    personal_account = models.DecimalField(
        _("个人账户储存额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    pooled_amount = models.DecimalField(
        _("统筹基金转移额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    fund_transfer_amount = models.DecimalField(
        _("转移基金总额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    answered_on = models.DateField(_("转出日期"), null=True, blank=True)
    refusal_reason = models.CharField(_("不予转移的原因"), max_length=300, blank=True)
    completed_on = models.DateField(_("接续日期"), null=True, blank=True)
    status_token = models.CharField(max_length=32, unique=True, default=_status_token, editable=False)

    audit_exclude = ("id_number_cipher", "id_number_index", "status_token")

    class Meta:
        db_table = "exchange_insurancetransfer"  # kept from the exchange app (migration 0001)
        verbose_name = _("社会保险关系转移")
        verbose_name_plural = _("社会保险关系转移")
        ordering = ["-applied_on", "-id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_scheme_display()}，{self.sending_node}→{self.receiving_node}）"

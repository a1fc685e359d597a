"""The nodes of the region group as the hub's signed registry lists them, and the registry itself."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BaseModel

GENESIS_HASH = "0" * 64


class ExchangeNode(BaseModel):
    """A node of the region group (one region's Xietong), with its key and endpoint.

        The public columns come from the hub's signed registry; the ``out_*``/``in_*`` columns are this
        node's own bookkeeping of the message chains with that peer, and ``last_*``/``failing_since`` its
    delivery health (written by the deliverer, ``actions.deliver_due``).
    """

    scope_field: ClassVar[str | None] = None

    node_id = models.SlugField(_("节点编号"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    endpoint = models.URLField(_("接入地址"), max_length=300)
    public_key = models.CharField(_("签名公钥"), max_length=64)
    # Its earlier signing keys (ADR 019): ``[{public_key, valid_from, valid_until}]``, oldest first;
    # what they signed before ``valid_until`` still verifies.
    earlier_keys = models.JSONField(_("历史签名公钥"), default=list, blank=True)
    is_hub = models.BooleanField(_("枢纽节点"), default=False)
    valid_from = models.DateTimeField(_("生效时间"), default=timezone.now)
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    out_seq = models.PositiveBigIntegerField(_("已发消息数"), default=0, editable=False)
    out_last_hash = models.CharField(max_length=64, default=GENESIS_HASH, editable=False)
    in_seq = models.PositiveBigIntegerField(_("已收消息数"), default=0, editable=False)
    in_last_hash = models.CharField(max_length=64, default=GENESIS_HASH, editable=False)
    last_success_at = models.DateTimeField(_("最近投递成功"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("最近错误"), blank=True, editable=False)
    last_error_at = models.DateTimeField(_("最近出错时间"), null=True, blank=True, editable=False)
    # The first failure of the current failing streak; cleared by the next successful delivery.
    failing_since = models.DateTimeField(_("连续投递失败起始时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("交换节点")
        verbose_name_plural = _("交换节点")
        ordering = ["node_id"]
        permissions = [("operate_exchange", _("运维跨区域交换（节点、队列、名册）"))]

    def __str__(self) -> str:
        return f"{self.name}（{self.node_id}）"

    def is_trusted(self, at: object = None) -> bool:
        """Registered, not revoked and inside its validity window."""
        now = at or timezone.now()
        return (
            self.revoked_at is None
            and self.valid_from <= now  # type: ignore[operator]
            and (self.valid_until is None or now < self.valid_until)  # type: ignore[operator]
        )

    def keys_at(self, when: dt.datetime, *, skew_seconds: int) -> list[str]:
        """The public keys that may have signed a message of this node stamped ``when``: the current
        key, and each earlier key whose ``valid_until`` (plus the clock skew) is after ``when``."""
        skew = dt.timedelta(seconds=skew_seconds)
        keys = [self.public_key]
        for entry in reversed(self.earlier_keys or []):
            until = entry.get("valid_until")
            if until and when < dt.datetime.fromisoformat(until) + skew:
                keys.append(str(entry["public_key"]))
        return keys

    @property
    def key_since(self) -> str | None:
        """When the current key replaced the previous one (ISO text; ``None``: its first key)."""
        return self.earlier_keys[-1]["valid_until"] if self.earlier_keys else None


class NodeRegistry(BaseModel):
    """One version of the region group's node registry, as signed by the hub and accepted here."""

    scope_field: ClassVar[str | None] = None

    version = models.PositiveIntegerField(_("版本"), unique=True)
    hub = models.SlugField(_("枢纽节点"), max_length=32)
    document = models.JSONField(_("名册内容"))
    signature = models.CharField(_("枢纽签名"), max_length=100)
    # The same document signed with the hub's previous key after the hub rotated its key (ADR 019):
    # a node that trusts only the previous key accepts the new one through it.
    handover_signature = models.CharField(_("枢纽旧密钥签名"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("节点名册")
        verbose_name_plural = _("节点名册")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"

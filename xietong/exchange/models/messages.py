"""The message log of a node: every message it sent (its outbox) and every one it accepted."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BaseModel

from ..choices import Direction, FileState, MessageStatus


class ExchangeMessage(BaseModel):
    """A signed message between two nodes (glossary: ``ExchangePackage``).

    ``hash`` covers the content (ids, kind, body, ``prev_hash``), so each peer-to-peer channel is a
    hash chain: ``prev_hash`` is the hash of the previous message the sender sent to that receiver.
    ``signature`` is the sender's Ed25519 signature of ``hash``. Outgoing rows are the outbox, written
    in the same transaction as the change they carry; incoming rows are applied exactly once.
    Once finished for ``XIETONG_EXCHANGE_RETENTION_DAYS``, a message's body is cleared (``pruned_at``):
    its hash, chain link and signature stay, so the chain still verifies, but the body can no longer
    be rehashed.
    """

    scope_field: ClassVar[str | None] = None

    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    seq = models.PositiveBigIntegerField(_("序号"))
    message_id = models.CharField(_("消息编号"), max_length=32)
    sender = models.SlugField(_("发送节点"), max_length=32)
    receiver = models.SlugField(_("接收节点"), max_length=32)
    kind = models.CharField(_("类型"), max_length=64)
    created = models.CharField(_("生成时间"), max_length=40)
    idempotency_key = models.CharField(_("幂等键"), max_length=128)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=100)
    body = models.JSONField(_("内容"))
    status = models.CharField(_("状态"), max_length=10, choices=MessageStatus.choices)
    attempts = models.PositiveIntegerField(_("投递次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次投递"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    reason = models.TextField(_("拒绝原因"), blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # The files the message carries, as hashed and signed: [{"name", "size", "sha256"}, …] (ADR 017).
    manifest = models.JSONField(_("文件清单"), default=list, blank=True)
    # When retention cleared the body and deleted the files (hash, signature and manifest stay).
    pruned_at = models.DateTimeField(_("内容清除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("交换消息")
        verbose_name_plural = _("交换消息")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "sender", "receiver", "seq"], name="exchange_msg_seq"
            ),
            models.UniqueConstraint(fields=["direction", "message_id"], name="exchange_msg_id"),
            models.UniqueConstraint(
                fields=["direction", "sender", "receiver", "idempotency_key"], name="exchange_msg_idem"
            ),
        ]
        indexes = [
            models.Index(fields=["direction", "status", "receiver", "seq"]),
            # The inbox queue: stored messages per sender in order (``actions.apply_due``).
            models.Index(fields=["direction", "status", "sender", "seq"], name="exchange_in_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.sender}→{self.receiver} #{self.seq} {self.kind}"

    def content(self) -> dict[str, object]:
        """The hashed fields, exactly as they travel."""
        return {
            "id": self.message_id,
            "sender": self.sender,
            "receiver": self.receiver,
            "kind": self.kind,
            "created": self.created,
            "idempotency_key": self.idempotency_key,
            "prev_hash": self.prev_hash,
            "body": self.body,
            # Only messages with files name them, so every message without keeps its hash.
            **({"files": self.manifest} if self.manifest else {}),
        }


class MessageFile(BaseModel):
    """One file a message carries, in either direction (ADR 017): its manifest entry and how far its
    transfer got. Outgoing, ``received`` is what the peer said it holds; incoming, what is on disk."""

    scope_field: ClassVar[str | None] = None

    message = models.ForeignKey(ExchangeMessage, on_delete=models.CASCADE, related_name="transfers")
    name = models.CharField(_("文件名"), max_length=100)
    size = models.PositiveBigIntegerField(_("字节数"))
    sha256 = models.CharField(max_length=64)
    received = models.PositiveBigIntegerField(_("已传字节数"), default=0)
    state = models.CharField(_("状态"), max_length=10, choices=FileState.choices, default=FileState.PENDING)
    attempts = models.PositiveIntegerField(_("重传次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次传送"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息文件")
        verbose_name_plural = _("消息文件")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["message", "name"], name="exchange_file_name")]

    def __str__(self) -> str:
        return f"{self.message.message_id}/{self.name}"

    @property
    def percent(self) -> int:
        """How much of the file has moved, for the operator page."""
        return 100 if not self.size else int(self.received * 100 / self.size)


class RefusedDelivery(BaseModel):
    """A delivery refused at the door (bad signature, unknown sender, stale, oversized …): kept so
    operators see attacks and misconfigurations; nothing of it was applied."""

    scope_field: ClassVar[str | None] = None

    claimed_sender = models.CharField(_("声称的发送节点"), max_length=64, blank=True)
    remote_addr = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    reason = models.TextField(_("拒绝原因"))
    size = models.PositiveIntegerField(_("字节数"), default=0)
    excerpt = models.TextField(_("内容摘录"), blank=True)

    class Meta:
        verbose_name = _("拒收记录")
        verbose_name_plural = _("拒收记录")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.claimed_sender or '?'}: {self.reason}"

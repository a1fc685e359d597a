"""Every read of the exchange app: peers and queues for operators, the message log, the registry,
and the check of both message logs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from xietong.core import audit, pii, processes

from .choices import Direction, MessageStatus
from .models import ExchangeMessage, ExchangeNode, MessageFile, NodeRegistry, RefusedDelivery

if TYPE_CHECKING:
    from xietong.core.typing import Viewer


def can_operate(user: Viewer) -> bool:
    """Whether ``user`` holds the operator's right (node-wide: the exchange has no organisation)."""
    return bool(user.has_perm("exchange.operate_exchange"))


def parse_created(created: str) -> dt.datetime | None:
    """A message's ``created`` (ISO 8601 text, as it travels and is hashed) as an aware datetime,
    for showing in the node's time zone; ``None`` if it is not a valid timestamp."""
    try:
        value = dt.datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


@dataclass(frozen=True)
class PeerState:
    """A peer as the operator page shows it: its entry, its queue (how many, since when) and its
    delivery health (failing since …, or recovered from the last error)."""

    node: ExchangeNode
    pending: int
    refused: int
    oldest: dt.datetime | None

    @property
    def failing(self) -> bool:
        """Deliveries to the peer fail now: the last attempt failed and none succeeded since."""
        return self.node.failing_since is not None

    @property
    def recovered_at(self) -> dt.datetime | None:
        """When a delivery went through after the last error (the error is then shown as past)."""
        node = self.node
        if self.failing or not node.last_error_at or not node.last_success_at:
            return None
        return node.last_success_at if node.last_success_at > node.last_error_at else None

    @property
    def age(self) -> dt.timedelta | None:
        """How long the oldest pending message has waited."""
        return timezone.now() - self.oldest if self.oldest else None

    @property
    def stale(self) -> bool:
        """Whether the queue is older than ``XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES``."""
        return self.age is not None and self.age > queue_alert_threshold()


def queue_alert_threshold() -> dt.timedelta:
    return dt.timedelta(minutes=settings.XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES)


def peers(*, user: Viewer) -> list[PeerState]:
    """Every node of the registry with this node's outbox figures towards it (operators only)."""
    return peer_states() if can_operate(user) else []


def peer_states() -> list[PeerState]:
    """The figures of ``peers`` for the command line (``xietong exchange status``), unscoped."""
    pending = Q(status=MessageStatus.PENDING)
    figures: dict[str, dict[str, Any]] = {
        row["receiver"]: dict(row)
        for row in ExchangeMessage.objects.filter(direction=Direction.OUT)
        .values("receiver")
        .annotate(
            pending=Count("id", filter=pending),
            refused=Count("id", filter=Q(status=MessageStatus.REFUSED)),
            oldest=Min("created", filter=pending),
        )
    }
    empty: dict[str, Any] = {"pending": 0, "refused": 0, "oldest": None}
    states = []
    for node in ExchangeNode.objects.order_by("node_id"):
        row = figures.get(node.node_id, empty)
        # ``created`` is ISO text in UTC from this node's clock, so its minimum is the oldest.
        oldest = parse_created(row["oldest"]) if row["oldest"] else None
        states.append(PeerState(node, pending=row["pending"], refused=row["refused"], oldest=oldest))
    return states


def stale_queues(*, threshold: dt.timedelta | None = None) -> list[PeerState]:
    """Peers whose oldest pending message has waited longer than ``threshold`` (default
    ``XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES``): what the operator page warns about and what a
    notification for operators reads. Unscoped (node-wide, like the operator's right)."""
    limit = threshold if threshold is not None else queue_alert_threshold()
    now = timezone.now()
    return [state for state in peer_states() if state.oldest is not None and now - state.oldest > limit]


def inbox_queue(*, user: Viewer) -> QuerySet[ExchangeMessage]:
    """Messages received and not yet applied, per sender in order (operators only): those waiting for
    their files or for the worker, and those whose application failed (``last_error``, retried at
    ``next_attempt_at``), which hold back their sender's later messages (ADR 016)."""
    if not can_operate(user):
        return ExchangeMessage.objects.none()
    return ExchangeMessage.objects.filter(direction=Direction.IN, status=MessageStatus.WAITING).order_by(
        "sender", "seq"
    )


def inbox_failing() -> QuerySet[ExchangeMessage]:
    """Received messages whose application failed and is being retried (node-wide, for the alert)."""
    return ExchangeMessage.objects.filter(
        direction=Direction.IN, status=MessageStatus.WAITING, attempts__gt=0
    ).exclude(last_error="")


def messages(*, user: Viewer) -> QuerySet[ExchangeMessage]:
    """The message log, newest first (operators only; the page narrows it with ``MessageFilter``)."""
    if not can_operate(user):
        return ExchangeMessage.objects.none()
    return ExchangeMessage.objects.all()


def search_messages(queryset: QuerySet[ExchangeMessage], q: str) -> QuerySet[ExchangeMessage]:
    """Messages by kind (part of it), sending or receiving node, or message id."""
    q = q.strip()
    return (
        queryset.filter(Q(kind__icontains=q) | Q(sender=q) | Q(receiver=q) | Q(message_id=q))
        if q
        else queryset
    )


def refused_deliveries(*, user: Viewer) -> QuerySet[RefusedDelivery]:
    if not can_operate(user):
        return RefusedDelivery.objects.none()
    return RefusedDelivery.objects.all()


def file_transfers(*, user: Viewer) -> QuerySet[MessageFile]:
    """The files of messages in both directions, newest first, with their message (operators only):
    the operator page shows each one's progress and last error (ADR 017)."""
    if not can_operate(user):
        return MessageFile.objects.none()
    return MessageFile.objects.select_related("message").order_by("-id")


def is_hub() -> bool:
    """Whether this node signs the region group's registry."""
    return bool(settings.XIETONG_HUB_NODE_ID == settings.XIETONG_NODE_ID)


def registered_nodes() -> QuerySet[ExchangeNode]:
    """Every node of the registry held here, revoked ones included."""
    return ExchangeNode.objects.order_by("node_id")


def trusted_peers() -> list[ExchangeNode]:
    """The other nodes of the region group that this node may send to now."""
    return [
        node for node in ExchangeNode.objects.exclude(node_id=settings.XIETONG_NODE_ID) if node.is_trusted()
    ]


def registry() -> NodeRegistry | None:
    """The newest registry this node holds (the hub serves it to the others)."""
    return NodeRegistry.objects.order_by("-version").first()


@dataclass(frozen=True)
class LogCheck:
    """The result of checking both message logs: how many messages were checked, how many of them
    had their body cleared by retention (their content could not be rehashed, only their chain link
    and signature checked), and the problems found, in words."""

    checked: int
    pruned: int
    problems: list[str]


def check_log() -> LogCheck:
    """Check both message logs: each channel's sequence and hash chain, each content hash, each
    sender signature over the stored hash (this node's key for what it sent, the sender's registry
    key for what it received), the key valid when the message was created: the signatures of messages
    created before a key rotation check with the earlier key (ADR 019). A message pruned by retention
    has no body to rehash; its stored hash is still tied to the chain (the next message's
    ``prev_hash``) and to the sender's signature."""

    from . import envelope
    from .models import GENESIS_HASH

    nodes = {node.node_id: node for node in ExchangeNode.objects.all()}
    skew = int(settings.XIETONG_EXCHANGE_SKEW_SECONDS)
    own = pii.node_signing_keys()
    checked, pruned, problems = 0, 0, []
    last: dict[tuple[str, str, str], tuple[int, str]] = {}
    for message in ExchangeMessage.objects.order_by("direction", "sender", "receiver", "seq").iterator():
        checked += 1
        channel = (message.direction, message.sender, message.receiver)
        seq, previous = last.get(channel, (0, GENESIS_HASH))
        where = f"{message.get_direction_display()} {message.sender}→{message.receiver} 第{message.seq}条"
        if message.seq != seq + 1:
            problems.append(f"{where}：序号不连续（上一条为第{seq}条）")
        if message.prev_hash != previous:
            problems.append(f"{where}：前序摘要与上一条不符（链条断裂）")
        if message.pruned_at is not None:
            pruned += 1
        elif envelope.content_hash(message.content()) != message.hash:
            problems.append(f"{where}：内容与摘要不符（内容被改动）")
        created = parse_created(message.created) or timezone.now()
        if message.direction == Direction.OUT:
            keys = [key.public_key for key in own if key.covers(created, skew_seconds=skew)]
        else:
            node = nodes.get(message.sender)
            keys = node.keys_at(created, skew_seconds=skew) if node else []
        if not any(envelope.crypto.verify(key, message.hash.encode(), message.signature) for key in keys):
            problems.append(f"{where}：签名无效")
        last[channel] = (message.seq, message.hash)
    return LogCheck(checked, pruned, problems)


def verify_log() -> tuple[int, list[str]]:
    """``check_log`` as (messages checked, problems), for callers that need no more."""
    result = check_log()
    return result.checked, result.problems


def node_name(node_id: object) -> str:
    """A node's name as the region group's registry gives it (``tj`` → 天津节点), for pages, exports
    and audit details that staff read; this node's own name, or the id itself, when unregistered."""
    name = ExchangeNode.objects.filter(node_id=str(node_id)).values_list("name", flat=True).first()
    return name or audit.node_name(node_id)


def node_processes(*, user: Viewer) -> list[processes.ProcessRow]:
    """This node's processes (web, task worker, exchange worker) with their heartbeats and restarts,
    for the operator page (node-wide, like the operator's right; nothing without it)."""
    if not can_operate(user):
        return []
    return processes.overview()

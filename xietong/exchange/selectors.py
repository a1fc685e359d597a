"""Every read of the exchange app: peers and queues for operators, the message log, the registry,
and the check of both message logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet

from xietong.core import audit, pii

from .choices import Direction, MessageStatus
from .models import ExchangeMessage, ExchangeNode, NodeRegistry, RefusedDelivery

if TYPE_CHECKING:
    from xietong.core.typing import Viewer


def can_operate(user: Viewer) -> bool:
    """Whether ``user`` holds the operator's right (node-wide: the exchange has no organisation)."""
    return bool(user.has_perm("exchange.operate_exchange"))


@dataclass(frozen=True)
class PeerState:
    """A peer as the operator page shows it: its entry, queue and last error."""

    node: ExchangeNode
    pending: int
    refused: int
    oldest: Any


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
    empty = {"pending": 0, "refused": 0, "oldest": None}
    return [
        PeerState(node, **{key: figures.get(node.node_id, empty)[key] for key in empty})
        for node in ExchangeNode.objects.order_by("node_id")
    ]


def messages(*, user: Viewer, q: str = "", status: str = "") -> QuerySet[ExchangeMessage]:
    """The message log, newest first (operators only)."""
    if not can_operate(user):
        return ExchangeMessage.objects.none()
    queryset = ExchangeMessage.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return search_messages(queryset, q)


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


def verify_log() -> tuple[int, list[str]]:
    """Check both message logs: each channel's sequence and hash chain, each content hash, each
    sender signature (this node's key for what it sent, the sender's registry key for what it
    received). Returns the number of messages checked and the problems found, in words."""

    from . import envelope
    from .models import GENESIS_HASH

    keys = {node.node_id: node.public_key for node in ExchangeNode.objects.all()}
    checked, problems = 0, []
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
        if envelope.content_hash(message.content()) != message.hash:
            problems.append(f"{where}：内容与摘要不符（内容被改动）")
        key = pii.node_public_key() if message.direction == Direction.OUT else keys.get(message.sender, "")
        if not envelope.crypto.verify(key, message.hash.encode(), message.signature):
            problems.append(f"{where}：签名无效")
        last[channel] = (message.seq, message.hash)
    return checked, problems


def node_name(node_id: object) -> str:
    """A node's name as the region group's registry gives it (``tj`` → 天津节点), for pages, exports
    and audit details that staff read; this node's own name, or the id itself, when unregistered."""
    name = ExchangeNode.objects.filter(node_id=str(node_id)).values_list("name", flat=True).first()
    return name or audit.node_name(node_id)

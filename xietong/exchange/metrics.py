"""The exchange's Prometheus gauges (``xietong.core.metrics``), read at each scrape: the outbox queue
per peer and its oldest message's age, messages being retried after a failed delivery, messages the
peer refused, whether deliveries to the peer fail now, and deliveries this node refused at its door."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from .choices import Direction, MessageStatus
from .models import ExchangeMessage, RefusedDelivery
from .selectors import peer_states


def exchange_metrics() -> Iterable[Metric]:
    """Three grouped queries: the peers' queues, the retried messages, the refusals at the door."""
    now = timezone.now()
    queue = GaugeMetricFamily(
        "xietong_exchange_queue_messages", "待投递消息数（按对方节点）", labels=["peer"]
    )
    age = GaugeMetricFamily(
        "xietong_exchange_queue_oldest_age_seconds", "最早一条待投递消息已等待的秒数", labels=["peer"]
    )
    refused = GaugeMetricFamily(
        "xietong_exchange_refused_messages", "被对方节点拒收的消息数", labels=["peer"]
    )
    failing = GaugeMetricFamily(
        "xietong_exchange_peer_failing", "向该节点投递当前失败（1 是，0 否）", labels=["peer"]
    )
    for peer in peer_states():
        label = [peer.node.node_id]
        queue.add_metric(label, peer.pending)
        age.add_metric(label, (now - peer.oldest).total_seconds() if peer.oldest else 0.0)
        refused.add_metric(label, peer.refused)
        failing.add_metric(label, 1 if peer.failing else 0)
    retrying = GaugeMetricFamily(
        "xietong_exchange_retrying_messages", "投递失败后等待重试的消息数", labels=["peer"]
    )
    rows = (
        ExchangeMessage.objects.filter(direction=Direction.OUT, status=MessageStatus.PENDING, attempts__gt=0)
        .values("receiver")
        .annotate(n=Count("id", filter=Q(attempts__gt=0)))
        .order_by("receiver")
    )
    for row in rows:
        retrying.add_metric([row["receiver"]], row["n"])
    at_door = GaugeMetricFamily(
        "xietong_exchange_refused_deliveries",
        "本节点在入口拒收的投递数（签名无效、未知发送方等）",
        value=RefusedDelivery.objects.count(),
    )
    yield from (queue, age, refused, failing, retrying, at_door)

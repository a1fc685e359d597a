"""The exchange on its operators' home page and in their notifications (issue 17 defect 7): a peer
whose outgoing queue is older than the threshold is counted and told once per stall."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from xietong.core.models import Notification
from xietong.core.testing import client_for, make_user

from .. import selectors
from ..choices import Direction, MessageStatus
from ..models import ExchangeMessage
from ..testing import Peer

OPERATOR = ["exchange.operate_exchange"]


def pending(seq: int, minutes_ago: int) -> ExchangeMessage:
    written = timezone.now() - dt.timedelta(minutes=minutes_ago)
    message = ExchangeMessage.objects.create(
        direction=Direction.OUT, seq=seq, message_id=f"m{seq}", sender="bj", receiver="tj", kind="test.kind",
        created=written.isoformat(), idempotency_key=f"k{seq}", prev_hash="0", hash=f"{seq}",
        signature="s", body={}, status=MessageStatus.PENDING,
    )  # fmt: skip
    ExchangeMessage.objects.filter(pk=message.pk).update(created_at=written)
    return message


def notify_due() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the test's transaction never commits
        call_command("notify_due")


def test_a_stale_queue_is_counted_for_operators_and_told_once(peer: Peer, settings: Any) -> None:
    settings.XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES = 30
    operator = make_user("operator", perms=OPERATOR, node_wide=True)
    clerk = make_user("clerk", perms=["core.view_person"], node_wide=True)
    pending(1, minutes_ago=5)
    assert selectors.stale_queues() == []
    notify_due()
    assert not Notification.objects.exists()
    earlier = timezone.now() - dt.timedelta(minutes=45)
    ExchangeMessage.objects.update(created_at=earlier, created=earlier.isoformat())
    pending(2, minutes_ago=1)
    [queue] = selectors.stale_queues()
    assert (queue.node.node_id, queue.node.name, queue.pending) == ("tj", "天津节点", 2)
    todos = client_for(operator).get(reverse("core:home")).context["todos"]
    assert [(t.label, t.count, t.url) for t in todos] == [
        ("积压超过30分钟的节点队列", 1, reverse("exchange:operations"))
    ]
    notify_due()
    notify_due()
    note = Notification.objects.get(recipient=operator)
    assert note.kind == "exchange.stale_queue" and "天津节点" in note.text
    assert not Notification.objects.filter(recipient=clerk).exists()

"""The inbox stores and acknowledges; the exchange worker applies (issue 13 §7, ADR 016): a delivery
is answered before any handler runs, messages are applied once and in order per sender, a failure
that is not the message's fault is retried with back-off without holding back other senders, and the
sender of a rejected message hears why (``exchange.rejected``, ``on_refused``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from xietong import exchange
from xietong.core.testing import client_for, make_user
from xietong.lib import crypto

from .. import actions, kinds
from ..choices import MessageStatus
from ..models import ExchangeMessage
from ..testing import receive_and_apply
from .conftest import Peer
from .test_outbox import acking


class _StepSerializer(serializers.Serializer[Any]):
    n = serializers.IntegerField(min_value=1)


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A test-only kind ``test.step`` whose handler notes (sender, n) and fails while ``broken``
    holds the sender's id (as a database outage would: not the message's fault)."""
    state: dict[str, Any] = {"applied": [], "broken": set()}
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))

    @kinds.handles("test.step", body=_StepSerializer)
    def _step(data: Any, sender: Any) -> None:
        if sender.node_id in state["broken"]:
            raise RuntimeError("数据库暂时不可用")
        state["applied"].append((sender.node_id, data["n"]))

    return state


@pytest.fixture
def hebei(peer: Peer) -> Peer:
    """A second peer, "hb"."""
    private, public = crypto.generate_signing_key()
    node = actions.node_register(
        node_id="hb", name="河北节点", endpoint="http://127.0.0.1:8003", public_key=public,
        acting_user=None,
    )  # fmt: skip
    return Peer(node, private)


def deliver(peer: Peer, kind: str, body: dict[str, Any]) -> Any:
    return actions.receive(peer.deliver_bytes(peer.message(kind, body)))


def test_a_delivery_is_acknowledged_before_the_handler_runs(peer: Peer, steps: dict[str, Any]) -> None:
    answer = deliver(peer, "test.step", {"n": 1})
    assert answer.status == 200 and answer.payload["ack"]["status"] == MessageStatus.WAITING
    assert steps["applied"] == []  # nothing ran inside the request
    stored = ExchangeMessage.objects.get(direction="in")
    assert (stored.status, stored.finished_at) == (MessageStatus.WAITING, None)
    report = actions.apply_due()
    assert (report.applied, steps["applied"]) == (1, [("tj", 1)])
    stored.refresh_from_db()
    assert stored.status == MessageStatus.APPLIED and stored.finished_at is not None
    assert actions.apply_due().applied == 0 and steps["applied"] == [("tj", 1)]  # once


def test_each_senders_messages_apply_in_order_and_a_failure_holds_back_only_that_sender(
    peer: Peer, hebei: Peer, steps: dict[str, Any]
) -> None:
    steps["broken"].add("tj")
    for n in (1, 2):
        deliver(peer, "test.step", {"n": n})
    deliver(hebei, "test.step", {"n": 1})
    report = actions.apply_due()
    assert (report.applied, report.failed) == (1, 1) and "数据库暂时不可用" in report.errors["tj"]
    assert steps["applied"] == [("hb", 1)]  # Hebei is not held back by Tianjin's trouble
    first, second = ExchangeMessage.objects.filter(direction="in", sender="tj").order_by("seq")
    assert first.status == second.status == MessageStatus.WAITING
    assert first.attempts == 1 and "RuntimeError" in first.last_error and second.attempts == 0
    assert first.next_attempt_at is not None and first.next_attempt_at > timezone.now()
    steps["broken"].clear()
    assert actions.apply_due().applied == 0  # backing off: nothing before the next attempt
    later = first.next_attempt_at + dt.timedelta(seconds=1)
    assert actions.apply_due(now=later).applied == 2
    assert steps["applied"] == [("hb", 1), ("tj", 1), ("tj", 2)]
    first.refresh_from_db()
    assert first.status == MessageStatus.APPLIED and first.last_error == ""


def test_a_rejected_message_is_reported_back_to_its_sender(peer: Peer, steps: dict[str, Any]) -> None:
    receive_and_apply(peer.deliver_bytes(peer.message("test.step", {"n": 0})))
    rejected = ExchangeMessage.objects.get(direction="in", kind="test.step")
    assert rejected.status == MessageStatus.REJECTED and rejected.reason.startswith("n：")
    notice = ExchangeMessage.objects.get(direction="out", kind="exchange.rejected")
    assert notice.receiver == "tj" and notice.status == MessageStatus.PENDING
    assert notice.body == {"id": rejected.message_id, "kind": "test.step", "reason": rejected.reason}


def test_a_peers_rejection_notice_refuses_our_message_and_tells_the_app(
    peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kinds, "_ON_REFUSED", {})
    heard: list[tuple[Any, str, str]] = []
    exchange.on_refused("test.sent")(lambda body, reason, receiver: heard.append((body, reason, receiver)))
    sent = exchange.send(to="tj", kind="test.sent", body={"uid": "u1"}, idempotency_key="k1")
    actions.deliver_due(post=acking(peer, status=MessageStatus.WAITING))
    sent.refresh_from_db()
    assert sent.status == MessageStatus.ACKED  # delivered; the peer applies it later
    notice = {"id": sent.message_id, "kind": "test.sent", "reason": "转移申请不存在"}
    receive_and_apply(peer.deliver_bytes(peer.message("exchange.rejected", notice)))
    sent.refresh_from_db()
    assert (sent.status, sent.reason) == (MessageStatus.REFUSED, "转移申请不存在")
    assert heard == [({"uid": "u1"}, "转移申请不存在", "tj")]
    # A notice about a message we never sent is itself rejected, and not answered with a notice.
    receive_and_apply(peer.deliver_bytes(peer.message("exchange.rejected", {**notice, "id": "f" * 32})))
    stray = ExchangeMessage.objects.filter(direction="in", kind="exchange.rejected").latest("seq")
    assert stray.status == MessageStatus.REJECTED and "没有发给 tj 的消息" in stray.reason
    assert not ExchangeMessage.objects.filter(direction="out", kind="exchange.rejected").exists()


def test_an_old_node_answering_rejected_in_its_ack_still_refuses_and_tells_the_app(
    peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kinds, "_ON_REFUSED", {})
    heard: list[str] = []
    exchange.on_refused("test.sent")(lambda body, reason, receiver: heard.append(reason))
    sent = exchange.send(to="tj", kind="test.sent", body={"uid": "u1"}, idempotency_key="k1")
    actions.deliver_due(post=acking(peer, status="rejected", reason="旧版节点拒收"))
    sent.refresh_from_db()
    assert (sent.status, sent.reason, heard) == (MessageStatus.REFUSED, "旧版节点拒收", ["旧版节点拒收"])


def test_the_operator_sees_a_failing_message_with_its_error_and_the_home_page_counts_it(
    peer: Peer, steps: dict[str, Any]
) -> None:
    steps["broken"].add("tj")
    deliver(peer, "test.step", {"n": 1})
    actions.apply_due()
    operator = client_for(make_user("op", perms=["exchange.operate_exchange"]))
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert 'data-testid="inbox-queue"' in page and "RuntimeError：数据库暂时不可用" in page
    home = operator.get(reverse("core:home")).content.decode()
    assert "收到后处理失败、正在重试的消息" in home
    clerk_page = client_for(make_user("clerk")).get(reverse("exchange:operations"))
    assert clerk_page.status_code == 403

"""The outbox: a listing queues one message per peer in the same transaction, delivery keeps order,
waits with back-off while a peer is down, and an acknowledgement must be signed by the peer."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from xietong import exchange

from .. import actions, envelope
from ..choices import MessageStatus
from ..models import ExchangeMessage, ExchangeNode
from .conftest import Peer


def list_one(kind: str = "arrears.listed", uid: str = "a" * 32) -> list[ExchangeMessage]:
    """Broadcast one message the way a domain app does (the exchange does not read its body)."""
    return exchange.broadcast(kind=kind, body={"uid": uid}, idempotency_key=f"{kind}:{uid}")


def acking(peer: Peer, *, status: str = "applied", reason: str = "") -> Any:
    """A transport that answers as the peer: a valid ack signed with the peer's key."""
    seen: list[dict[str, Any]] = []

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        answers = []
        for document in json.loads(body)["batch"]:
            seen.append(document)
            ack = {
                "id": document["id"],
                "hash": document["hash"],
                "receiver": "tj",
                "status": status,
                "reason": reason,
            }
            answers.append(
                {"status": 200, "ack": ack, "signature": envelope.sign_document(peer.private_key, ack)}
            )
        return 200, json.dumps({"answers": answers}).encode()

    post.seen = seen  # type: ignore[attr-defined]
    return post


def test_delivery_marks_the_message_acknowledged(peer: Peer) -> None:
    list_one()
    post = acking(peer)
    report = actions.deliver_due(post=post)
    assert report.delivered == 1
    message = ExchangeMessage.objects.get(direction="out")
    assert message.status == MessageStatus.ACKED and message.attempts == 1
    assert post.seen[0]["receiver"] == "tj" and post.seen[0]["hash"] == message.hash
    assert actions.deliver_due(post=post).delivered == 0  # nothing left


def test_a_peer_that_is_down_is_retried_later_and_order_is_kept(peer: Peer) -> None:
    list_one()
    list_one("arrears.removed")

    def down(url: str, body: bytes) -> tuple[int, bytes]:
        raise ConnectionRefusedError("Connection refused")

    report = actions.deliver_due(post=down)
    assert report.failed == 1 and report.delivered == 0
    head, second = ExchangeMessage.objects.filter(direction="out").order_by("seq")
    assert head.attempts == 1 and "refused" in head.last_error
    assert head.next_attempt_at is not None and head.next_attempt_at > timezone.now()
    assert second.attempts == 0  # waits behind the first
    assert "refused" in ExchangeNode.objects.get(node_id="tj").last_error
    post = acking(peer)
    assert actions.deliver_due(post=post).delivered == 0  # back-off not over yet
    ExchangeMessage.objects.filter(pk=head.pk).update(next_attempt_at=timezone.now())
    assert actions.deliver_due(post=post).delivered == 2
    assert [doc["kind"] for doc in post.seen] == ["arrears.listed", "arrears.removed"]


def test_an_ack_not_signed_by_the_peer_is_not_trusted(peer: Peer) -> None:
    from xietong.lib import crypto

    list_one()
    forged = acking(Peer(peer.node, crypto.generate_signing_key()[0]))
    report = actions.deliver_due(post=forged)
    assert report.failed == 1 and report.errors["tj"] == "对方回执签名无效"
    assert ExchangeMessage.objects.get(direction="out").status == MessageStatus.PENDING


def test_a_refusal_by_the_peer_is_kept_with_its_reason(peer: Peer) -> None:
    list_one()
    actions.deliver_due(post=acking(peer, status="rejected", reason="本节点不处理此类消息"))
    message = ExchangeMessage.objects.get(direction="out")
    assert message.status == MessageStatus.REFUSED and message.reason == "本节点不处理此类消息"


def test_a_message_is_queued_for_each_trusted_peer_but_not_for_this_node(peer: Peer) -> None:
    (queued,) = list_one()
    assert (queued.receiver, queued.kind, queued.body) == ("tj", "arrears.listed", {"uid": "a" * 32})
    assert queued.seq == 1 and queued.status == MessageStatus.PENDING


def test_the_same_idempotency_key_returns_the_queued_message(peer: Peer) -> None:
    one = exchange.send(to="tj", kind="ping", body={}, idempotency_key="k-1")
    two = exchange.send(to="tj", kind="ping", body={}, idempotency_key="k-1")
    assert one.pk == two.pk and ExchangeMessage.objects.count() == 1


def test_a_revoked_peer_gets_nothing(peer: Peer) -> None:
    actions.node_revoke(node=peer.node, acting_user=None)
    list_one()
    assert not ExchangeMessage.objects.exists()


def test_deliveries_are_batched_under_the_size_limit(peer: Peer, settings: Any) -> None:
    settings.XIETONG_EXCHANGE_MAX_BYTES = 4000
    for i in range(6):
        exchange.send(to="tj", kind="ping", body={"pad": "x" * 900}, idempotency_key=f"k{i}")
    post = acking(peer)
    posts: list[int] = []

    def counting(url: str, body: bytes) -> tuple[int, bytes]:
        assert len(body) <= 4000
        posts.append(len(json.loads(body)["batch"]))
        return post(url, body)

    assert actions.deliver_due(post=counting).delivered == 6
    assert sum(posts) == 6 and len(posts) > 1
    assert [doc["idempotency_key"] for doc in post.seen] == [f"k{i}" for i in range(6)]

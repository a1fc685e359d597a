"""The inbox: what a node accepts from a peer, what it refuses and why, and that nothing is applied
twice. The peer is played by the test with its own key (see conftest)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils import timezone

from xietong.exchange.choices import MessageStatus
from xietong.exchange.models import ExchangeMessage, RefusedDelivery
from xietong.exchange.testing import outcome, post_inbox

from ..models import ArrearsListing
from .conftest import Peer

TJ_CODE = "91120116MA05J0X10Y"


def listing_body(uid: str = "a" * 32, code: str = TJ_CODE, status: str = "listed") -> dict[str, Any]:
    return {
        "uid": uid,
        "origin_node": "tj",
        "authority": "天津市滨海新区劳动保障监察支队",
        "credit_code": code,
        "employer_name": "天津某建筑劳务有限公司",
        "amount_owed": "386500.00",
        "workers_affected": 42,
        "decision_no": "津滨人社监〔2026〕17号",
        "listed_on": "2026-11-02",
        "expires_on": None,
        "status": status,
        "removed_on": "2026-11-20" if status == "removed" else None,
        "removal_reason": "已全额支付拖欠工资" if status == "removed" else "",
    }


def post(raw: bytes) -> Any:
    return post_inbox(raw)


def test_a_listing_from_a_peer_is_applied_once_and_acknowledged(peer: Peer) -> None:
    raw = peer.deliver_bytes(peer.message("arrears.listed", listing_body()))
    first = post(raw)
    assert first.status_code == 200
    assert first.json()["ack"]["status"] == MessageStatus.WAITING  # stored; the worker applies it
    assert outcome(first)["status"] == MessageStatus.APPLIED
    listing = ArrearsListing.objects.get(uid="a" * 32)
    assert listing.employer_name == "天津某建筑劳务有限公司" and listing.origin_node == "tj"
    again = post(raw)  # the sender did not see the answer and delivers again
    assert again.json()["ack"]["id"] == first.json()["ack"]["id"]
    assert again.json()["ack"]["status"] == MessageStatus.APPLIED
    assert ArrearsListing.objects.count() == 1
    assert ExchangeMessage.objects.filter(direction="in").count() == 1


def test_a_removal_from_the_peer_reaches_the_copy(peer: Peer) -> None:
    post(peer.deliver_bytes(peer.message("arrears.listed", listing_body())))
    post(peer.deliver_bytes(peer.message("arrears.removed", listing_body(status="removed"))))
    listing = ArrearsListing.objects.get(uid="a" * 32)
    assert listing.status == "removed" and listing.removal_reason == "已全额支付拖欠工资"


def test_a_forged_signature_is_refused_and_logged(peer: Peer) -> None:
    from xietong.lib import crypto

    impostor = Peer(peer.node, crypto.generate_signing_key()[0])
    answer = post(impostor.deliver_bytes(impostor.message("arrears.listed", listing_body())))
    assert answer.status_code == 403 and answer.json()["error"].startswith("消息签名无效")
    assert not ArrearsListing.objects.exists()
    assert RefusedDelivery.objects.get().claimed_sender == "tj"


def test_tampered_content_is_refused(peer: Peer) -> None:
    raw = json.loads(peer.deliver_bytes(peer.message("arrears.listed", listing_body())))
    raw["body"]["amount_owed"] = "1.00"
    answer = post(json.dumps(raw).encode())
    assert answer.status_code == 403 and "内容被改动" in answer.json()["error"]
    assert not ArrearsListing.objects.exists()


def test_an_unknown_or_revoked_sender_is_refused(peer: Peer) -> None:
    from xietong.exchange import actions

    stranger = Peer(peer.node, peer.private_key)
    content = stranger.message("arrears.listed", listing_body())
    content["sender"] = "sh"
    assert post(stranger.deliver_bytes(content)).json()["error"] == "发送节点 sh 不在节点名册中"
    actions.node_revoke(node=peer.node, acting_user=None)
    answer = post(peer.deliver_bytes(peer.message("arrears.listed", listing_body())))
    assert answer.status_code == 403 and "已被吊销" in answer.json()["error"]
    assert not ArrearsListing.objects.exists()


def test_a_replayed_request_outside_the_clock_skew_is_refused(peer: Peer) -> None:
    late = timezone.now() - dt.timedelta(minutes=30)
    answer = post(peer.deliver_bytes(peer.message("arrears.listed", listing_body()), at=late))
    assert answer.status_code == 403 and "超过允许的 300 秒" in answer.json()["error"]


def test_oversized_and_malformed_deliveries_are_refused(peer: Peer, settings: Any) -> None:
    settings.XIETONG_EXCHANGE_MAX_BYTES = 2000
    big = peer.deliver_bytes(
        peer.message("arrears.listed", {**listing_body(), "note": "欠" * 2000}), advance=False
    )
    assert post(big).status_code == 400 and "消息过大" in post(big).json()["error"]
    assert post(b"{not json").json()["error"].startswith("消息不是有效的 UTF-8 JSON")
    assert "缺少字段" in post(b'{"sender": "tj"}').json()["error"]
    assert RefusedDelivery.objects.count() == 4 and not ArrearsListing.objects.exists()


def test_a_message_out_of_order_waits_for_the_one_before(peer: Peer) -> None:
    first = peer.deliver_bytes(peer.message("arrears.listed", listing_body()))
    second = peer.deliver_bytes(peer.message("arrears.removed", listing_body(status="removed")))
    early = post(second)
    assert early.status_code == 409 and "前一条消息尚未收到" in early.json()["error"]
    assert post(first).status_code == 200 and post(second).status_code == 200
    assert ArrearsListing.objects.get().status == "removed"


def test_a_listing_with_an_invalid_credit_code_is_rejected_with_the_reason(peer: Peer) -> None:
    answer = post(peer.deliver_bytes(peer.message("arrears.listed", listing_body(code="91120116MA05J0X10A"))))
    ack = outcome(answer)
    assert ack["status"] == MessageStatus.REJECTED and "第18位校验码应为Y" in ack["reason"]
    assert not ArrearsListing.objects.exists()
    # the chain moved on: the next message from the peer is accepted
    assert (
        outcome(post(peer.deliver_bytes(peer.message("arrears.listed", listing_body()))))["status"]
        == "applied"
    )


def test_a_peer_cannot_publish_another_nodes_listing(peer: Peer) -> None:
    body = {**listing_body(), "origin_node": "hb"}
    ack = outcome(post(peer.deliver_bytes(peer.message("arrears.listed", body))))
    assert ack["status"] == MessageStatus.REJECTED and "只能发布本节点列入的名单" in ack["reason"]


def test_the_log_verifies_and_an_edit_is_found(peer: Peer) -> None:
    from xietong.exchange import selectors

    post(peer.deliver_bytes(peer.message("arrears.listed", listing_body())))
    post(peer.deliver_bytes(peer.message("arrears.removed", listing_body(status="removed"))))
    assert selectors.verify_log() == (2, [])
    ExchangeMessage.objects.filter(seq=1).update(body={**listing_body(), "amount_owed": "1.00"})
    checked, problems = selectors.verify_log()
    assert checked == 2 and problems == ["收到 tj→bj 第1条：内容与摘要不符（内容被改动）"]


def test_a_batch_is_applied_in_order_and_stops_at_the_first_refusal(peer: Peer) -> None:
    first = json.loads(peer.deliver_bytes(peer.message("arrears.listed", listing_body())))
    second = json.loads(peer.deliver_bytes(peer.message("arrears.removed", listing_body(status="removed"))))
    stray = json.loads(
        peer.deliver_bytes(peer.message("arrears.listed", listing_body(uid="b" * 32), prev_hash="0" * 64))
    )
    last = json.loads(peer.deliver_bytes(peer.message("arrears.listed", listing_body(uid="c" * 32))))
    body = json.dumps({"batch": [first, second, stray, last]}).encode()
    answers = post(body).json()["answers"]
    assert [a["status"] for a in answers] == [200, 200, 409]  # nothing after the refused one
    assert answers[2]["error"].startswith("消息顺序不符")
    assert ArrearsListing.objects.get(uid="a" * 32).status == "removed"
    assert not ArrearsListing.objects.filter(uid__in=["b" * 32, "c" * 32]).exists()

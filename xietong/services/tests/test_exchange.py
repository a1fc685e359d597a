"""Handing a request to a union on another node (a 廊坊 worker calling Beijing's line): the request
travels with the caller's phone, waits in the outbox while the other node is down and is delivered
when it is back; the other node's acknowledgement and answer travel back. The other node ("tj") is
played by the test (``xietong.exchange.testing``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from xietong.core.testing import Scope, clerk, make_org
from xietong.exchange import actions as exchange_actions
from xietong.exchange import envelope
from xietong.exchange.choices import MessageStatus
from xietong.exchange.models import ExchangeMessage
from xietong.exchange.testing import outcome, post_inbox

from .. import actions
from ..choices import RequestStatus
from ..models import ServiceRequest
from .conftest import Peer
from .factories import make_request


def post(raw: bytes) -> Any:
    return post_inbox(raw)


def acking(peer: Peer) -> Any:
    """A transport that answers as the peer would once it is up: a signed acknowledgement."""

    def send(url: str, body: bytes) -> tuple[int, bytes]:
        answers = []
        for document in json.loads(body)["batch"]:
            ack = {"id": document["id"], "hash": document["hash"], "receiver": "tj", "status": "applied"}
            answers.append(
                {"status": 200, "ack": ack, "signature": envelope.sign_document(peer.private_key, ack)}
            )
        return 200, json.dumps({"answers": answers}).encode()

    return send


def down(url: str, body: bytes) -> tuple[int, bytes]:
    raise ConnectionRefusedError("Connection refused")


def test_a_request_handed_to_a_node_that_is_down_is_delivered_when_it_returns(
    peer: Peer, scope: Scope
) -> None:
    service_request = make_request(scope.home)
    actions.request_handover(
        service_request=service_request, to_node="tj", note="职工在天津工作", acting_user=clerk()
    )
    assert service_request.status == RequestStatus.HANDED_OVER and service_request.handled_by == "tj"
    message = ExchangeMessage.objects.get(kind="services.request.handover")
    assert message.receiver == "tj" and message.body["requester_phone"] == "13912345678"
    assert message.body["uid"] == service_request.uid
    report = exchange_actions.deliver_due(post=down)
    message.refresh_from_db()
    assert report.failed == 1 and message.status == MessageStatus.PENDING and "refused" in message.last_error
    ExchangeMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert exchange_actions.deliver_due(post=acking(peer)).delivered == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.ACKED
    with pytest.raises(ValidationError, match="已转交"):
        actions.request_reply(service_request=service_request, text="x", final=True, acting_user=clerk())


def test_the_acknowledgement_and_the_answer_travel_back(peer: Peer, scope: Scope) -> None:
    service_request = make_request(scope.home)
    actions.request_handover(service_request=service_request, to_node="tj", acting_user=clerk())
    now = timezone.now().isoformat()
    ack = peer.message("services.request.acknowledged", {"uid": service_request.uid, "acknowledged_at": now})
    assert outcome(post(peer.deliver_bytes(ack)))["status"] == "applied"
    body = {
        "uid": service_request.uid,
        "answer": "已联系用人单位补发工资",
        "answered_at": now,
        "union": "天津市总工会",
    }
    assert (
        outcome(post(peer.deliver_bytes(peer.message("services.request.answered", body))))["status"]
        == "applied"
    )
    service_request.refresh_from_db()
    assert (
        service_request.status == RequestStatus.ANSWERED
        and service_request.answer == "已联系用人单位补发工资"
    )
    assert service_request.acknowledged_at is not None
    actions.request_close(service_request=service_request, satisfaction=5, acting_user=clerk())


def test_an_answer_for_a_request_not_handed_to_that_node_is_rejected(peer: Peer, scope: Scope) -> None:
    service_request = make_request(scope.home)  # not handed over
    body = {"uid": service_request.uid, "answer": "x", "answered_at": timezone.now().isoformat()}
    ack = outcome(post(peer.deliver_bytes(peer.message("services.request.answered", body))))
    assert ack["status"] == "rejected" and ack["reason"] == f"诉求 {service_request.uid} 不存在"
    service_request.refresh_from_db()
    assert service_request.status == RequestStatus.NEW


HANDED_FROM_TJ = {
    "uid": "c" * 32,
    "number": "12351-20261130-CCCCCC",
    "category": "legal_aid",
    "channel": "hotline",
    "subject": "在北京打工被拖欠工资",
    "description": "大兴区某工地拖欠三个月工资。",
    "requester_name": "赵六",
    "requester_phone": "13698765432",
    "employer_name": "某建筑公司",
    "district": "110115",
    "filed_at": "2026-11-30T09:00:00+08:00",
}


def test_a_request_handed_here_is_routed_and_answered_back(peer: Peer, scope: Scope) -> None:
    daxing = make_org("t-daxing", parent=scope.root, region="110115")
    ack = outcome(post(peer.deliver_bytes(peer.message("services.request.handover", HANDED_FROM_TJ))))
    assert ack["status"] == "applied"
    service_request = ServiceRequest.objects.get(uid="c" * 32)
    assert service_request.organization == daxing and service_request.origin_node == "tj"
    assert (
        service_request.requester_phone_masked == "136****5432"
        and service_request.category.code == "legal_aid"
    )
    actions.request_acknowledge(service_request=service_request, acting_user=clerk())
    actions.request_reply(
        service_request=service_request, text="已立案，律师将与您联系", final=True, acting_user=clerk()
    )
    kinds = list(
        ExchangeMessage.objects.filter(direction="out", receiver="tj")
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == ["services.request.acknowledged", "services.request.answered"]
    service_request.status = RequestStatus.ACKNOWLEDGED
    with pytest.raises(ValidationError, match="不能再转出"):
        actions.request_handover(service_request=service_request, to_node="tj", acting_user=clerk())
    again = outcome(post(peer.deliver_bytes(peer.message("services.request.handover", HANDED_FROM_TJ))))
    assert again["status"] == "rejected" and again["reason"] == "诉求已存在"


def test_a_handover_to_an_unknown_node_is_refused_and_nothing_is_queued(peer: Peer, scope: Scope) -> None:
    service_request = make_request(scope.home)
    with pytest.raises(ValidationError) as caught:
        actions.request_handover(service_request=service_request, to_node="sh", acting_user=clerk())
    assert caught.value.message_dict["to_node"] == ["请选择名册中的其他地区节点"]
    service_request.refresh_from_db()
    assert (
        service_request.status == RequestStatus.NEW
        and not ExchangeMessage.objects.filter(direction="out").exists()
    )

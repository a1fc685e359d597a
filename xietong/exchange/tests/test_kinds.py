"""The message-kind registry: the inbox validates a body with the kind's serializer, refuses an
invalid one with the serializer's errors in Chinese (logged and acknowledged), and hands a valid
one to the handler with the sender."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from rest_framework import serializers

from .. import kinds
from ..choices import MessageStatus
from ..models import ExchangeMessage
from ..testing import outcome, post_inbox
from .conftest import Peer


class _PingSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(min_value=1)


@pytest.fixture
def ping(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str]]:
    """A test-only kind ``test.ping`` whose handler notes what it was given."""
    received: list[tuple[Any, str]] = []
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))

    @kinds.handles("test.ping", body=_PingSerializer)
    def _ping(data: Any, sender: Any) -> None:
        received.append((dict(data), sender.node_id))

    return received


def _deliver(peer: Peer, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = post_inbox(peer.deliver_bytes(peer.message(kind, body)))
    assert answer.status_code == 200
    return outcome(answer)


def test_a_valid_body_reaches_the_handler_validated_with_the_sender(peer: Peer, ping: list[Any]) -> None:
    ack = _deliver(peer, "test.ping", {"count": "3"})
    assert ack["status"] == MessageStatus.APPLIED
    assert ping == [({"count": 3}, "tj")]


def test_an_invalid_body_is_refused_with_the_serializers_errors_in_chinese(
    peer: Peer, ping: list[Any]
) -> None:
    ack = _deliver(peer, "test.ping", {"count": 0})
    assert ack["status"] == MessageStatus.REJECTED
    assert ack["reason"].startswith("count：") and "1" in ack["reason"]
    assert ping == []
    logged = ExchangeMessage.objects.get(direction="in", kind="test.ping")
    assert logged.status == MessageStatus.REJECTED and logged.reason == ack["reason"]
    ack = _deliver(peer, "test.ping", {})
    assert ack["reason"] == "count：该字段是必填项。"


def test_an_unknown_kind_is_refused_and_named(peer: Peer) -> None:
    ack = _deliver(peer, "test.nobody", {})
    assert ack["status"] == MessageStatus.REJECTED and ack["reason"] == "本节点不处理此类消息：test.nobody"


def test_a_kind_has_one_handler(ping: list[Any]) -> None:
    with pytest.raises(ImproperlyConfigured):
        kinds.handles("test.ping", body=_PingSerializer)(lambda data, sender: None)


def test_the_wire_kinds_of_the_domain_apps_are_declared() -> None:
    assert {
        "arrears.listed", "arrears.removed", "insurance.transfer_requested", "insurance.transfer_answered",
        "insurance.transfer_refused", "insurance.transfer_completed", "certification.request",
        "certification.findings",
    } <= set(kinds.registered())  # fmt: skip


def test_the_inbox_takes_deliveries_without_a_csrf_token(peer: Peer) -> None:
    """Nodes authenticate by signature, not by session: the inbox must not ask for a CSRF cookie."""
    raw = peer.deliver_bytes(peer.message("test.nobody", {}))
    answer = Client(enforce_csrf_checks=True).post(
        reverse("exchange:inbox"), raw, content_type="application/json"
    )
    assert answer.status_code == 200

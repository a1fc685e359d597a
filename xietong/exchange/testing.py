"""Test helpers of the exchange, for its own tests and the domain apps': a peer node ("tj") whose
private key the test holds, so the test can play the peer's part against this node ("bj", the hub)
in one process."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from xietong.core import pii
from xietong.lib import crypto

from . import envelope
from .models import GENESIS_HASH, ExchangeNode


@dataclass
class Peer:
    """A node played by the test: it signs what it sends, as the real node would."""

    node: ExchangeNode
    private_key: str
    last_hash: str = GENESIS_HASH

    def message(
        self, kind: str, body: dict[str, Any], *, key: str = "", prev_hash: str | None = None
    ) -> dict[str, Any]:
        content = {
            "id": uuid.uuid4().hex,
            "sender": self.node.node_id,
            "receiver": "bj",
            "kind": kind,
            "created": timezone.now().isoformat(),
            "idempotency_key": key or uuid.uuid4().hex,
            "prev_hash": self.last_hash if prev_hash is None else prev_hash,
            "body": body,
        }
        return content

    def deliver_bytes(self, content: dict[str, Any], *, at: Any = None, advance: bool = True) -> bytes:
        digest = envelope.content_hash(content)
        raw = envelope.envelope(
            content,
            digest=digest,
            signature=envelope.sign_hash(self.private_key, digest),
            private_key=self.private_key,
            now=at or timezone.now(),
        )
        if advance:
            self.last_hash = digest
        return raw


@pytest.fixture
def node_settings(settings: Any) -> Any:
    settings.XIETONG_NODE_ID = "bj"
    settings.XIETONG_HUB_NODE_ID = "bj"
    return settings


@pytest.fixture
def peer(db: Any, node_settings: Any) -> Peer:
    """The hub's own entry and a registered peer "tj" (registered through the hub's action)."""
    from . import actions

    actions.node_register(
        node_id="bj", name="北京节点", endpoint="http://127.0.0.1:8001", public_key=pii.node_public_key(),
        region_code="110000", acting_user=None,
    )  # fmt: skip
    private, public = crypto.generate_signing_key()
    node = actions.node_register(
        node_id="tj", name="天津节点", endpoint="http://127.0.0.1:8002", public_key=public,
        region_code="120000", acting_user=None,
    )  # fmt: skip
    return Peer(node, private)


def post_inbox(raw: bytes) -> Any:
    """POST ``raw`` to this node's inbox as the peer would, then run the exchange worker's apply pass
    (ADR 016: the inbox stores and acknowledges, the worker applies): the inbox's HTTP response."""
    from django.test import Client
    from django.urls import reverse

    from . import actions

    response = Client().post(reverse("exchange:inbox"), raw, content_type="application/json")
    actions.apply_due()
    return response


def outcome(response: Any) -> dict[str, str]:
    """What became of the message a delivery stored once the worker applied it: its status
    (``applied``/``rejected``, or ``waiting``) and the reason."""
    from .models import ExchangeMessage

    message = ExchangeMessage.objects.get(direction="in", message_id=response.json()["ack"]["id"])
    return {"status": message.status, "reason": message.reason}


def receive_and_apply(raw: bytes) -> Any:
    """``actions.receive`` then the worker's apply pass, in process: the inbox's answer."""
    from . import actions

    answer = actions.receive(raw)
    actions.apply_due()
    return answer

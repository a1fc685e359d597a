"""Rotating a node's signing key (issue 15 §3, ADR 019): the hub registers a node's new key from a
request signed with the old one, messages created before the switch still verify while one signed
with the old key after it is refused, both message logs verify across the switch, and the nodes
accept the registry after the hub rotated its own key."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from xietong.core import pii
from xietong.lib import crypto

from .. import actions, envelope, selectors
from ..choices import MessageStatus
from ..envelope import Refused
from ..models import ExchangeMessage, ExchangeNode, NodeRegistry, RefusedDelivery
from ..testing import Peer, outcome, post_inbox


@pytest.fixture
def key_dir(settings: Any, tmp_path: Path) -> Any:
    """A key folder of this test's own, so that a rotation writes its key files there."""
    settings.KEY_DIR = tmp_path / "keys"
    pii.reset_caches()
    yield settings.KEY_DIR
    pii.reset_caches()


def _created(at: dt.datetime) -> str:
    return at.isoformat()


def _key_change(peer: Peer, *, since: dt.datetime, created: dt.datetime, proof_key: str = "") -> Any:
    """The peer asks the hub to register a new key from ``since``, in a message signed with its old
    key (as ``actions.node_key_rotate`` does on the peer's node); returns the new private key and the
    inbox's answer."""
    private, public = crypto.generate_signing_key()
    signed = actions._key_change_proof(
        node_id="tj", old=peer.node.public_key, new=public, valid_from=since.isoformat()
    )
    body = {
        "public_key": public,
        "valid_from": since.isoformat(),
        "proof": crypto.sign(proof_key or private, signed),
    }
    content = peer.message(actions.KEY_CHANGE_KIND, body)
    content["created"] = _created(created)
    return private, post_inbox(peer.deliver_bytes(content))


def test_the_hub_registers_a_nodes_new_key_and_keeps_the_old_one_in_the_registry(
    key_dir: Any, peer: Peer
) -> None:
    old_public = peer.node.public_key
    since = timezone.now()
    private, response = _key_change(peer, since=since, created=since - dt.timedelta(milliseconds=1))
    assert response.status_code == 200 and outcome(response)["status"] == MessageStatus.APPLIED
    node = ExchangeNode.objects.get(node_id="tj")
    assert node.public_key == crypto.public_key_of(private)
    assert node.earlier_keys == [
        {
            "public_key": old_public,
            "valid_from": node.earlier_keys[0]["valid_from"],
            "valid_until": since.isoformat(),
        }
    ]
    registry = NodeRegistry.objects.order_by("-version").first()
    assert registry is not None
    entry = next(e for e in registry.document["nodes"] if e["node_id"] == "tj")
    assert entry["public_key"] == node.public_key and entry["keys"] == node.earlier_keys
    assert envelope.verify_document(pii.node_public_key(), registry.document, registry.signature)


def test_a_key_change_without_proof_of_the_new_key_is_rejected(key_dir: Any, peer: Peer) -> None:
    since = timezone.now()
    _, response = _key_change(peer, since=since, created=since, proof_key=crypto.generate_signing_key()[0])
    assert outcome(response) == {"status": MessageStatus.REJECTED, "reason": "新签名密钥的持有证明无效"}
    assert ExchangeNode.objects.get(node_id="tj").public_key == peer.node.public_key


def test_old_key_messages_from_before_the_switch_verify_and_later_ones_are_refused(
    key_dir: Any, peer: Peer
) -> None:
    old_private = peer.private_key
    switch = timezone.now() - dt.timedelta(hours=1)
    new_private, response = _key_change(peer, since=switch, created=switch - dt.timedelta(seconds=2))
    assert outcome(response)["status"] == MessageStatus.APPLIED
    # Queued before the switch, delivered after it: still signed and stamped with the old key.
    queued = peer.message(actions.REJECTED_KIND, {"id": "x" * 32, "reason": "旧"})
    queued["created"] = _created(switch - dt.timedelta(seconds=1))
    assert post_inbox(peer.deliver_bytes(queued)).status_code == 200
    # Created an hour after the switch, signed with the old key: refused at the door.
    late = peer.message(actions.REJECTED_KIND, {"id": "y" * 32, "reason": "迟"})
    answer = post_inbox(peer.deliver_bytes(late, advance=False))
    assert answer.status_code == 403 and "消息签名无效" in answer.json()["error"]
    assert RefusedDelivery.objects.filter(claimed_sender="tj", reason__contains="签名无效").exists()
    # The same message signed with the new key goes through.
    peer.private_key = new_private
    assert post_inbox(peer.deliver_bytes(late)).status_code == 200
    checked, problems = selectors.verify_log()
    assert checked == 3 and problems == []
    assert old_private != new_private


def _hub_view(old_public: str, new_public: str, since: str) -> ExchangeNode:
    """The hub's entry of this node once it registered the new key."""
    return ExchangeNode(
        node_id="tj",
        public_key=new_public,
        earlier_keys=[{"public_key": old_public, "valid_from": None, "valid_until": since}],
    )


def test_a_node_rotating_its_key_asks_the_hub_then_signs_with_the_new_key(
    db: Any, key_dir: Any, settings: Any
) -> None:
    settings.XIETONG_NODE_ID, settings.XIETONG_HUB_NODE_ID = "tj", "bj"
    hub_private, hub_public = crypto.generate_signing_key()
    ExchangeNode.objects.create(
        node_id="bj", name="北京节点", endpoint="http://bj.test", public_key=hub_public, is_hub=True
    )
    ExchangeNode.objects.create(
        node_id="tj", name="天津节点", endpoint="http://tj.test", public_key=pii.node_public_key()
    )
    old_public = pii.node_public_key()
    actions.message_send(receiver="bj", kind="test.before", body={}, idempotency_key="before")
    key = actions.node_key_rotate(acting_user=None)
    actions.message_send(receiver="bj", kind="test.after", body={}, idempotency_key="after")
    assert pii.node_public_key() == key.public_key != old_public
    before, change, after = ExchangeMessage.objects.filter(direction="out").order_by("seq")
    assert change.kind == actions.KEY_CHANGE_KIND and change.body["public_key"] == key.public_key
    for message, signer in ((before, old_public), (change, old_public), (after, key.public_key)):
        assert crypto.verify(signer, message.hash.encode(), message.signature), message.kind
    assert selectors.verify_log() == (3, [])  # the node's own log, across the switch

    hub = _hub_view(old_public, key.public_key, change.body["valid_from"])
    checked: list[str] = []

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        answers = []
        for document in json.loads(body)["batch"]:
            created = selectors.parse_created(document["created"])
            assert created is not None
            keys = hub.keys_at(created, skew_seconds=settings.XIETONG_EXCHANGE_SKEW_SECONDS)
            envelope.check(document, public_keys=keys, receiver="bj", now=timezone.now(), skew_seconds=300)
            checked.append(document["kind"])
            ack = {
                "id": document["id"],
                "hash": document["hash"],
                "receiver": "bj",
                "status": "waiting",
                "reason": "",
            }
            answers.append({"status": 200, "ack": ack, "signature": envelope.sign_document(hub_private, ack)})
        return 200, json.dumps({"answers": answers}).encode()

    assert actions.deliver_due(post=post).delivered == 3
    assert checked == ["test.before", actions.KEY_CHANGE_KIND, "test.after"]


def test_nodes_accept_the_registry_after_the_hub_rotated_its_own_key(
    key_dir: Any, peer: Peer, settings: Any
) -> None:
    old_public = pii.node_public_key()
    key = actions.node_key_rotate(acting_user=None)
    registry = NodeRegistry.objects.order_by("-version").first()
    assert registry is not None
    hub_entry = next(e for e in registry.document["nodes"] if e["node_id"] == "bj")
    assert hub_entry["public_key"] == key.public_key and hub_entry["keys"][0]["public_key"] == old_public
    assert envelope.verify_document(key.public_key, registry.document, registry.signature)
    document, signature, handover = registry.document, registry.signature, registry.handover_signature

    # Now play 天津, which trusts the hub's old key only (its XIETONG_HUB_PUBLIC_KEY).
    settings.XIETONG_NODE_ID, settings.XIETONG_HUB_PUBLIC_KEY = "tj", old_public
    NodeRegistry.objects.all().delete()
    ExchangeNode.objects.all().delete()
    with pytest.raises(Refused, match="签名无效"):
        actions.registry_accept(document=document, signature=signature)
    assert actions.registry_accept(document=document, signature=signature, handover_signature=handover)
    assert ExchangeNode.objects.get(node_id="bj").public_key == key.public_key
    # The next version, signed with the new key alone, is trusted through the registry held.
    following = {**document, "version": document["version"] + 1}
    assert actions.registry_accept(
        document=following, signature=envelope.sign_document(key.private_key, following)
    )


def test_the_rotate_key_command_on_the_hub_publishes_the_new_key(key_dir: Any, peer: Peer) -> None:
    from io import StringIO

    from django.core.management import call_command

    old_public = pii.node_public_key()
    out = StringIO()
    call_command("node", "rotate-key", stdout=out)
    assert pii.node_public_key() != old_public and pii.node_public_key() in out.getvalue()
    assert ExchangeNode.objects.get(node_id="bj").public_key == pii.node_public_key()
    assert sorted(p.name for p in key_dir.iterdir()) == ["node-signing-2.key", "node-signing-keys.json"]

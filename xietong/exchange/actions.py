"""Every write of the exchange: the node registry, the outbox and its delivery, and the inbox, which
hands each message to the domain app that declared its kind (ARCHITECTURE.md §1, ADRs 008 and 011)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from xietong.core import audit, pii
from xietong.core.choices import AuditAction
from xietong.core.models import User
from xietong.lib import crypto

from . import blobs, envelope, kinds, selectors, transport
from .choices import (
    Direction,
    FileState,
    MessageStatus,
)
from .envelope import Refused
from .models import (
    ExchangeMessage,
    ExchangeNode,
    MessageFile,
    NodeRegistry,
    RefusedDelivery,
)

logger = logging.getLogger(__name__)

# One HTTP request of a file upload: (method, url, body, headers) → (status, body).
FileHttp = Callable[[str, str, bytes, dict[str, str]], tuple[int, bytes]]

REGISTRY_FIELDS = ("node_id", "name", "region_code", "endpoint", "public_key", "is_hub")


def _me() -> str:
    return str(settings.XIETONG_NODE_ID)


def _hub_keys() -> list[str]:
    """The hub keys this node trusts to sign the registry: the hub's own current key; elsewhere
    ``XIETONG_HUB_PUBLIC_KEY`` and the hub's key in the registry held (which follows the hub's key
    rotations, ADR 019)."""
    if selectors.is_hub():
        return [pii.node_public_key()]
    held = ExchangeNode.objects.filter(node_id=settings.XIETONG_HUB_NODE_ID).values_list(
        "public_key", flat=True
    )
    return [key for key in (str(settings.XIETONG_HUB_PUBLIC_KEY), *held) if key]


def _skew() -> int:
    return int(settings.XIETONG_EXCHANGE_SKEW_SECONDS)


# Registry --------------------------------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _registry_entry(node: ExchangeNode) -> dict[str, Any]:
    entry: dict[str, Any] = {name: getattr(node, name) for name in REGISTRY_FIELDS}
    entry.update(
        valid_from=_when(node.valid_from),
        valid_until=_when(node.valid_until),
        revoked_at=_when(node.revoked_at),
        keys=list(node.earlier_keys or []),
    )
    return entry


def _publish_registry() -> NodeRegistry:
    """Sign the hub's current node list as the next registry version."""
    last = NodeRegistry.objects.order_by("-version").first()
    version = (last.version if last else 0) + 1
    document = {
        "hub": _me(),
        "version": version,
        "issued_at": timezone.now().isoformat(),
        "nodes": [_registry_entry(node) for node in ExchangeNode.objects.order_by("node_id")],
    }
    keys = pii.node_signing_keys()
    signature = envelope.sign_document(keys[-1].private_key, document)
    # After a rotation of the hub's key the previous key signs too, so that nodes which trust only
    # the previous key learn the new one (ADR 019).
    handover = envelope.sign_document(keys[-2].private_key, document) if len(keys) > 1 else ""
    return NodeRegistry.objects.create(
        version=version, hub=_me(), document=document, signature=signature, handover_signature=handover
    )


@transaction.atomic
def node_register(
    *,
    node_id: str,
    name: str,
    endpoint: str,
    public_key: str,
    region_code: str = "",
    valid_until: dt.datetime | None = None,
    acting_user: User | None,
) -> ExchangeNode:
    """Add a node to the region group, or change its entry (hub only); publishes a new registry."""
    if not selectors.is_hub():
        raise ValidationError(f"只有枢纽节点（{settings.XIETONG_HUB_NODE_ID}）可以登记节点")
    if not endpoint.startswith(("http://", "https://")):
        raise ValidationError({"endpoint": "接入地址应以 http:// 或 https:// 开头"})
    if len(public_key) != 43:
        raise ValidationError({"public_key": "签名公钥应为 43 个字符的 base64url 文本（Ed25519）"})
    node = ExchangeNode.objects.filter(node_id=node_id).first()
    before = node.snapshot() if node else None
    node = node or ExchangeNode(node_id=node_id)
    node.name, node.endpoint, node.public_key = name, endpoint.rstrip("/"), public_key
    node.region_code, node.valid_until, node.revoked_at = region_code, valid_until, None
    node.is_hub = node_id == _me()
    node.full_clean()
    node.save()
    audit.record(
        AuditAction.UPDATE if before else AuditAction.CREATE,
        target=node,
        acting_user=acting_user,
        before=before,
        after=node.snapshot(),
    )
    _publish_registry()
    return node


@transaction.atomic
def node_revoke(*, node: ExchangeNode, acting_user: User | None) -> ExchangeNode:
    """Revoke a node's entry (hub only): no node accepts its messages once the registry reaches it."""
    if not selectors.is_hub():
        raise ValidationError("只有枢纽节点可以吊销节点")
    if node.node_id == _me():
        raise ValidationError("枢纽节点不能吊销自己")
    before = node.snapshot()
    node.revoked_at = timezone.now()
    node.save(update_fields=["revoked_at", "updated_at"])
    audit.record(
        AuditAction.REVOKE, target=node, acting_user=acting_user, before=before, after=node.snapshot()
    )
    _publish_registry()
    return node


KEY_CHANGE_KIND = "exchange.key_changed"


def _key_change_proof(*, node_id: str, old: str, new: str, valid_from: str) -> bytes:
    """What the new key signs in a key-change request: it proves the node holds the new key."""
    return f"xietong-key-change|{node_id}|{old}|{new}|{valid_from}".encode()


def _switch_entry(node: ExchangeNode, *, public_key: str, valid_from: str) -> None:
    """Make ``public_key`` the node's registered key from ``valid_from``; the key it replaces goes to
    the entry's history (``earlier_keys``) with its validity period."""
    start = node.key_since or _when(node.valid_from)
    node.earlier_keys = [
        *(node.earlier_keys or []),
        {"public_key": node.public_key, "valid_from": start, "valid_until": valid_from},
    ]
    node.public_key = public_key
    node.save(update_fields=["earlier_keys", "public_key", "updated_at"])


@transaction.atomic
def node_key_rotate(*, acting_user: User | None) -> pii.SigningKey:
    """Make a new signing key this node's current one (``xietong node rotate-key``, ADR 019).

    On the hub: its registry entry gets the new key (the old one in its history) and the next
    registry is signed with the new key and handed over by the old one. On another node: a key-change
    request signed with the old key goes to the hub first (``exchange.key_changed``), then the node
    signs with the new key; the hub registers it and publishes the registry, which the other nodes
    fetch. Messages queued before the switch keep the old key's signature and still verify."""
    old = pii.node_signing_keys()[-1]
    private, public = crypto.generate_signing_key()
    hub = ExchangeNode.objects.filter(node_id=settings.XIETONG_HUB_NODE_ID).first()
    valid_from = timezone.now()
    if selectors.is_hub():
        key = pii.node_signing_key_add(private_key=private, valid_from=valid_from)
        own = ExchangeNode.objects.select_for_update().filter(node_id=_me()).first()
        if own is not None:
            before = own.snapshot()
            _switch_entry(own, public_key=public, valid_from=valid_from.isoformat())
            audit.record(
                AuditAction.UPDATE, target=own, acting_user=acting_user, before=before, after=own.snapshot()
            )
            _publish_registry()
        return key
    if hub is None or not hub.is_trusted():
        raise ValidationError(f"本节点的名册中没有枢纽节点 {settings.XIETONG_HUB_NODE_ID}，无法登记新密钥")
    since = valid_from.isoformat()
    proof = crypto.sign(
        private, _key_change_proof(node_id=_me(), old=old.public_key, new=public, valid_from=since)
    )
    message_send(
        receiver=hub.node_id,
        kind=KEY_CHANGE_KIND,
        body={"public_key": public, "valid_from": since, "proof": proof},
        idempotency_key=f"{KEY_CHANGE_KIND}:{public}",
    )
    audit.record(
        AuditAction.UPDATE,
        target_type="exchange.exchangenode",
        acting_user=acting_user,
        detail={"node": _me(), "signing_key": public, "earlier_key": old.public_key},
    )
    # The request above is signed with the old key; everything from here on with the new one.
    key = pii.node_signing_key_add(private_key=private, valid_from=timezone.now())
    return key


@transaction.atomic
def node_key_changed(*, sender: ExchangeNode, public_key: str, valid_from: str, proof: str) -> ExchangeNode:
    """The hub registers a node's new signing key, asked in a message signed with its old key (so the
    exchange has checked it came from the node); ``proof`` shows the node holds the new key. The old
    key goes to the entry's history, valid until ``valid_from``; a new registry is published."""
    if not selectors.is_hub():
        raise ValidationError("只有枢纽节点登记节点的新签名密钥")
    node = ExchangeNode.objects.select_for_update().get(pk=sender.pk)
    if node.public_key == public_key:
        return node  # the same request again
    if len(public_key) != 43:
        raise ValidationError("签名公钥应为 43 个字符的 base64url 文本（Ed25519）")
    signed = _key_change_proof(
        node_id=node.node_id, old=node.public_key, new=public_key, valid_from=valid_from
    )
    if not crypto.verify(public_key, signed, proof):
        raise ValidationError("新签名密钥的持有证明无效")
    start = dt.datetime.fromisoformat(valid_from)
    if start.tzinfo is None or start > timezone.now() + dt.timedelta(seconds=_skew()):
        raise ValidationError("新签名密钥的启用时间不正确")
    if node.key_since and start <= dt.datetime.fromisoformat(node.key_since):
        raise ValidationError("新签名密钥的启用时间早于当前密钥")
    before = node.snapshot()
    _switch_entry(node, public_key=public_key, valid_from=start.isoformat())
    audit.record(AuditAction.UPDATE, target=node, acting_user=None, before=before, after=node.snapshot())
    _publish_registry()
    return node


@transaction.atomic
def registry_accept(
    *, document: Any, signature: str, handover_signature: str = "", acting_user: User | None = None
) -> bool:
    """Accept a registry signed by the hub if it is newer than the one held; ``False`` when it is not
    newer (nothing changes); ``Refused`` for a bad signature or a document of another hub.

    The signature is checked with a hub key this node trusts, or, after the hub rotated its key, with
    the new key the document lists for the hub when ``handover_signature`` (the hub's previous key)
    checks with a trusted one (ADR 019)."""
    if not isinstance(document, dict) or not isinstance(document.get("nodes"), list):
        raise Refused("节点名册格式不正确")
    if document.get("hub") != settings.XIETONG_HUB_NODE_ID:
        raise Refused(
            f"节点名册由 {document.get('hub')} 签发，本节点信任的枢纽是 {settings.XIETONG_HUB_NODE_ID}"
        )
    if not _registry_signed(document, signature, handover_signature):
        raise Refused("节点名册的枢纽签名无效")
    version = int(document.get("version", 0))
    current = NodeRegistry.objects.order_by("-version").first()
    if current and version <= current.version:
        return False
    listed = set()
    for entry in document["nodes"]:
        listed.add(entry["node_id"])
        node = ExchangeNode.objects.filter(node_id=entry["node_id"]).first() or ExchangeNode(
            node_id=entry["node_id"]
        )
        for name in REGISTRY_FIELDS[1:]:
            setattr(node, name, entry[name])
        for name in ("valid_from", "valid_until", "revoked_at"):
            setattr(node, name, dt.datetime.fromisoformat(entry[name]) if entry.get(name) else None)
        node.earlier_keys = list(entry.get("keys") or [])
        node.valid_from = node.valid_from or timezone.now()
        node.save()
    ExchangeNode.objects.exclude(node_id__in=listed).filter(revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    registry = NodeRegistry.objects.create(
        version=version,
        hub=document["hub"],
        document=document,
        signature=signature,
        handover_signature=handover_signature,
    )
    audit.record(AuditAction.RECEIVE, target=registry, acting_user=acting_user, detail={"version": version})
    return True


def _registry_signed(document: dict[str, Any], signature: str, handover_signature: str) -> bool:
    """Whether the hub signed ``document`` with a key trusted here, or with the key it lists for
    itself, handed over by a trusted key (``handover_signature``)."""
    trusted = _hub_keys()
    if any(envelope.verify_document(key, document, signature) for key in trusted):
        return True
    listed = next(
        (
            str(entry.get("public_key", ""))
            for entry in document["nodes"]
            if isinstance(entry, dict) and entry.get("node_id") == document.get("hub")
        ),
        "",
    )
    return bool(
        listed
        and handover_signature
        and envelope.verify_document(listed, document, signature)
        and any(envelope.verify_document(key, document, handover_signature) for key in trusted)
    )


def registry_fetch() -> bool:
    """Fetch the registry from the hub and accept it if newer (the exchange worker does this)."""
    if selectors.is_hub():
        return False
    if not settings.XIETONG_HUB_ENDPOINT:
        raise Refused("未配置枢纽节点地址 XIETONG_HUB_ENDPOINT")
    status, raw = transport.get(settings.XIETONG_HUB_ENDPOINT.rstrip("/") + "/exchange/registry/")
    if status != 200:
        raise Refused(f"枢纽节点返回 HTTP {status}")
    payload = json.loads(raw)
    return registry_accept(
        document=payload.get("document"),
        signature=str(payload.get("signature", "")),
        handover_signature=str(payload.get("handover_signature", "")),
    )


# Outbox ----------------------------------------------------------------------------------------------


def message_send(
    *,
    receiver: str,
    kind: str,
    body: dict[str, Any],
    idempotency_key: str,
    files: dict[str, Path] | None = None,
) -> ExchangeMessage:
    """Put a message for ``receiver`` in the outbox, in the caller's transaction, chained after the
    previous one to that peer. The same ``idempotency_key`` again returns the message already there.
    ``files`` are copied into the blob folder and their manifest is signed with the message."""
    with transaction.atomic():
        peer = ExchangeNode.objects.select_for_update().filter(node_id=receiver).first()
        if peer is None or not peer.is_trusted():
            raise ValidationError(f"节点 {receiver} 不在名册中或已失效，不能发送")
        existing = ExchangeMessage.objects.filter(
            direction=Direction.OUT, sender=_me(), receiver=receiver, idempotency_key=idempotency_key
        ).first()
        if existing:
            return existing
        message_id = uuid.uuid4().hex
        manifest = blobs.store_outgoing(message_id, files) if files else []
        message = ExchangeMessage(
            direction=Direction.OUT,
            seq=peer.out_seq + 1,
            message_id=message_id,
            manifest=manifest,
            sender=_me(),
            receiver=receiver,
            kind=kind,
            created=timezone.now().isoformat(),
            idempotency_key=idempotency_key,
            prev_hash=peer.out_last_hash,
            body=json.loads(json.dumps(body, default=str)),
            status=MessageStatus.PENDING,
            next_attempt_at=timezone.now(),
        )
        message.hash = envelope.content_hash(message.content())
        message.signature = envelope.sign_hash(pii.node_signing_key(), message.hash)
        message.save()
        _add_transfers(message)
        peer.out_seq, peer.out_last_hash = message.seq, message.hash
        peer.save(update_fields=["out_seq", "out_last_hash"])
    return message


def broadcast(*, kind: str, body: dict[str, Any], idempotency_key: str) -> list[ExchangeMessage]:
    """Send the same message to every trusted peer of the region group."""
    peers = selectors.trusted_peers()
    return [
        message_send(receiver=node.node_id, kind=kind, body=body, idempotency_key=idempotency_key)
        for node in peers
    ]


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    delivered: int = 0
    refused: int = 0
    failed: int = 0
    files: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2 ** min(attempts, 20), settings.XIETONG_EXCHANGE_RETRY_MAX_SECONDS))


def deliver_due(
    *,
    post: Callable[[str, bytes], tuple[int, bytes]] | None = None,
    http: FileHttp | None = None,
) -> DeliveryReport:
    """Deliver the outbox: per peer, pending messages in order, in batches of up to
    ``XIETONG_EXCHANGE_BATCH`` (and under the peer's size limit), until one fails: it is retried
    with back-off, and the later ones wait behind it so that the peer applies them in order.
    Then upload the files of the messages the peers accepted (``http``, ADR 017)."""
    post = post or transport.post
    report = DeliveryReport()
    now = timezone.now()
    receivers = (
        ExchangeMessage.objects.filter(direction=Direction.OUT, status=MessageStatus.PENDING)
        .values_list("receiver", flat=True)
        .distinct()
    )
    for receiver in list(receivers):
        peer = ExchangeNode.objects.filter(node_id=receiver).first()
        queue = ExchangeMessage.objects.filter(
            direction=Direction.OUT, status=MessageStatus.PENDING, receiver=receiver
        ).order_by("seq")
        head = queue.first()
        if peer is None or head is None or (head.next_attempt_at and head.next_attempt_at > now):
            continue
        after = 0
        while batch := list(queue.filter(seq__gt=after)[: settings.XIETONG_EXCHANGE_BATCH]):
            error, settled = _deliver_batch(batch, peer, post)
            for message in settled:
                if message.status == MessageStatus.REFUSED:
                    report.refused += 1
                else:
                    report.delivered += 1
            if error:
                report.failed += 1
                report.errors[receiver] = error
                break
            after = settled[-1].seq
    _deliver_files(http or transport.request, report)
    return report


def _deliver_batch(
    batch: list[ExchangeMessage], peer: ExchangeNode, post: Callable[[str, bytes], tuple[int, bytes]]
) -> tuple[str, list[ExchangeMessage]]:
    """One POST of as many of ``batch`` as fit; returns the first error in words (``""`` if none)
    and the messages the peer acknowledged, in order."""
    now = timezone.now()
    documents: list[dict[str, Any]] = []
    size = 20
    for message in batch:
        key = _signer_of(message)
        document = envelope.stamped(
            message.content(), digest=message.hash, signature=message.signature, private_key=key, now=now
        )
        size += len(json.dumps(document, ensure_ascii=False).encode()) + 1
        if documents and size > settings.XIETONG_EXCHANGE_MAX_BYTES:
            break
        documents.append(document)
    sent = batch[: len(documents)]
    try:
        status, raw = post(peer.endpoint + "/exchange/inbox/", crypto.canonical_json({"batch": documents}))
        answer = json.loads(raw.decode("utf-8")) if raw else {}
        if status != 200:
            raise Refused(f"HTTP {status}：{answer.get('error', '') if isinstance(answer, dict) else ''}")
        answers = answer.get("answers")
        if not isinstance(answers, list) or not answers:
            raise Refused("对方未按批量格式答复")
    except (OSError, ValueError, Refused) as exc:
        return _failed(sent[0], peer, str(exc) or exc.__class__.__name__, now), []
    settled: list[ExchangeMessage] = []
    for message, reply in zip(sent, answers, strict=False):
        error = _settle(message, peer, reply, now)
        if error:
            return _failed(message, peer, error, now), settled
        settled.append(message)
    if len(settled) < len(sent):
        return _failed(sent[len(settled)], peer, "对方未答复此消息", now), settled
    # A delivery that went through ends the failing streak (the page shows the error as past).
    ExchangeNode.objects.filter(pk=peer.pk).update(last_success_at=now, failing_since=None)
    return "", settled


def _signer_of(message: ExchangeMessage) -> str:
    """The private key that signed an outgoing message (the current one, or an earlier one for a
    message queued before a key rotation): its deliveries and files are stamped with the same key,
    which the receiver accepts for a message created before the switch (ADR 019)."""
    keys = pii.node_signing_keys()
    for key in reversed(keys):
        if crypto.verify(key.public_key, message.hash.encode(), message.signature):
            return key.private_key
    return keys[-1].private_key


def _settle(message: ExchangeMessage, peer: ExchangeNode, reply: Any, now: dt.datetime) -> str:
    """Record the peer's answer to one message; the error in words when it is not a valid ack."""
    if not isinstance(reply, dict):
        return "对方答复格式不正确"
    if reply.get("status") != 200:
        return f"HTTP {reply.get('status')}：{reply.get('error', '')}"
    ack = reply.get("ack") or {}
    if ack.get("id") != message.message_id or ack.get("hash") != message.hash:
        return "对方回执与消息不符"
    keys = peer.keys_at(now, skew_seconds=_skew())
    if not any(envelope.verify_document(key, ack, str(reply.get("signature", ""))) for key in keys):
        return "对方回执签名无效"
    message.attempts += 1
    message.finished_at = now
    message.last_error = ""
    # The peer stores a message and applies it later (``waiting``; a node not yet upgraded applies
    # it at once and answers ``applied``): either way it is delivered, and its files go next.
    if ack.get("status") in {MessageStatus.APPLIED, MessageStatus.WAITING}:
        message.status, message.reason = MessageStatus.ACKED, ""
        message.save(
            update_fields=["status", "reason", "finished_at", "attempts", "last_error", "updated_at"]
        )
    else:
        _refused_by_peer(message, str(ack.get("reason", "")))
    return ""


def _refused_by_peer(message: ExchangeMessage, reason: str) -> None:
    """A peer refused one of our messages (in its ack, or later in an ``exchange.rejected`` notice):
    the message is ``refused`` with the reason, its files are not uploaded, and the app that sent it
    hears (``kinds.on_refused``)."""
    message.status, message.reason = MessageStatus.REFUSED, reason[:2000]
    message.finished_at = message.finished_at or timezone.now()
    message.save()
    if message.manifest:
        message.transfers.exclude(state=FileState.COMPLETE).update(
            state=FileState.FAILED, last_error=message.reason
        )
    kinds.refused(message.kind, message.body, message.reason, message.receiver)


def _failed(message: ExchangeMessage, peer: ExchangeNode, error: str, now: dt.datetime) -> str:
    """Note a failed attempt on the first message not delivered, and when to try again."""
    message.attempts += 1
    message.last_error = error[:2000]
    message.next_attempt_at = now + _backoff(message.attempts)
    message.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
    return _peer_failing(peer, error, now)


def _peer_failing(peer: ExchangeNode, error: str, now: dt.datetime) -> str:
    """Note the peer's last error; ``failing_since`` keeps the streak's first failure (the operator
    reads how long the peer is down)."""
    ExchangeNode.objects.filter(pk=peer.pk).update(
        last_error=error[:2000], last_error_at=now, failing_since=Coalesce(F("failing_since"), Value(now))
    )
    return error


# Inbox -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxAnswer:
    """The HTTP answer to a delivery: a signed acknowledgement, or an error with its reason."""

    status: int
    payload: dict[str, Any]


def refuse_delivery(
    raw: bytes, reason: str, *, status: int, sender: str = "", remote_addr: str | None = None
) -> InboxAnswer:
    """Log a delivery refused at the door and answer with the reason."""
    RefusedDelivery.objects.create(
        claimed_sender=sender[:64],
        remote_addr=remote_addr,
        reason=reason,
        size=len(raw),
        excerpt=raw[:500].decode("utf-8", errors="replace"),
    )
    return InboxAnswer(status, {"error": reason})


def _ack(message: ExchangeMessage) -> InboxAnswer:
    ack = {
        "id": message.message_id,
        "hash": message.hash,
        "receiver": _me(),
        "status": message.status,
        "reason": message.reason,
    }
    return InboxAnswer(200, {"ack": ack, "signature": envelope.sign_document(pii.node_signing_key(), ack)})


def receive(raw: bytes, *, remote_addr: str | None = None) -> InboxAnswer:
    """Check a delivery and apply it exactly once; a repeated delivery gets the same acknowledgement.

    Refused at the door (logged as ``RefusedDelivery``, nothing applied): oversized or malformed
    input, an unknown or revoked sender, a bad hash or signature, a stamp outside the allowed clock
    skew, a message out of order (answered 409 so the sender retries after the missing one).
    A well-formed message whose content this node cannot apply is accepted into the log as
    ``rejected`` with the reason, and the sender is told.
    """
    try:
        documents, batch = envelope.parse(raw, max_bytes=settings.XIETONG_EXCHANGE_MAX_BYTES)
    except Refused as exc:
        return refuse_delivery(raw[:2000], str(exc), status=400, remote_addr=remote_addr)
    if not batch:
        return _receive_one(documents[0], raw, remote_addr=remote_addr)
    answers = []
    for document in documents:
        answer = _receive_one(
            document, json.dumps(document, ensure_ascii=False).encode(), remote_addr=remote_addr
        )
        answers.append({"status": answer.status, **answer.payload})
        if answer.status != 200:
            break  # the rest would be out of order: the sender sends them again after this one
    return InboxAnswer(200, {"answers": answers})


def _receive_one(document: Any, raw: bytes, *, remote_addr: str | None) -> InboxAnswer:
    """Check one message of a delivery and store it, to be applied by the worker (see ``receive``)."""
    try:
        document = envelope.validate(document)
    except Refused as exc:
        return refuse_delivery(raw[:2000], str(exc), status=400, remote_addr=remote_addr)
    sender = document["sender"]
    peer = ExchangeNode.objects.filter(node_id=sender).first()
    if peer is None:
        return refuse_delivery(
            raw, f"发送节点 {sender} 不在节点名册中", status=403, sender=sender, remote_addr=remote_addr
        )
    if not peer.is_trusted():
        return refuse_delivery(
            raw,
            f"发送节点 {sender} 已被吊销或不在有效期内",
            status=403,
            sender=sender,
            remote_addr=remote_addr,
        )
    created = selectors.parse_created(document["created"])
    if created is None:
        return refuse_delivery(
            raw, "消息字段 created 格式不正确", status=400, sender=sender, remote_addr=remote_addr
        )
    try:
        incoming = envelope.check(
            document,
            public_keys=peer.keys_at(created, skew_seconds=_skew()),
            receiver=_me(),
            now=timezone.now(),
            skew_seconds=settings.XIETONG_EXCHANGE_SKEW_SECONDS,
        )
    except Refused as exc:
        return refuse_delivery(raw, str(exc), status=403, sender=sender, remote_addr=remote_addr)
    content = incoming.content
    with transaction.atomic():
        peer = ExchangeNode.objects.select_for_update().get(pk=peer.pk)
        seen = ExchangeMessage.objects.filter(direction=Direction.IN, message_id=content["id"]).first()
        if seen is not None:
            if seen.hash == incoming.digest and seen.sender == sender:
                return _ack(seen)  # a repeated delivery: same answer, nothing applied again
            return refuse_delivery(
                raw, "消息编号已用于另一条消息（重放）", status=409, sender=sender, remote_addr=remote_addr
            )
        if content["prev_hash"] != peer.in_last_hash:
            return refuse_delivery(
                raw,
                "消息顺序不符：前一条消息尚未收到，请按顺序重发",
                status=409,
                sender=sender,
                remote_addr=remote_addr,
            )
        message = ExchangeMessage(
            direction=Direction.IN,
            seq=peer.in_seq + 1,
            message_id=content["id"],
            sender=sender,
            receiver=_me(),
            kind=content["kind"],
            created=content["created"],
            idempotency_key=content["idempotency_key"],
            prev_hash=content["prev_hash"],
            hash=incoming.digest,
            signature=incoming.signature,
            body=content["body"],
            manifest=content.get("files", []),
            status=MessageStatus.WAITING,
        )
        if message.manifest:
            _check_manifest(message)
        message.save()
        _add_transfers(message)
        peer.in_seq, peer.in_last_hash = message.seq, message.hash
        peer.save(update_fields=["in_seq", "in_last_hash"])
    return _ack(message)


def _apply(message: ExchangeMessage, peer: ExchangeNode, files: dict[str, Path] | None = None) -> None:
    """Hand an incoming message to the app that declared its kind; ``rejected`` with the reason
    when it cannot be applied (the handler's changes are then rolled back)."""
    message.status, message.reason = MessageStatus.APPLIED, ""
    try:
        with transaction.atomic():
            kinds.apply(message.kind, message.body, peer, files)
    except kinds.UnknownKind:
        message.status, message.reason = MessageStatus.REJECTED, f"本节点不处理此类消息：{message.kind}"
    except (ValidationError, Refused, KeyError, TypeError, ValueError) as exc:
        message.status, message.reason = MessageStatus.REJECTED, _reason(exc)
        logger.info(
            "message %s (%s) from %s rejected: %s",
            message.message_id,
            message.kind,
            message.sender,
            message.reason,
        )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    if isinstance(exc, KeyError):
        return f"消息内容缺少字段 {exc}"
    return str(exc) or exc.__class__.__name__


# Files (ADR 017) -------------------------------------------------------------------------------------

FILE_HEADERS = ("sender", "offset", "sha256", "sent-at", "signature")


def _add_transfers(message: ExchangeMessage) -> None:
    """One ``MessageFile`` per manifest entry, to follow each file's transfer."""
    MessageFile.objects.bulk_create(
        [
            MessageFile(message=message, name=entry["name"], size=entry["size"], sha256=entry["sha256"])
            for entry in message.manifest
        ]
    )


def _check_manifest(message: ExchangeMessage) -> None:
    """An incoming message with files waits for them; one naming a file over this node's limit, of an
    unknown kind or of a kind that takes no files is rejected at once (no upload is accepted for it)."""
    limit = blobs.max_file_bytes()
    too_big = [entry["name"] for entry in message.manifest if entry["size"] > limit]
    spec = kinds.registered().get(message.kind)
    if too_big:
        message.status = MessageStatus.REJECTED
        message.reason = f"文件超过本节点的上限 {limit} 字节：{'、'.join(too_big)}"
    elif spec is None:
        message.status, message.reason = MessageStatus.REJECTED, f"本节点不处理此类消息：{message.kind}"
    elif not spec.files:
        message.status, message.reason = MessageStatus.REJECTED, f"此类消息不接收文件：{message.kind}"
    if message.status == MessageStatus.REJECTED:
        message.finished_at = timezone.now()


def file_signature(
    private_key: str, *, method: str, message_id: str, name: str, offset: int, digest: str, sent_at: str
) -> str:
    """The signature of one upload request: which message, file, offset and chunk (its SHA-256)."""
    return crypto.sign(private_key, _file_signed(method, message_id, name, offset, digest, sent_at))


def _file_signed(method: str, message_id: str, name: str, offset: int, digest: str, sent_at: str) -> bytes:
    """What the signature of an upload request covers."""
    return f"{method}|{message_id}|{name}|{offset}|{digest}|{sent_at}".encode()


def _file_headers(method: str, transfer: MessageFile, offset: int, data: bytes) -> dict[str, str]:
    sent_at = timezone.now().isoformat()
    digest = hashlib.sha256(data).hexdigest()
    signature = file_signature(
        _signer_of(transfer.message),
        method=method,
        message_id=transfer.message.message_id,
        name=transfer.name,
        offset=offset,
        digest=digest,
        sent_at=sent_at,
    )
    values = (_me(), str(offset), digest, sent_at, signature)
    return {f"X-Xietong-{header.title()}": value for header, value in zip(FILE_HEADERS, values, strict=True)}


class _FileRefused(Exception):
    """The peer refused an upload request; ``received`` is what it says it holds."""

    def __init__(self, reason: str, received: int) -> None:
        super().__init__(reason)
        self.received = received


def _file_call(
    http: FileHttp, method: str, transfer: MessageFile, peer: ExchangeNode, offset: int, data: bytes
) -> dict[str, Any]:
    """One request of an upload; the peer's answer, or ``_FileRefused`` with its reason."""
    url = f"{peer.endpoint}/exchange/files/{transfer.message.message_id}/{transfer.name}/"
    status, raw = http(method, url, data, _file_headers(method, transfer, offset, data))
    answer = json.loads(raw.decode("utf-8")) if raw else {}
    if not isinstance(answer, dict):
        raise ValueError("对方答复格式不正确")
    if status != 200:
        raise _FileRefused(f"HTTP {status}：{answer.get('error', '')}", int(answer.get("received", 0)))
    return answer


def _upload(transfer: MessageFile, peer: ExchangeNode, http: FileHttp) -> None:
    """Upload one file from where the peer stands (it says how many bytes it holds), chunk by chunk,
    recording the progress after each; ``_FileRefused``/``OSError``/``ValueError`` on failure."""
    answer = _file_call(http, "GET", transfer, peer, -1, b"")
    size, chunk = transfer.size, blobs.chunk_bytes()
    path = blobs.file_path(transfer.message, transfer.name)
    while not answer.get("complete"):
        held = int(answer.get("received", 0))
        with path.open("rb") as handle:
            handle.seek(held)
            data = handle.read(chunk)
        if not data and held < size:  # (an empty file is sent as one empty chunk)
            raise _FileRefused(f"本地文件比清单短：{size} 字节中只有 {held} 字节", held)
        answer = _file_call(http, "POST", transfer, peer, held, data)
        transfer.received = int(answer.get("received", 0))
        transfer.save(update_fields=["received", "updated_at"])
    transfer.state, transfer.received, transfer.completed_at = FileState.COMPLETE, size, timezone.now()
    transfer.last_error, transfer.next_attempt_at = "", None
    transfer.save(
        update_fields=["state", "received", "completed_at", "last_error", "next_attempt_at", "updated_at"]
    )


def _deliver_files(http: FileHttp, report: DeliveryReport) -> None:
    """Upload the pending files of the messages the peers accepted, in message order per peer; a
    peer that fails is tried again after back-off. A refused file is started again, up to
    ``XIETONG_EXCHANGE_FILE_ATTEMPTS`` times, then its message is marked failed with the reason."""
    now = timezone.now()
    due = (
        MessageFile.objects.filter(
            message__direction=Direction.OUT, message__status=MessageStatus.ACKED, state=FileState.PENDING
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .select_related("message")
        .order_by("message__seq", "id")
    )
    due_list = list(due)
    if not due_list:
        return
    peers = {node.node_id: node for node in ExchangeNode.objects.all()}
    failing: set[str] = set()
    for transfer in due_list:
        receiver = transfer.message.receiver
        peer = peers.get(receiver)
        if peer is None or receiver in failing:
            continue
        try:
            _upload(transfer, peer, http)
            report.files += 1
            ExchangeNode.objects.filter(pk=peer.pk).update(last_success_at=timezone.now(), failing_since=None)
        except _FileRefused as exc:
            failing.add(receiver)
            report.failed += 1
            report.errors[receiver] = _file_refused(transfer, str(exc), exc.received)
        except (OSError, ValueError) as exc:
            failing.add(receiver)
            report.failed += 1
            error = f"文件 {transfer.name}：{exc}"
            transfer.last_error = error[:2000]
            transfer.next_attempt_at = now + _backoff(transfer.attempts + 1)
            transfer.save(update_fields=["last_error", "next_attempt_at", "updated_at"])
            report.errors[receiver] = _peer_failing(peer, error, now)


def _file_refused(transfer: MessageFile, reason: str, received: int) -> str:
    """Count a refusal of a file; past the bound, the file and its message fail with the reason."""
    now = timezone.now()
    error = f"文件 {transfer.name} 被拒收：{reason}"
    transfer.attempts += 1
    transfer.received = received
    transfer.last_error = error[:2000]
    transfer.next_attempt_at = now + _backoff(transfer.attempts)
    if transfer.attempts >= settings.XIETONG_EXCHANGE_FILE_ATTEMPTS:
        transfer.state = FileState.FAILED
        message = transfer.message
        message.status, message.reason, message.finished_at = MessageStatus.FAILED, error[:2000], now
        message.save(update_fields=["status", "reason", "finished_at", "updated_at"])
    transfer.save()
    return error


def _refuse_file(
    reason: str, *, status: int, sender: str, remote_addr: str | None, where: str, **extra: Any
) -> InboxAnswer:
    """Log an upload request refused (``RefusedDelivery``) and answer with the reason."""
    RefusedDelivery.objects.create(
        claimed_sender=sender[:64], remote_addr=remote_addr, reason=reason, excerpt=where[:500]
    )
    return InboxAnswer(status, {"error": reason, **extra})


def file_receive(
    *,
    method: str,
    message_id: str,
    name: str,
    headers: dict[str, str],
    data: bytes,
    remote_addr: str | None = None,
) -> InboxAnswer:
    """Answer one upload request of a peer: ``GET`` says how many bytes of the file are held,
    ``POST`` writes one chunk at its offset. The request is signed by the message's sender. The part
    is checked against the signed manifest once its size is reached, then renamed; once the last file
    of a message has arrived the exchange worker applies the message (``apply_due``). Every refusal
    is logged with its reason; a refusal that spoils the part deletes it and tells the sender to
    start again (``restart``)."""
    sender, offset_text = headers.get("sender", ""), headers.get("offset", "")
    where = f"{message_id}/{name} @ {offset_text}"

    def refuse(reason: str, status: int, **extra: Any) -> InboxAnswer:
        return _refuse_file(
            reason, status=status, sender=sender, remote_addr=remote_addr, where=where, **extra
        )

    message = ExchangeMessage.objects.filter(direction=Direction.IN, message_id=message_id).first()
    if message is None:
        return refuse(f"未知消息：{message_id[:40]}", 404)
    peer = ExchangeNode.objects.filter(node_id=sender).first()
    if peer is None or not peer.is_trusted() or message.sender != sender:
        return refuse(f"发送节点 {sender[:40]} 不是此消息的发送方或不受信任", 403)
    try:
        offset = int(offset_text)
        sent_at = dt.datetime.fromisoformat(headers.get("sent-at", ""))
        signed = _file_signed(
            method, message_id, name, offset, headers.get("sha256", ""), headers.get("sent-at", "")
        )
        created = selectors.parse_created(message.created) or timezone.now()
        keys = peer.keys_at(created, skew_seconds=settings.XIETONG_EXCHANGE_SKEW_SECONDS)
        if not any(crypto.verify(key, signed, headers.get("signature", "")) for key in keys):
            raise ValueError
    except (TypeError, ValueError):
        return refuse("上传请求的签名无效", 403)
    if (
        sent_at.tzinfo is None
        or abs((timezone.now() - sent_at).total_seconds()) > settings.XIETONG_EXCHANGE_SKEW_SECONDS
    ):
        return refuse("上传请求的时间超出允许的时钟偏差（重放或时钟不准）", 403)
    with transaction.atomic():
        transfer = MessageFile.objects.select_for_update().filter(message=message, name=name).first()
        if transfer is None:
            return refuse(f"文件 {name[:100]} 不在消息清单中", 404)
        if transfer.state == FileState.COMPLETE:
            if method == "GET":
                return InboxAnswer(200, {"received": transfer.size, "complete": True})
            return refuse(f"文件 {name} 已完整收到，不再重写", 200, received=transfer.size, complete=True)
        if message.status != MessageStatus.WAITING:
            blobs.discard_part(message, name)
            return refuse(f"消息已是“{message.get_status_display()}”，不再接收文件", 409)
        if _recovered(transfer):
            answer = InboxAnswer(200, {"received": transfer.size, "complete": True})
        elif method == "GET":
            return InboxAnswer(200, {"received": blobs.held(message, name), "complete": False})
        else:
            held = blobs.held(message, name)
            answer = _write_chunk(transfer, offset, data, held, headers.get("sha256", ""), refuse)
    return answer


def _recovered(transfer: MessageFile) -> bool:
    """A file renamed into place by a node that stopped before it recorded the completion: complete
    it now if it matches the manifest (else delete it, and the sender starts it again)."""
    path = blobs.file_path(transfer.message, transfer.name)
    if not path.exists():
        return False
    if blobs.sha256_of(path) != transfer.sha256:
        path.unlink()
        return False
    transfer.state, transfer.received = FileState.COMPLETE, transfer.size
    transfer.completed_at, transfer.last_error = timezone.now(), ""
    transfer.save()
    return True


def _write_chunk(
    transfer: MessageFile,
    offset: int,
    data: bytes,
    held: int,
    digest: str,
    refuse: Callable[..., InboxAnswer],
) -> InboxAnswer:
    """Write one checked chunk into the part; complete the file when its size is reached."""
    message, name = transfer.message, transfer.name

    def fail(reason: str, status: int, received: int, **extra: Any) -> InboxAnswer:
        transfer.received, transfer.last_error = received, reason
        transfer.save(update_fields=["received", "last_error", "updated_at"])
        return refuse(reason, status, received=received, **extra)

    def restart(reason: str, status: int) -> InboxAnswer:
        blobs.discard_part(message, name)
        return fail(reason, status, 0, restart=True)

    if hashlib.sha256(data).hexdigest() != digest:
        return fail("分块内容与签名的摘要不符", 400, held)
    if offset > held:
        return fail(f"偏移 {offset} 超出已收到的 {held} 字节", 409, held)
    if offset + len(data) > transfer.size:
        return restart(f"文件 {name} 超过清单声明的 {transfer.size} 字节，已删除，请重传", 409)
    try:
        blobs.write_chunk(blobs.part_path(message, name), offset, data)
    except OSError as exc:
        logger.error("file %s/%s could not be written: %s", message.message_id, name, exc)
        return restart(f"无法写入文件 {name}：{blobs.disk_error(exc)}；已删除未完成的部分", 507)
    received = offset + len(data)
    if received == transfer.size:
        if blobs.sha256_of(blobs.part_path(message, name)) != transfer.sha256:
            return restart(f"文件 {name} 的 SHA-256 与清单不符，已删除，请重传", 409)
        os.replace(blobs.part_path(message, name), blobs.file_path(message, name))
        blobs.file_path(message, name).chmod(0o440)  # handlers read it, nobody rewrites it
        transfer.state, transfer.completed_at = FileState.COMPLETE, timezone.now()
    transfer.received, transfer.last_error = received, ""
    transfer.save()
    return InboxAnswer(200, {"received": received, "complete": transfer.state == FileState.COMPLETE})


@dataclass
class ApplyReport:
    """What one pass of ``apply_due`` did."""

    applied: int = 0
    rejected: int = 0
    failed: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def apply_due(*, now: dt.datetime | None = None) -> ApplyReport:
    """Apply the stored incoming messages (the exchange worker's second half, ADR 016): per sender in
    the order sent, each in its own transaction, a message with files once they have all arrived
    (``blobs.files_ready``). A content error rejects the message and tells its sender
    (``exchange.rejected``); any other failure (the database, a bug) leaves it waiting with the error
    and a back-off, and holds back that sender's later messages only."""
    now = now or timezone.now()
    report = ApplyReport()
    waiting = ExchangeMessage.objects.filter(direction=Direction.IN, status=MessageStatus.WAITING)
    for sender in list(waiting.values_list("sender", flat=True).distinct()):
        for pk in waiting.filter(sender=sender).order_by("seq").values_list("pk", flat=True):
            outcome = _apply_stored(pk, now)
            if outcome is None:
                break  # not due yet, its files not all here, or failed: the later ones wait behind
            if isinstance(outcome, str):
                report.failed += 1
                report.errors[sender] = outcome
                break
            if outcome.status == MessageStatus.REJECTED:
                report.rejected += 1
            else:
                report.applied += 1
    return report


def _apply_stored(pk: int, now: dt.datetime) -> ExchangeMessage | str | None:
    """Apply one stored message: the message once applied or rejected; ``None`` when it must wait
    (back-off, files); the error in words when applying failed for a reason other than its content."""
    try:
        with transaction.atomic():
            message = ExchangeMessage.objects.select_for_update().get(pk=pk)
            if message.status != MessageStatus.WAITING:
                return message  # another worker got there first
            if (message.next_attempt_at and message.next_attempt_at > now) or not blobs.files_ready(message):
                return None
            peer = ExchangeNode.objects.get(node_id=message.sender)
            _apply(message, peer, blobs.message_files(message) if message.manifest else None)
            message.attempts += 1
            message.finished_at, message.last_error, message.next_attempt_at = timezone.now(), "", None
            message.save()
            if message.status == MessageStatus.REJECTED:
                _tell_sender(message)
    except Exception as exc:
        logger.exception("applying message %s failed", pk)
        error = f"{exc.__class__.__name__}：{exc}"[:2000]
        attempts = ExchangeMessage.objects.filter(pk=pk).values_list("attempts", flat=True).first() or 0
        ExchangeMessage.objects.filter(pk=pk).update(
            attempts=attempts + 1, last_error=error, next_attempt_at=now + _backoff(attempts + 1)
        )
        return error
    if message.status == MessageStatus.REJECTED and message.manifest:
        blobs.prune(message)
    return message


REJECTED_KIND = "exchange.rejected"


def _tell_sender(message: ExchangeMessage) -> None:
    """Send the sender of a rejected message the reason (a notice is never answered by a notice)."""
    peer = ExchangeNode.objects.filter(node_id=message.sender).first()
    if message.kind == REJECTED_KIND or peer is None or not peer.is_trusted():
        return
    message_send(
        receiver=message.sender,
        kind=REJECTED_KIND,
        body={"id": message.message_id, "kind": message.kind, "reason": message.reason},
        idempotency_key=f"{REJECTED_KIND}:{message.message_id}",
    )


def rejection_received(*, message_id: str, reason: str, sender: ExchangeNode) -> ExchangeMessage:
    """A peer's notice that it rejected one of our messages when applying it: the message becomes
    ``refused`` with the reason (``_refused_by_peer``); a notice about a message we did not send to
    that peer is a content error."""
    message = (
        ExchangeMessage.objects.select_for_update()
        .filter(direction=Direction.OUT, message_id=message_id, receiver=sender.node_id)
        .first()
    )
    if message is None:
        raise ValidationError(f"本节点没有发给 {sender.node_id} 的消息 {message_id}")
    if message.status != MessageStatus.REFUSED:
        _refused_by_peer(message, reason)
    return message


def files_expire(*, now: dt.datetime | None = None) -> int:
    """Reject the incoming messages whose files have not all arrived within
    ``XIETONG_EXCHANGE_FILE_WAIT_HOURS``, with the missing files as reason (logged as refused), and
    remove what arrived of them; the number rejected. Then sweep the blob folder of what no
    transfer will finish (``blobs.sweep``). The exchange worker runs this on each pass."""
    now = now or timezone.now()
    limit = now - dt.timedelta(hours=settings.XIETONG_EXCHANGE_FILE_WAIT_HOURS)
    waiting = ExchangeMessage.objects.filter(
        direction=Direction.IN, status=MessageStatus.WAITING, created_at__lt=limit
    )
    count = 0
    for message in waiting:
        with transaction.atomic():
            missing = list(message.transfers.exclude(state=FileState.COMPLETE).values_list("name", flat=True))
            hours = settings.XIETONG_EXCHANGE_FILE_WAIT_HOURS
            reason = f"文件在 {hours:g} 小时内未全部到达：{'、'.join(missing)}"
            message.status, message.reason, message.finished_at = MessageStatus.REJECTED, reason, now
            message.save(update_fields=["status", "reason", "finished_at", "updated_at"])
            message.transfers.exclude(state=FileState.COMPLETE).update(
                state=FileState.FAILED, last_error=reason
            )
            RefusedDelivery.objects.create(
                claimed_sender=message.sender, reason=reason, excerpt=message.message_id
            )
        blobs.prune(message)
        count += 1
    blobs.sweep()
    return count


# Retention (issue 13 §5) -----------------------------------------------------------------------------

# A message in one of these states is done with: nothing will read its body or files again.
FINISHED = (MessageStatus.APPLIED, MessageStatus.ACKED, MessageStatus.REFUSED, MessageStatus.REJECTED)
PRUNE_BATCH = 500


def messages_prune(*, now: dt.datetime | None = None, days: float | None = None) -> int:
    """Clear the body of every message (both directions) finished more than ``days`` ago (default
    ``XIETONG_EXCHANGE_RETENTION_DAYS``) and delete its files from the blob folder; the hash, chain
    link, signature, manifest, ids, kind and dates stay, so ``verify`` still proves the chain. A
    message whose files are still being uploaded is kept. Returns the number pruned; audited once."""
    now = now or timezone.now()
    days = settings.XIETONG_EXCHANGE_RETENTION_DAYS if days is None else days
    # Only a sent message goes on moving once finished: its files are uploaded after the ack.
    uploading = MessageFile.objects.filter(message=OuterRef("pk"), state=FileState.PENDING)
    due = (
        ExchangeMessage.objects.filter(
            status__in=FINISHED,
            finished_at__lt=now - dt.timedelta(days=days),
            pruned_at__isnull=True,
        )
        .exclude(Q(direction=Direction.OUT) & Exists(uploading))
        .order_by("id")
    )
    pruned = 0
    while batch := list(due.only("id", "direction", "message_id")[:PRUNE_BATCH]):
        with transaction.atomic():
            ExchangeMessage.objects.filter(pk__in=[message.pk for message in batch]).update(
                body={}, pruned_at=now, updated_at=now
            )
        # The files go after the commit: a file left by a crash here is swept, never a body without it.
        for message in batch:
            blobs.prune(message)
        pruned += len(batch)
    if pruned:
        audit.record(
            AuditAction.DELETE,
            target_type="exchange.exchangemessage",
            acting_user=None,
            detail={"pruned": pruned, "retention_days": days},
        )
    return pruned

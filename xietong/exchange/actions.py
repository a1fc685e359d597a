"""Every write of the exchange: the node registry, the outbox and its delivery, the inbox, and the
wage-arrears blacklist that rides on them (ARCHITECTURE.md §1, ADR 008)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone

from xietong.core import audit, pii
from xietong.core.actions import job_finish
from xietong.core.choices import AuditAction, ImportStatus
from xietong.core.models import Organization
from xietong.core.workflows import move_audited
from xietong.lib import creditcode, crypto, idnumber, workdays
from xietong.lib.names import to_simplified
from xietong.matching.columns import unknown_columns

from . import encodings, envelope, kinds, selectors, transport
from .choices import (
    BENEFIT_NAMES,
    AssistanceStatus,
    Direction,
    FindingKind,
    FindingStatus,
    ListingStatus,
    MessageStatus,
    RosterKind,
    RunStatus,
    Scheme,
    TransferSide,
    TransferStatus,
)
from .envelope import Refused
from .models import (
    ArrearsListing,
    BenefitRoster,
    CertificationAssistance,
    CertificationFinding,
    CertificationRequest,
    EligibilityCheck,
    ExchangeMessage,
    ExchangeNode,
    FindingDismissal,
    InsuranceTransfer,
    NodeRegistry,
    RefusedDelivery,
    RosterEntry,
)

logger = logging.getLogger(__name__)

REGISTRY_FIELDS = ("node_id", "name", "region_code", "endpoint", "public_key", "is_hub")


def _me() -> str:
    return str(settings.XIETONG_NODE_ID)


def _hub_public_key() -> str:
    return pii.node_public_key() if selectors.is_hub() else str(settings.XIETONG_HUB_PUBLIC_KEY)


# Registry --------------------------------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _registry_entry(node: ExchangeNode) -> dict[str, Any]:
    entry: dict[str, Any] = {name: getattr(node, name) for name in REGISTRY_FIELDS}
    entry.update(
        valid_from=_when(node.valid_from),
        valid_until=_when(node.valid_until),
        revoked_at=_when(node.revoked_at),
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
    signature = envelope.sign_document(pii.node_signing_key(), document)
    return NodeRegistry.objects.create(version=version, hub=_me(), document=document, signature=signature)


@transaction.atomic
def node_register(
    *,
    node_id: str,
    name: str,
    endpoint: str,
    public_key: str,
    region_code: str = "",
    valid_until: dt.datetime | None = None,
    acting_user: Any,
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
def node_revoke(*, node: ExchangeNode, acting_user: Any) -> ExchangeNode:
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


@transaction.atomic
def registry_accept(*, document: Any, signature: str, acting_user: Any = None) -> bool:
    """Accept a registry signed by the hub if it is newer than the one held; ``False`` when it is not
    newer (nothing changes); ``Refused`` for a bad signature or a document of another hub."""
    if not isinstance(document, dict) or not isinstance(document.get("nodes"), list):
        raise Refused("节点名册格式不正确")
    if document.get("hub") != settings.XIETONG_HUB_NODE_ID:
        raise Refused(
            f"节点名册由 {document.get('hub')} 签发，本节点信任的枢纽是 {settings.XIETONG_HUB_NODE_ID}"
        )
    if not envelope.verify_document(_hub_public_key(), document, signature):
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
        node.valid_from = node.valid_from or timezone.now()
        node.save()
    ExchangeNode.objects.exclude(node_id__in=listed).filter(revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    registry = NodeRegistry.objects.create(
        version=version, hub=document["hub"], document=document, signature=signature
    )
    audit.record(AuditAction.RECEIVE, target=registry, acting_user=acting_user, detail={"version": version})
    return True


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
    return registry_accept(document=payload.get("document"), signature=str(payload.get("signature", "")))


# Outbox ----------------------------------------------------------------------------------------------


def message_send(*, receiver: str, kind: str, body: dict[str, Any], idempotency_key: str) -> ExchangeMessage:
    """Put a message for ``receiver`` in the outbox, in the caller's transaction, chained after the
    previous one to that peer. The same ``idempotency_key`` again returns the message already there."""
    with transaction.atomic():
        peer = ExchangeNode.objects.select_for_update().filter(node_id=receiver).first()
        if peer is None or not peer.is_trusted():
            raise ValidationError(f"节点 {receiver} 不在名册中或已失效，不能发送")
        existing = ExchangeMessage.objects.filter(
            direction=Direction.OUT, sender=_me(), receiver=receiver, idempotency_key=idempotency_key
        ).first()
        if existing:
            return existing
        message = ExchangeMessage(
            direction=Direction.OUT,
            seq=peer.out_seq + 1,
            message_id=uuid.uuid4().hex,
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
    errors: dict[str, str] = field(default_factory=dict)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2 ** min(attempts, 20), settings.XIETONG_EXCHANGE_RETRY_MAX_SECONDS))


def deliver_due(*, post: Callable[[str, bytes], tuple[int, bytes]] | None = None) -> DeliveryReport:
    """Deliver the outbox: per peer, pending messages in order, in batches of up to
    ``XIETONG_EXCHANGE_BATCH`` (and under the peer's size limit), until one fails: it is retried
    with back-off, and the later ones wait behind it so that the peer applies them in order."""
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
    return report


def _deliver_batch(
    batch: list[ExchangeMessage], peer: ExchangeNode, post: Callable[[str, bytes], tuple[int, bytes]]
) -> tuple[str, list[ExchangeMessage]]:
    """One POST of as many of ``batch`` as fit; returns the first error in words (``""`` if none)
    and the messages the peer acknowledged, in order."""
    now = timezone.now()
    key = pii.node_signing_key()
    documents: list[dict[str, Any]] = []
    size = 20
    for message in batch:
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
    ExchangeNode.objects.filter(pk=peer.pk).update(last_success_at=now)
    return "", settled


def _settle(message: ExchangeMessage, peer: ExchangeNode, reply: Any, now: dt.datetime) -> str:
    """Record the peer's answer to one message; the error in words when it is not a valid ack."""
    if not isinstance(reply, dict):
        return "对方答复格式不正确"
    if reply.get("status") != 200:
        return f"HTTP {reply.get('status')}：{reply.get('error', '')}"
    ack = reply.get("ack") or {}
    if ack.get("id") != message.message_id or ack.get("hash") != message.hash:
        return "对方回执与消息不符"
    if not envelope.verify_document(peer.public_key, ack, str(reply.get("signature", ""))):
        return "对方回执签名无效"
    message.attempts += 1
    message.status = (
        MessageStatus.ACKED if ack.get("status") == MessageStatus.APPLIED else MessageStatus.REFUSED
    )
    message.reason = str(ack.get("reason", ""))[:2000]
    message.finished_at = now
    message.last_error = ""
    message.save(update_fields=["status", "reason", "finished_at", "attempts", "last_error", "updated_at"])
    return ""


def _failed(message: ExchangeMessage, peer: ExchangeNode, error: str, now: dt.datetime) -> str:
    """Note a failed attempt on the first message not delivered, and when to try again."""
    message.attempts += 1
    message.last_error = error[:2000]
    message.next_attempt_at = now + _backoff(message.attempts)
    message.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
    ExchangeNode.objects.filter(pk=peer.pk).update(last_error=error[:2000], last_error_at=now)
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
    """Check one message of a delivery and apply it once (see ``receive``)."""
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
    try:
        incoming = envelope.check(
            document,
            public_key=peer.public_key,
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
            status=MessageStatus.APPLIED,
            finished_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                kinds.apply(content["kind"], content["body"], peer)
        except kinds.UnknownKind:
            message.status, message.reason = (
                MessageStatus.REJECTED,
                f"本节点不处理此类消息：{content['kind']}",
            )
        except (ValidationError, Refused, KeyError, TypeError, ValueError) as exc:
            message.status, message.reason = MessageStatus.REJECTED, _reason(exc)
            logger.info(
                "message %s (%s) from %s rejected: %s",
                message.message_id,
                message.kind,
                sender,
                message.reason,
            )
        message.save()
        peer.in_seq, peer.in_last_hash = message.seq, message.hash
        peer.save(update_fields=["in_seq", "in_last_hash"])
    return _ack(message)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    if isinstance(exc, KeyError):
        return f"消息内容缺少字段 {exc}"
    return str(exc) or exc.__class__.__name__


# Wage-arrears blacklist ------------------------------------------------------------------------------


def _listing_body(listing: ArrearsListing) -> dict[str, Any]:
    return {
        "uid": listing.uid,
        "origin_node": listing.origin_node,
        "authority": listing.authority,
        "credit_code": listing.credit_code,
        "employer_name": listing.employer_name,
        "amount_owed": str(listing.amount_owed),
        "workers_affected": listing.workers_affected,
        "decision_no": listing.decision_no,
        "listed_on": listing.listed_on.isoformat(),
        "expires_on": listing.expires_on.isoformat() if listing.expires_on else None,
        "status": listing.status,
        "removed_on": listing.removed_on.isoformat() if listing.removed_on else None,
        "removal_reason": listing.removal_reason,
    }


def _clean_listing(listing: ArrearsListing) -> None:
    """Normalise and check a listing's fields; ``ValidationError`` per field, in Chinese."""
    errors: dict[str, str] = {}
    try:
        listing.credit_code = creditcode.parse(listing.credit_code).code
    except creditcode.InvalidCreditCode as exc:
        errors["credit_code"] = str(exc)
    listing.employer_name = to_simplified(listing.employer_name.strip())
    listing.authority = to_simplified(listing.authority.strip())
    try:
        listing.amount_owed = Decimal(str(listing.amount_owed))
        if listing.amount_owed <= 0:
            errors["amount_owed"] = "拖欠工资金额应大于0"
    except InvalidOperation:
        errors["amount_owed"] = "拖欠工资金额不是有效数字"
    if int(listing.workers_affected) < 1:
        errors["workers_affected"] = "涉及劳动者人数至少为1"
    if listing.expires_on and listing.expires_on < listing.listed_on:
        errors["expires_on"] = "届满日期不能早于列入日期"
    if errors:
        raise ValidationError(errors)
    listing.full_clean()


@transaction.atomic
def arrears_list(
    *,
    organization: Organization,
    credit_code: str,
    employer_name: str,
    amount_owed: Decimal | str,
    workers_affected: int,
    decision_no: str,
    listed_on: dt.date,
    expires_on: dt.date | None = None,
    acting_user: Any,
) -> ArrearsListing:
    """List an employer for wage arrears and publish the listing to every node of the region group."""
    listing = ArrearsListing(
        uid=uuid.uuid4().hex,
        origin_node=_me(),
        organization=organization,
        authority=organization.name,
        credit_code=credit_code,
        employer_name=employer_name,
        amount_owed=amount_owed,
        workers_affected=workers_affected,
        decision_no=decision_no.strip(),
        listed_on=listed_on,
        expires_on=expires_on,
    )
    _clean_listing(listing)
    duplicate = ArrearsListing.objects.filter(
        credit_code=listing.credit_code, decision_no=listing.decision_no, status=ListingStatus.LISTED
    ).first()
    if duplicate:
        raise ValidationError({"decision_no": f"该单位已按决定书 {listing.decision_no} 列入名单"})
    listing.save()
    audit.record(AuditAction.CREATE, target=listing, acting_user=acting_user, after=listing.snapshot())
    broadcast(
        kind="arrears.listed", body=_listing_body(listing), idempotency_key=f"arrears.listed:{listing.uid}"
    )
    return listing


@transaction.atomic
def arrears_remove(
    *, listing: ArrearsListing, reason: str, removed_on: dt.date, acting_user: Any
) -> ArrearsListing:
    """Take a listing of this node off the blacklist; the removal reaches every node the same way."""
    if listing.origin_node != _me():
        raise ValidationError(f"此名单由 {listing.origin_node} 节点列入，只能由该节点移出")
    if listing.status == ListingStatus.REMOVED:
        raise ValidationError("此单位已移出名单")
    if not reason.strip():
        raise ValidationError({"removal_reason": "请填写移出原因"})
    before = listing.snapshot()
    listing.status, listing.removed_on, listing.removal_reason = (
        ListingStatus.REMOVED,
        removed_on,
        reason.strip(),
    )
    listing.save()
    audit.record(
        AuditAction.STATUS, target=listing, acting_user=acting_user, before=before, after=listing.snapshot()
    )
    broadcast(
        kind="arrears.removed", body=_listing_body(listing), idempotency_key=f"arrears.removed:{listing.uid}"
    )
    return listing


def arrears_apply_remote(*, data: dict[str, Any], sender: ExchangeNode) -> ArrearsListing:
    """Keep the copy of a listing (or its removal) published by another node (``data`` validated by
    the message's serializer)."""
    if data["origin_node"] != sender.node_id:
        raise Refused(f"节点 {sender.node_id} 只能发布本节点列入的名单")
    listing = ArrearsListing.objects.filter(uid=data["uid"]).first()
    before = listing.snapshot() if listing else None
    listing = listing or ArrearsListing(uid=data["uid"], origin_node=sender.node_id)
    if listing.origin_node != sender.node_id:
        raise Refused("名单编号属于另一个节点")
    for name in (
        "authority", "credit_code", "employer_name", "amount_owed", "workers_affected", "decision_no",
        "listed_on", "expires_on", "removed_on", "removal_reason",
    ):  # fmt: skip
        setattr(listing, name, data[name])
    listing.status = ListingStatus(data["status"])
    _clean_listing(listing)
    listing.save()
    audit.record(
        AuditAction.RECEIVE,
        target=listing,
        before=before,
        after=listing.snapshot(),
        detail={"from": sender.node_id},
    )
    return listing


# Social-insurance transfer -----------------------------------------------------------------------------

POOLED_RATE = Decimal("0.12")  # pooled fund moved: 12% of each year's actual contribution base (since 1998)
POOLED_SINCE = dt.date(1998, 1, 1)


@dataclass(frozen=True)
class Period:
    """A stretch of contributions: first and last month, monthly contribution base (元)."""

    start: dt.date
    end: dt.date
    base: Decimal

    def months(self, *, since: dt.date = POOLED_SINCE) -> int:
        first = max(self.start, since)
        return max(0, (self.end.year - first.year) * 12 + self.end.month - first.month + 1)

    def as_json(self) -> dict[str, str]:
        return {
            "start": self.start.strftime("%Y-%m"),
            "end": self.end.strftime("%Y-%m"),
            "base": str(self.base),
        }


class PeriodError(Exception):
    """A contribution line that is well-formed but wrong; the message says how."""


def _month(text: str) -> dt.date:
    return dt.datetime.strptime(text.strip().replace("/", "-").replace(".", "-"), "%Y-%m").date()


def parse_periods(text: str) -> list[Period]:
    """Read contribution periods, one a line: ``起始年月,截止年月,月缴费基数``, e.g.
    ``2012-03,2019-12,6200``. ``ValidationError`` names every bad line; nothing is half-read."""
    periods, errors = [], []
    lines = [line for line in to_simplified(text).replace("，", ",").splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        parts = [part.strip() for part in line.split(",")]
        try:
            if len(parts) != 3:
                raise PeriodError("应为 起始年月,截止年月,月缴费基数 三项")
            start, end = _month(parts[0]), _month(parts[1])
            base = Decimal(parts[2])
            if end < start:
                raise PeriodError("截止年月早于起始年月")
            if base <= 0:
                raise PeriodError("月缴费基数应大于0")
        except PeriodError as exc:
            errors.append(f"第{number}行“{line.strip()}”：{exc}")
            continue
        except (ValueError, InvalidOperation):
            reason = "年月应写作 2019-12，基数为数字"
            errors.append(f"第{number}行“{line.strip()}”：{reason}")
            continue
        periods.append(Period(start, end, base))
    if errors:
        raise ValidationError({"periods": errors})
    if not periods:
        raise ValidationError({"periods": "请填写至少一段缴费记录"})
    return periods


def pooled_amount(periods: list[Period]) -> Decimal:
    """The pooled fund to move: 12% of the monthly base for every month contributed since 1998-01."""
    total = sum((period.base * period.months() for period in periods), Decimal(0))
    return (total * POOLED_RATE).quantize(Decimal("0.01"))


def _due(start: dt.date) -> dt.date:
    return workdays.add_working_days(start, settings.XIETONG_TRANSFER_STEP_WORKING_DAYS)


@transaction.atomic
def transfer_request(
    *,
    organization: Organization,
    name: str,
    id_number: str,
    sending_node: str,
    applied_on: dt.date,
    scheme: str = Scheme.PENSION,
    acting_user: Any,
) -> InsuranceTransfer:
    """The receiving region (this node) accepts a worker's application and sends the contact letter."""
    from xietong.core import actions as core_actions

    number = core_actions.parse_id_number(id_number)
    peer = ExchangeNode.objects.filter(node_id=sending_node).first()
    if sending_node == _me() or peer is None or not peer.is_trusted():
        raise ValidationError({"sending_node": "请选择名册中的其他地区节点作为转出地"})
    transfer = InsuranceTransfer(
        uid=uuid.uuid4().hex,
        side=TransferSide.RECEIVING,
        receiving_node=_me(),
        sending_node=sending_node,
        organization=organization,
        scheme=scheme,
        name=to_simplified(name.strip()),
        applied_on=applied_on,
        due_on=_due(timezone.localdate()),
    )
    _set_transfer_id(transfer, number)
    transfer.full_clean()
    transfer.save()
    audit.record(AuditAction.CREATE, target=transfer, acting_user=acting_user, after=transfer.snapshot())
    message_send(
        receiver=sending_node,
        kind="insurance.transfer_requested",
        body={
            "uid": transfer.uid,
            "name": transfer.name,
            "id_number": number.number,
            "scheme": scheme,
            "applied_on": applied_on.isoformat(),
            "authority": organization.name,
        },
        idempotency_key=f"transfer.requested:{transfer.uid}",
    )
    return transfer


def _set_transfer_id(transfer: InsuranceTransfer, number: idnumber.IdNumber) -> None:
    transfer.id_number_cipher = pii.encrypt(number.number, field="id_number")
    transfer.id_number_index = pii.blind_index(number.number, purpose="id_number")
    transfer.id_number_masked = number.masked()


@transaction.atomic
def transfer_answer(
    *, transfer: InsuranceTransfer, periods: list[Period], personal_account: Decimal, acting_user: Any
) -> InsuranceTransfer:
    """The sending region (this node) sends the contribution record and the amounts, and closes here."""
    if transfer.side != TransferSide.SENDING:
        raise ValidationError("只有转出地可以答复转移申请")
    if personal_account < 0:
        raise ValidationError({"personal_account": "个人账户储存额不能为负数"})
    before = transfer.snapshot()
    transfer.periods = [period.as_json() for period in periods]
    transfer.personal_account = personal_account.quantize(Decimal("0.01"))
    transfer.pooled_amount = pooled_amount(periods)
    transfer.fund_transfer_amount = transfer.personal_account + transfer.pooled_amount
    transfer.answered_on = timezone.localdate()
    transfer.due_on = _due(transfer.answered_on)
    move_audited(transfer, to=TransferStatus.ANSWERED, acting_user=acting_user, before=before)
    message_send(
        receiver=transfer.receiving_node,
        kind="insurance.transfer_answered",
        body={
            "uid": transfer.uid,
            "periods": transfer.periods,
            "personal_account": str(transfer.personal_account),
            "pooled_amount": str(transfer.pooled_amount),
            "answered_on": transfer.answered_on.isoformat(),
        },
        idempotency_key=f"transfer.answered:{transfer.uid}",
    )
    return transfer


@transaction.atomic
def transfer_refuse(*, transfer: InsuranceTransfer, reason: str, acting_user: Any) -> InsuranceTransfer:
    """The sending region refuses the transfer, with the reason the worker will read."""
    if transfer.side != TransferSide.SENDING:
        raise ValidationError("只有转出地可以不予转移")
    if not reason.strip():
        raise ValidationError({"reason": "请填写不予转移的原因"})
    before = transfer.snapshot()
    transfer.refusal_reason = reason.strip()[:300]
    move_audited(transfer, to=TransferStatus.REFUSED, acting_user=acting_user, before=before)
    message_send(
        receiver=transfer.receiving_node,
        kind="insurance.transfer_refused",
        body={"uid": transfer.uid, "reason": transfer.refusal_reason},
        idempotency_key=f"transfer.refused:{transfer.uid}",
    )
    return transfer


@transaction.atomic
def transfer_complete(*, transfer: InsuranceTransfer, acting_user: Any) -> InsuranceTransfer:
    """The receiving region has checked the amount and continued the record: the transfer is closed."""
    if transfer.side != TransferSide.RECEIVING:
        raise ValidationError("只有转入地可以办结接续")
    before = transfer.snapshot()
    transfer.completed_on = timezone.localdate()
    move_audited(transfer, to=TransferStatus.COMPLETED, acting_user=acting_user, before=before)
    message_send(
        receiver=transfer.sending_node,
        kind="insurance.transfer_completed",
        body={"uid": transfer.uid, "completed_on": transfer.completed_on.isoformat()},
        idempotency_key=f"transfer.completed:{transfer.uid}",
    )
    return transfer


def _peer_transfer(body: dict[str, Any], sender: ExchangeNode, *, side: str) -> InsuranceTransfer:
    transfer = InsuranceTransfer.objects.filter(uid=str(body["uid"]), side=side).first()
    peer_field = "sending_node" if side == TransferSide.RECEIVING else "receiving_node"
    if transfer is None or getattr(transfer, peer_field) != sender.node_id:
        raise Refused(f"转移申请 {body['uid']} 不存在")
    return transfer


def transfer_apply_remote(kind: str, body: dict[str, Any], sender: ExchangeNode) -> InsuranceTransfer:
    """Apply a step the other region took (a handler of the exchange)."""
    if kind == "insurance.transfer_requested":
        from xietong.core import actions as core_actions

        if InsuranceTransfer.objects.filter(uid=body["uid"]).exists():
            raise Refused("转移申请已存在")
        transfer = InsuranceTransfer(
            uid=body["uid"],
            side=TransferSide.SENDING,
            receiving_node=sender.node_id,
            sending_node=_me(),
            scheme=Scheme(body["scheme"]),
            name=body["name"],
            applied_on=body["applied_on"],
            due_on=_due(timezone.localdate()),
        )
        _set_transfer_id(transfer, core_actions.parse_id_number(body["id_number"]))
        transfer.full_clean()
        transfer.save()
        audit.record(
            AuditAction.RECEIVE, target=transfer, after=transfer.snapshot(), detail={"from": sender.node_id}
        )
        return transfer
    transfer = _peer_transfer(
        body, sender, side=TransferSide.SENDING if kind.endswith("completed") else TransferSide.RECEIVING
    )
    before = transfer.snapshot()
    if kind == "insurance.transfer_answered":
        transfer.periods = [
            {"start": p["start"], "end": p["end"], "base": str(p["base"])} for p in body["periods"]
        ]
        transfer.personal_account = body["personal_account"]
        transfer.pooled_amount = body["pooled_amount"]
        transfer.fund_transfer_amount = transfer.personal_account + transfer.pooled_amount
        transfer.answered_on = body["answered_on"]
        transfer.due_on = _due(timezone.localdate())
        to = TransferStatus.ANSWERED
    elif kind == "insurance.transfer_refused":
        transfer.refusal_reason = body["reason"][:300]
        to = TransferStatus.REFUSED
    else:
        transfer.completed_on = body["completed_on"]
        to = TransferStatus.COMPLETED
    move_audited(
        transfer,
        to=to,
        acting_user=None,
        action=AuditAction.RECEIVE,
        before=before,
        detail={"from": sender.node_id},
    )
    return transfer


# Benefit eligibility certification (ADR 009) ---------------------------------------------------------

ROSTER_BATCH = 2000


@transaction.atomic
def roster_import_start(
    *,
    organization: Organization,
    kind: str,
    title: str,
    uploaded: Any,
    mapping: dict[str, str],
    acting_user: Any,
) -> BenefitRoster:
    """Keep the uploaded roster file and queue its import (progress is kept on the roster's row)."""
    from .tasks import run_roster_import

    unknown = unknown_columns(mapping)
    if unknown:
        raise ValidationError({"mapping": f"列映射中的{'、'.join(unknown)}不是标准列"})
    roster = BenefitRoster(
        organization=organization,
        kind=kind,
        title=title.strip() or Path(str(uploaded.name)).stem[:100],
        original_name=str(uploaded.name)[:200],
        mapping=mapping,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    roster.file.save(f"{secrets.token_hex(8)}{Path(uploaded.name).suffix.lower()}", uploaded, save=False)
    roster.full_clean()
    roster.save()
    audit.record(AuditAction.CREATE, target=roster, acting_user=acting_user, after=roster.snapshot())
    run_roster_import.enqueue(roster.pk)
    return roster


def _read_roster(roster: BenefitRoster, con: Any, workdir: Path) -> list[tuple[Any, ...]]:
    """The roster's rows, read and normalised by the comparison engine (``RosterError`` if unreadable)."""
    from xietong.matching import normalize
    from xietong.matching import roster as roster_files

    path = workdir / f"roster{Path(roster.original_name).suffix.lower()}"
    with roster.file.open("rb") as source:
        path.write_bytes(source.read())
    roster_files.load(con, path, "raw", dict(roster.mapping), workdir)
    normalize.normalize_table(con, "raw", "norm")
    return con.execute(
        """
        SELECT r.line, r.record_id, n.name_norm, n.id_valid, coalesce(n.id_any, xt_id_clean(r.id_number)),
               n.birth, n.gender, r.event_date, xt_date(r.event_date)
        FROM raw r JOIN norm n USING (record_id) ORDER BY r.line
        """
    ).fetchall()


def _roster_row_problems(kind: str, row: tuple[Any, ...]) -> list[str]:
    line, _record, name, id_valid, _id_any, birth, _gender, event_text, event_date = row
    problems = []
    if not id_valid and not (name and birth):
        problems.append(f"第{line}行：身份证号码无效或缺失，且姓名、出生日期不全，无法比对")
    if event_text and event_date is None:
        problems.append(f"第{line}行：日期“{event_text}”无法识别（应如 2025-03-02）")
    if kind == RosterKind.DEATH and not event_text:
        problems.append(f"第{line}行：死亡登记缺少死亡日期")
    return problems


def roster_import_run(*, roster: BenefitRoster) -> BenefitRoster:
    """Read, check and store a roster. Any bad row fails the whole file with the lines named; nothing is
    written until every row is good; then the rows are stored in one transaction, ID numbers
    encrypted, and the office's older roster of the same kind is superseded."""
    import duckdb

    from xietong.matching import roster as roster_files
    from xietong.matching.errors import RosterError

    roster.status = ImportStatus.CHECKING
    roster.save(update_fields=["status", "updated_at"])
    con = duckdb.connect()
    try:
        with roster_files.make_workdir() as workdir:
            rows = _read_roster(roster, con, Path(workdir))
    except RosterError as exc:
        return job_finish(
            roster,
            status=ImportStatus.FAILED,
            message=f"{exc.problem}{f'（第{exc.line}行）' if exc.line else ''}",
        )
    finally:
        con.close()
    problems = [problem for row in rows for problem in _roster_row_problems(roster.kind, row)]
    roster.total_rows = len(rows)
    if problems:
        more = f"……共{len(problems)}处" if len(problems) > 20 else ""
        return job_finish(
            roster,
            status=ImportStatus.FAILED,
            message="名册有误，未导入任何数据：" + "；".join(problems[:20]) + more,
        )
    roster.save(update_fields=["total_rows", "updated_at"])
    entries = []
    for count, row in enumerate(rows, start=1):
        _line, record_id, name, id_valid, id_any, birth, gender, _text, event_date = row
        number = id_valid or id_any or ""
        entries.append(
            RosterEntry(
                roster=roster,
                record_id=str(record_id)[:64],
                name=(name or "")[:64],
                id_number_cipher=pii.encrypt(number, field="id_number") if number else "",
                id_number_index=pii.blind_index(id_valid, purpose="id_number") if id_valid else "",
                id_number_masked=idnumber.mask(number) if number else "",
                birth_date=birth,
                gender=gender or "",
                event_date=event_date,
            )
        )
        if count % ROSTER_BATCH == 0:
            roster.processed_rows = count
            roster.save(update_fields=["processed_rows", "updated_at"])
    with transaction.atomic():
        roster.status = ImportStatus.WRITING
        RosterEntry.objects.bulk_create(entries, batch_size=1000)
        BenefitRoster.objects.filter(
            organization=roster.organization, kind=roster.kind, status=ImportStatus.DONE, superseded=False
        ).exclude(pk=roster.pk).update(superseded=True)
        invalid = sum(1 for row in rows if not row[3])
        roster.processed_rows, roster.invalid_ids = len(rows), invalid
        roster.status, roster.finished_at = ImportStatus.DONE, timezone.now()
        note = f"（其中{invalid}人身份证号无效，按姓名和出生日期比对）" if invalid else ""
        roster.message = f"导入完成：{len(rows)}人{note}"
        # The clear-text upload goes once the rows are committed.
        storage, uploaded = roster.file.storage, str(roster.file.name)
        roster.file = None  # clears the FileField
        roster.save()
        transaction.on_commit(lambda: storage.delete(uploaded))
        audit.record(
            AuditAction.IMPORT, target=roster, acting_user=roster.created_by, detail={"rows": len(rows)}
        )
    return roster


@transaction.atomic
def certification_run_start(
    *, roster: BenefitRoster, partners: list[str], checks: list[str], acting_user: Any
) -> EligibilityCheck:
    """Open a certification run of a roster (for the office that keeps it) and queue the sending of
    its encodings to each partner node."""
    from .tasks import run_certification_send

    if roster.kind == RosterKind.DEATH:
        raise ValidationError({"roster": "死亡登记名册不作资格认证，请选择待遇领取人员名册"})
    if roster.status != ImportStatus.DONE:
        raise ValidationError({"roster": "名册尚未导入完成"})
    if not checks or set(checks) - set(FindingKind.values):
        raise ValidationError({"checks": "请选择核查内容"})
    trusted = {node.node_id: node for node in selectors.trusted_peers()}
    unknown = [p for p in partners if p not in trusted]
    if not partners or unknown:
        raise ValidationError(
            {"partners": f"请选择对方节点{('（' + '、'.join(unknown) + '不在名册中）') if unknown else ''}"}
        )
    run = EligibilityCheck(
        uid=uuid.uuid4().hex,
        organization=roster.organization,
        roster=roster,
        checks=list(dict.fromkeys(checks)),
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    run.full_clean()
    run.save()
    for partner in dict.fromkeys(partners):
        CertificationRequest.objects.create(run=run, partner=partner, partner_name=trusted[partner].name)
    audit.record(AuditAction.CREATE, target=run, acting_user=acting_user, after=run.snapshot())
    run_certification_send.enqueue(run.pk)
    return run


def certification_run_send(*, run: EligibilityCheck) -> EligibilityCheck:
    """Encode the run's roster (the group key; no names or ID numbers leave) and put one
    ``certification.request`` message per chunk and partner in the outbox, all in one transaction."""
    entries = list(run.roster.entries.filter(suspended_at__isnull=True).order_by("pk"))
    if not entries:
        return job_finish(run, status=RunStatus.FAILED, message="名册中没有可核查的人员")
    try:
        records = encodings.to_wire(encodings.encode_entries(entries))
        fingerprint = encodings.key_fingerprint()
    except ImproperlyConfigured as exc:
        return job_finish(run, status=RunStatus.FAILED, message=str(exc))
    size = settings.XIETONG_CERTIFICATION_CHUNK
    chunks = [records[start : start + size] for start in range(0, len(records), size)]
    with transaction.atomic():
        for request in run.requests.all():
            for number, chunk in enumerate(chunks, start=1):
                message_send(
                    receiver=request.partner,
                    kind="certification.request",
                    body={
                        "run": run.uid,
                        "chunk": number,
                        "chunks": len(chunks),
                        "checks": run.checks,
                        "roster_kind": run.roster.kind,
                        "key": fingerprint,
                        "records": chunk,
                    },
                    idempotency_key=f"certification.request:{run.uid}:{number}",
                )
            request.chunks = len(chunks)
            request.save(update_fields=["chunks", "updated_at"])
        run.records, run.chunks, run.status = len(records), len(chunks), RunStatus.WAITING
        run.save()
    return run


def certification_request_apply(body: dict[str, Any], sender: ExchangeNode) -> CertificationAssistance:
    """A partner's chunk of encodings: checked and queued for comparison with our rosters."""
    from .tasks import run_certification_assist

    chunk, checks = body["chunk"], list(dict.fromkeys(body["checks"]))
    if body["key"] != encodings.key_fingerprint():
        raise ValidationError("比对密钥不一致：双方的区域组比对密钥不同，请核对 XIETONG_GROUP_KEY")
    try:
        encodings.from_wire(body["records"])
    except encodings.EncodingError as exc:
        raise ValidationError(f"编码记录有误：{exc}") from exc
    assistance, created = CertificationAssistance.objects.get_or_create(
        requester=sender.node_id,
        run_uid=body["run"],
        chunk=chunk,
        defaults={
            "requester_name": sender.name,
            "checks": checks,
            "roster_kind": body["roster_kind"],
            "records": body["records"],
            "checked": len(body["records"]),
        },
    )
    if created:
        audit.record(
            AuditAction.RECEIVE,
            target=assistance,
            detail={"from": sender.node_id, "records": assistance.checked},
        )
        run_certification_assist.enqueue(assistance.pk)
    return assistance


def _evidence(kind: str, entry: RosterEntry, reason: str) -> str:
    when = entry.event_date.isoformat() if entry.event_date else "未登记"
    if kind == FindingKind.FRAUD_SUSPECTED:
        return f"死亡登记：死亡日期 {when}；{reason}"[:300]
    return f"正在领取{BENEFIT_NAMES[entry.roster.kind]}：起始日期 {when}；{reason}"[:300]


def certification_assist(*, assistance: CertificationAssistance) -> CertificationAssistance:
    """Compare a requester's chunk with our current rosters and send back the findings (or the
    reason we could not compare, so the requester's run does not wait for ever)."""
    findings: dict[tuple[str, str], dict[str, Any]] = {}
    error = ""
    try:
        left = encodings.from_wire(assistance.records)
        for kind in assistance.checks:
            wanted = RosterKind.DEATH if kind == FindingKind.FRAUD_SUSPECTED else assistance.roster_kind
            ours = encodings.current_roster_encodings(wanted)
            if ours is None:
                continue
            pairs = encodings.compare(left, ours)
            matched = RosterEntry.objects.filter(pk__in=[int(p.right) for p in pairs]).select_related(
                "roster"
            )
            entries = {str(entry.pk): entry for entry in matched}
            for pair in pairs:
                best = findings.get((pair.left, kind))
                if best is None or pair.score > best["score"]:
                    findings[(pair.left, kind)] = {
                        "ref": pair.left, "kind": kind, "score": round(pair.score, 4),
                        "evidence": _evidence(kind, entries[pair.right], pair.reason),
                    }  # fmt: skip
    except Exception as exc:  # any failure is reported to the requester, not swallowed
        logger.exception("certification comparison failed")
        error = f"对方比对失败：{exc}"[:300]
    with transaction.atomic():
        message_send(
            receiver=assistance.requester,
            kind="certification.findings",
            body={
                "run": assistance.run_uid,
                "chunk": assistance.chunk,
                "checked": 0 if error else assistance.checked,
                "findings": list(findings.values()),
                "error": error,
            },
            idempotency_key=f"certification.findings:{assistance.run_uid}:{assistance.chunk}",
        )
        assistance.status = AssistanceStatus.FAILED if error else AssistanceStatus.DONE
        assistance.findings, assistance.message, assistance.records = len(findings), error, []
        if error:
            assistance.checked = 0
        assistance.save()
    return assistance


def certification_findings_apply(body: dict[str, Any], sender: ExchangeNode) -> CertificationRequest:
    """A partner's answer to one chunk: its findings join the run (dismissed ones stay away)."""
    run = EligibilityCheck.objects.filter(uid=body["run"]).select_related("roster").first()
    if run is None:
        raise ValidationError(f"没有认证批次 {body['run']}")
    request = run.requests.filter(partner=sender.node_id).first()
    if request is None:
        raise ValidationError(f"认证批次 {run.uid} 没有发给节点 {sender.node_id}")
    chunk, checked = body["chunk"], body["checked"]
    if chunk > max(request.chunks, 1):
        raise ValidationError(f"chunk 应为 1 到 {max(request.chunks, 1)} 之间的整数")
    if checked > run.records:
        raise ValidationError(f"checked 应为 0 到 {run.records} 之间的整数")
    if chunk in request.answered:
        return request
    entries = {str(entry.pk): entry for entry in run.roster.entries.all()}
    dismissed = set(FindingDismissal.objects.filter(partner=sender.node_id).values_list("person_key", "kind"))
    created = 0
    for item in body["findings"]:
        entry = entries.get(item["ref"])
        if entry is None:
            raise ValidationError(f"发现中的记录 {item['ref']} 不属于本批次")
        if item["kind"] not in run.checks:
            raise ValidationError(f"发现类别“{item['kind']}”不是本批次的核查内容")
        score = item["score"]
        if (entry.person_key, item["kind"]) in dismissed:
            continue
        _finding, made = CertificationFinding.objects.get_or_create(
            run=run, entry=entry, partner=sender.node_id, kind=item["kind"],
            defaults={"partner_name": sender.name, "evidence": item["evidence"][:300], "score": score},
        )  # fmt: skip
        created += int(made)
    request.answered = sorted([*request.answered, chunk])
    request.checked += checked
    request.findings += created
    if body.get("error"):
        run.message = f"{sender.name}：{body['error'][:300]}"
    if request.complete:
        request.answered_at = timezone.now()
    request.save()
    if all(r.complete for r in run.requests.all()):
        run.status, run.finished_at = RunStatus.DONE, timezone.now()
    run.save()
    audit.record(
        AuditAction.RECEIVE, target=run, detail={"from": sender.node_id, "chunk": chunk, "findings": created}
    )
    return request


def _decide(finding: CertificationFinding, *, to: str, note: str, acting_user: Any) -> CertificationFinding:
    before = finding.snapshot()
    finding.note = note.strip()[:300]
    finding.decided_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    finding.decided_at = timezone.now()
    move_audited(finding, to=to, acting_user=acting_user, before=before)
    entry = finding.entry
    if to == FindingStatus.CONFIRMED and entry.suspended_at is None:
        entry_before = entry.snapshot()
        entry.suspended_at = timezone.now()
        entry.save(update_fields=["suspended_at", "updated_at"])
        audit.record(
            AuditAction.STATUS, target=entry, acting_user=acting_user, before=entry_before,
            after=entry.snapshot(), detail={"finding": finding.pk, "reason": finding.get_kind_display()},
        )  # fmt: skip
    if to == FindingStatus.DISMISSED:
        FindingDismissal.objects.get_or_create(
            person_key=entry.person_key, partner=finding.partner, kind=finding.kind,
            defaults={"organization": finding.run.organization, "finding": finding},
        )  # fmt: skip
    return finding


@transaction.atomic
def finding_confirm(
    *, finding: CertificationFinding, note: str = "", acting_user: Any
) -> CertificationFinding:
    """Confirm a finding: the recipient's payment is flagged as suspended (a letter can be printed)."""
    return _decide(finding, to=FindingStatus.CONFIRMED, note=note, acting_user=acting_user)


@transaction.atomic
def finding_dismiss(*, finding: CertificationFinding, note: str, acting_user: Any) -> CertificationFinding:
    """Dismiss a finding with a reason; the same person, partner and kind will not be reported again."""
    if not note.strip():
        raise ValidationError({"note": "排除须说明理由（如：本人已到窗口认证）"})
    return _decide(finding, to=FindingStatus.DISMISSED, note=note, acting_user=acting_user)


@transaction.atomic
def findings_decide_bulk(
    *, findings: list[CertificationFinding], decision: str, note: str, acting_user: Any
) -> int:
    """Confirm or dismiss several open findings at once (all or none); returns how many."""
    decide = {"confirm": finding_confirm, "dismiss": finding_dismiss}.get(decision)
    if decide is None:
        raise ValidationError("请选择确认或排除")
    if not findings:
        raise ValidationError("请先勾选要处理的发现")
    for finding in findings:
        decide(finding=finding, note=note, acting_user=acting_user)
    return len(findings)


def finding_letter(*, finding: CertificationFinding, acting_user: Any) -> bytes:
    """The PDF letter telling a recipient that payment is suspended and how to be certified again."""
    from .printing import SuspensionLetter, suspension_letter

    if finding.status != FindingStatus.CONFIRMED:
        raise ValidationError("只有已确认的发现可以打印告知书")
    entry = finding.entry
    audit.record(AuditAction.EXPORT, target=finding, acting_user=acting_user, detail={"letter": True})
    return suspension_letter(
        SuspensionLetter(
            office=finding.run.organization.name,
            name=entry.name,
            id_masked=entry.id_number_masked,
            benefit=str(BENEFIT_NAMES[finding.run.roster.kind]),
            partner=finding.partner_name,
            reason=finding.get_kind_display(),
            suspended_on=(entry.suspended_at or timezone.now()).date(),
            letter_no=f"{finding.run.uid[:8]}-{finding.pk}",
        )
    )

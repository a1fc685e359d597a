"""The wire format of the exchange: content hash, signatures, the per-delivery transport stamp.

A message travels as its content (``ExchangeMessage.content()``) plus ``hash`` (SHA-256 of the
canonical JSON of the content), ``signature`` (the sender's Ed25519 signature of the hash, kept in
both logs) and, per delivery attempt, ``sent_at`` with ``transport_signature`` (signature of
``hash|receiver|sent_at``). The stamp lets a receiver refuse a captured request replayed later
while a message that waited days in an outbox (its peer was down) is still accepted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xietong.lib import crypto

CONTENT_FIELDS = ("id", "sender", "receiver", "kind", "created", "idempotency_key", "prev_hash", "body")
# Hashed when present: the manifest of the files a message carries (ADR 017). A message without
# files has no such key, so the hashes of every message sent before files existed stay the same.
OPTIONAL_FIELDS = ("files",)
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class Refused(Exception):
    """A delivery or registry the receiving node will not accept; ``str()`` is the reason in Chinese."""


def hashed(content: dict[str, Any]) -> dict[str, Any]:
    """The fields of a message that its hash covers (the optional ones only when present)."""
    required = {key: content[key] for key in CONTENT_FIELDS}
    return required | {key: content[key] for key in OPTIONAL_FIELDS if key in content}


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a message's content."""
    return hashlib.sha256(crypto.canonical_json(hashed(content))).hexdigest()


def check_manifest(files: Any) -> list[dict[str, Any]]:
    """A message's ``files``: a non-empty list of ``{name, size, sha256}`` with distinct safe names;
    ``Refused`` names what is wrong."""
    if not isinstance(files, list) or not files:
        raise Refused("消息字段 files 应为非空列表")
    names: set[str] = set()
    for entry in files:
        if not isinstance(entry, dict) or set(entry) != {"name", "size", "sha256"}:
            raise Refused("文件清单的每一项应含 name、size、sha256")
        name, size, digest = entry["name"], entry["size"], entry["sha256"]
        if not isinstance(name, str) or not FILE_NAME.match(name) or name in names:
            raise Refused(f"文件名不合规或重复：{str(name)[:100]}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise Refused(f"文件 {name} 的大小不正确")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise Refused(f"文件 {name} 的 SHA-256 摘要格式不正确")
        names.add(name)
    return files


def sign_hash(private_key: str, digest: str) -> str:
    return crypto.sign(private_key, digest.encode())


def stamp(private_key: str, *, digest: str, receiver: str, sent_at: str) -> str:
    """The transport signature of one delivery attempt."""
    return crypto.sign(private_key, f"{digest}|{receiver}|{sent_at}".encode())


def stamped(
    content: dict[str, Any], *, digest: str, signature: str, private_key: str, now: datetime
) -> dict[str, Any]:
    """One message as it travels in one delivery attempt (content, hash, signatures, stamp)."""
    sent_at = now.isoformat()
    transport = stamp(private_key, digest=digest, receiver=str(content["receiver"]), sent_at=sent_at)
    document = {**content, "hash": digest, "signature": signature, "sent_at": sent_at}
    document["transport_signature"] = transport
    return document


def envelope(
    content: dict[str, Any], *, digest: str, signature: str, private_key: str, now: datetime
) -> bytes:
    """The request body of a delivery of one message (a batch is ``{"batch": [stamped, …]}``)."""
    return crypto.canonical_json(
        stamped(content, digest=digest, signature=signature, private_key=private_key, now=now)
    )


@dataclass(frozen=True)
class Incoming:
    """A delivery whose form, hash and signatures have been checked."""

    content: dict[str, Any]
    digest: str
    signature: str
    sent_at: datetime


def parse(raw: bytes, *, max_bytes: int) -> tuple[list[Any], bool]:
    """The messages of a delivery, not yet checked one by one, and whether it is a batch;
    ``Refused`` for oversized or non-JSON input."""
    if len(raw) > max_bytes:
        raise Refused(f"消息过大：{len(raw)} 字节，上限 {max_bytes} 字节")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"消息不是有效的 UTF-8 JSON：{exc}") from None
    if isinstance(document, dict) and isinstance(document.get("batch"), list):
        if not document["batch"]:
            raise Refused("批量投递中没有消息")
        return list(document["batch"]), True
    return [document], False


def validate(document: Any) -> dict[str, Any]:
    """One message's fields are all there and of the right type; ``Refused`` names what is wrong."""
    if not isinstance(document, dict):
        raise Refused("消息应为 JSON 对象")
    missing = [
        key
        for key in (*CONTENT_FIELDS, "hash", "signature", "sent_at", "transport_signature")
        if key not in document
    ]
    if missing:
        raise Refused(f"消息缺少字段：{'、'.join(missing)}")
    for key in (*CONTENT_FIELDS[:-1], "hash", "signature", "sent_at", "transport_signature"):
        if not isinstance(document[key], str) or len(document[key]) > 200:
            raise Refused(f"消息字段 {key} 格式不正确")
    if not isinstance(document["body"], dict):
        raise Refused("消息字段 body 应为 JSON 对象")
    if "files" in document:
        check_manifest(document["files"])
    return document


def check(
    document: dict[str, Any],
    *,
    public_keys: Sequence[str],
    receiver: str,
    now: datetime,
    skew_seconds: int,
) -> Incoming:
    """Check a parsed delivery against the sender's public keys valid when the message was created
    (its current key, and an earlier one for a message created before a key rotation, ADR 019);
    the message and its delivery stamp must be signed by the same key. ``Refused`` says what is
    wrong."""
    if document["receiver"] != receiver:
        raise Refused(f"消息的接收节点是 {document['receiver']}，不是本节点 {receiver}")
    content = hashed(document)
    digest = content_hash(content)
    if digest != document["hash"]:
        raise Refused("消息内容与摘要不符（内容被改动）")
    signer = next(
        (key for key in public_keys if crypto.verify(key, digest.encode(), document["signature"])), None
    )
    if signer is None:
        raise Refused("消息签名无效（或签名密钥已在消息创建前更换）")
    stamp_bytes = f"{digest}|{receiver}|{document['sent_at']}".encode()
    if not crypto.verify(signer, stamp_bytes, document["transport_signature"]):
        raise Refused("投递签名无效")
    try:
        sent_at = datetime.fromisoformat(document["sent_at"])
    except ValueError:
        raise Refused("投递时间格式不正确") from None
    if sent_at.tzinfo is None:
        raise Refused("投递时间缺少时区")
    drift = abs((now - sent_at).total_seconds())
    if drift > skew_seconds:
        raise Refused(
            f"投递时间与本节点时间相差 {int(drift)} 秒，超过允许的 {skew_seconds} 秒（重放或时钟不准）"
        )
    return Incoming(content, digest, document["signature"], sent_at)


def sign_document(private_key: str, document: dict[str, Any]) -> str:
    """Signature of a JSON document (the node registry, an acknowledgement)."""
    return crypto.sign(private_key, crypto.canonical_json(document))


def verify_document(public_key: str, document: dict[str, Any], signature: str) -> bool:
    try:
        return crypto.verify(public_key, crypto.canonical_json(document), signature)
    except (TypeError, ValueError):
        return False

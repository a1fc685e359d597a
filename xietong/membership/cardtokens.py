"""Card tokens: what the member's phone shows as a QR code, and how a service point checks it.

A token is ``XT1.<payload>.<signature>``: the payload is canonical JSON (card number, issuing node,
issue and expiry times, a random token id) in unpadded base64url, signed with the node's Ed25519
key. Anyone holding the node's public key can check the signature and expiry offline; the node
itself also checks the card's status and that the token id was never used before.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from xietong.lib import crypto

PREFIX = "XT1"
PHYSICAL_PREFIX = "XC1"  # printed on a physical card: no expiry; the card's status revokes it
CLOCK_SKEW = 30  # seconds a service point's clock may run ahead of the node's


class InvalidToken(ValueError):
    """A token that must be refused; the message is the reason shown at the service point."""


@dataclass(frozen=True)
class CardToken:
    """A token's checked contents."""

    card_number: str
    node: str
    issued_at: int
    expires_at: int
    token_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(*, card_number: str, node: str, private_key: str, ttl: int, now: float | None = None) -> str:
    """A fresh signed token for ``card_number``, valid ``ttl`` seconds."""
    issued = int(time.time() if now is None else now)
    payload = {"c": card_number, "n": node, "iat": issued, "exp": issued + ttl, "jti": secrets.token_hex(16)}
    body = _b64(crypto.canonical_json(payload))
    return f"{PREFIX}.{body}.{crypto.sign(private_key, body.encode('ascii'))}"


def issue_physical(*, card_number: str, node: str, private_key: str) -> str:
    """The signed credential printed on a physical card. It does not expire (a lost or replaced
    card is refused by its status) and each scan counts as its own use."""
    body = _b64(crypto.canonical_json({"c": card_number, "n": node, "k": "physical"}))
    return f"{PHYSICAL_PREFIX}.{body}.{crypto.sign(private_key, body.encode('ascii'))}"


def check(
    token: str, *, public_key: str, earlier_keys: Sequence[str] = (), now: float | None = None
) -> CardToken:
    """The token's contents if it is well-formed, signed by ``public_key`` (or one of the node's
    ``earlier_keys``, replaced by a key rotation) and not expired.

    Raises ``InvalidToken`` with the reason in Chinese otherwise.
    """
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] not in (PREFIX, PHYSICAL_PREFIX):
        raise InvalidToken("二维码格式不正确：不是协同会员卡二维码")
    body, signature = parts[1], parts[2]
    if not any(crypto.verify(key, body.encode("ascii"), signature) for key in (public_key, *earlier_keys)):
        raise InvalidToken("签名无效：二维码不是本节点签发的，或已被篡改")
    if parts[0] == PHYSICAL_PREFIX:
        try:
            payload = json.loads(_unb64(body))
            return CardToken(str(payload["c"]), str(payload["n"]), 0, 0, secrets.token_hex(16))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidToken("二维码内容无法识别") from exc
    try:
        payload = json.loads(_unb64(body))
        result = CardToken(
            card_number=str(payload["c"]),
            node=str(payload["n"]),
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
            token_id=str(payload["jti"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidToken("二维码内容无法识别") from exc
    current = time.time() if now is None else now
    if current > result.expires_at:
        raise InvalidToken("二维码已过期，请会员在手机上刷新电子卡")
    if result.issued_at > current + CLOCK_SKEW:
        raise InvalidToken("二维码的签发时间晚于当前时间，请核对服务点设备时钟")
    return result

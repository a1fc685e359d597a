"""Field-level encryption, blind indexes and signatures, with keys kept outside the database.

* ``FieldCipher``: AES-256-GCM for individual column values (ID numbers, phone numbers), as compact
  text tokens ``v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``; the key id makes rotation
  possible, associated data (e.g. the column name) stops a token being copied into another column.
* ``blind_index``: a keyed hash for exact-match look-ups on encrypted values.
* ``derive_key``: HKDF, so one master secret yields independent keys per purpose.
* Ed25519 ``sign``/``verify`` and ``canonical_json`` for signing JSON documents exchanged between
  nodes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import os
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
TOKEN_VERSION = "v1"
BLIND_INDEX_HEX_CHARS = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_HEX = frozenset(string.hexdigits)


class DecryptionError(ValueError):
    """A token that cannot be decrypted: malformed, unknown key, wrong key, tampered or wrong field."""


class InvalidKey(ValueError):
    """Key material or a cipher configuration that is unusable; the message says why in Chinese."""


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_decode(text: str) -> bytes:
    """Decode standard or URL-safe base64, padding optional; ``ValueError`` if it is not base64."""
    cleaned = "".join(text.split()).rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9+/_-]*", cleaned) or len(cleaned) % 4 == 1:
        raise ValueError("not base64")
    cleaned = cleaned.replace("-", "+").replace("_", "/")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


# --- keys -----------------------------------------------------------------------------------------


def generate_key() -> str:
    """A fresh random 32-byte key as unpadded base64url text (what ``load_key`` reads)."""
    return _b64url_encode(os.urandom(KEY_BYTES))


def load_key(value: str) -> bytes:
    """Read a 32-byte key written as 64 hex digits, base64 or base64url (padding optional)."""
    text = (value or "").strip()
    if not text:
        raise InvalidKey("密钥为空")
    if len(text) == 2 * KEY_BYTES and all(ch in _HEX for ch in text):
        return bytes.fromhex(text)
    try:
        key = _b64_decode(text)
    except (ValueError, binascii.Error):
        raise InvalidKey("密钥不是有效的base64、base64url或64位十六进制文本") from None
    if len(key) != KEY_BYTES:
        raise InvalidKey(f"密钥应为32字节（base64、base64url或64位十六进制），实为{len(key)}字节")
    return key


def derive_key(master: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose from a master secret (HKDF-SHA256, purpose as ``info``).

    Keys for different purposes are independent: knowing the blind-index key reveals nothing about
    the encryption key, and either can be handed to a component that needs only that one.
    """
    if len(master) < 16:
        raise InvalidKey(f"主密钥至少应为16字节，实为{len(master)}字节")
    if not purpose:
        raise InvalidKey("派生密钥的用途不能为空")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"xietong:{purpose}".encode())
    return hkdf.derive(master)


# --- field encryption -----------------------------------------------------------------------------


class FieldCipher:
    """AES-256-GCM for single field values, with key rotation.

    ``FieldCipher(key)`` or ``FieldCipher(key, key_id="k1")`` for one key;
    ``FieldCipher(keys={"k2": new, "k1": old}, current="k2")`` decrypts tokens of any listed key and
    encrypts with ``current``. Each token carries its key id, so re-encryption can be done lazily.
    """

    def __init__(
        self,
        key: bytes | None = None,
        key_id: str = "k1",
        *,
        keys: Mapping[str, bytes] | None = None,
        current: str | None = None,
    ) -> None:
        if (key is None) == (keys is None):
            raise InvalidKey("请给出一个密钥（key）或一组密钥（keys），不能都给或都不给")
        if key is not None:
            keys, current = {key_id: key}, key_id
        assert keys is not None
        if not keys:
            raise InvalidKey("密钥组为空")
        if current is None:
            if len(keys) != 1:
                raise InvalidKey("有多个密钥时必须用 current 指明加密所用的密钥")
            current = next(iter(keys))
        if current not in keys:
            raise InvalidKey(f"当前密钥“{current}”不在密钥组中")
        self._ciphers: dict[str, AESGCM] = {}
        for kid, material in keys.items():
            if not _KEY_ID.fullmatch(kid):
                raise InvalidKey(f"密钥编号“{kid}”无效：只能是1至32个字母、数字、下划线或连字符")
            if len(material) != KEY_BYTES:
                raise InvalidKey(f"密钥“{kid}”应为32字节，实为{len(material)}字节")
            self._ciphers[kid] = AESGCM(material)
        self.current = current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids this cipher can decrypt."""
        return tuple(self._ciphers)

    def encrypt(self, plaintext: str, *, aad: bytes = b"") -> str:
        """Encrypt with the current key and a fresh random 96-bit nonce; ``aad`` must match on decrypt."""
        return self.encrypt_many([plaintext], aad=aad)[0]

    def encrypt_many(self, plaintexts: Sequence[str], *, aad: bytes = b"") -> list[str]:
        """``encrypt`` for each value, with one read of the random source for all the nonces (a
        member import encrypts a million ID numbers)."""
        seal = self._ciphers[self.current].encrypt
        nonces = os.urandom(NONCE_BYTES * len(plaintexts))
        prefix = f"{TOKEN_VERSION}:{self.current}:"
        tokens = []
        for position, plaintext in enumerate(plaintexts):
            nonce = nonces[position * NONCE_BYTES : (position + 1) * NONCE_BYTES]
            tokens.append(prefix + _b64url_encode(nonce + seal(nonce, plaintext.encode("utf-8"), aad)))
        return tokens

    def decrypt(self, token: str, *, aad: bytes = b"") -> str:
        """Decrypt a token made by ``encrypt`` with the same ``aad``; ``DecryptionError`` otherwise."""
        parts = token.split(":")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION:
            raise DecryptionError(f"密文格式无效：应为“{TOKEN_VERSION}:密钥编号:数据”")
        kid, body = parts[1], parts[2]
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(f"密文所用的密钥“{kid}”未配置，无法解密")
        try:
            data = _b64_decode(body)
        except (ValueError, binascii.Error):
            raise DecryptionError("密文格式无效：数据部分不是base64url") from None
        if len(data) < NONCE_BYTES + 16:
            raise DecryptionError("密文格式无效：数据过短")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionError("密文校验失败：数据被篡改、密钥错误或不属于该字段") from None
        return plain.decode("utf-8")

    def needs_rotation(self, token: str) -> bool:
        """True when the token was made with a key other than the current one."""
        parts = token.split(":")
        return len(parts) != 3 or parts[1] != self.current


# --- blind index ----------------------------------------------------------------------------------


def blind_index(value: str, key: bytes, *, purpose: str) -> str:
    """A keyed exact-match index: HMAC-SHA256 over ``purpose``, NUL, ``value``; 32 hex characters.

    Equal values give equal indexes, so an encrypted column can be searched for an exact value
    without decrypting it, while someone holding only the database cannot test guesses (the key
    lives outside it). ``purpose`` separates indexes of different columns, so equal values in two
    columns do not reveal themselves as equal. Normalise the value before indexing.

    Truncation to 128 bits halves the stored size and keeps collisions negligible: about 2^64
    values are needed before two collide by chance, far beyond any register. Truncating much
    further would turn the index into deliberate buckets that need a decrypting second pass; this
    function is meant for exact matches, so it stays wide. Truncation does not weaken the key.
    """
    return blind_indexes([value], key, purpose=purpose)[0]


def blind_indexes(values: Iterable[str], key: bytes, *, purpose: str) -> list[str]:
    """``blind_index`` of each value (one-shot HMACs, for imports of many rows)."""
    if len(key) < 16:
        raise InvalidKey(f"索引密钥至少应为16字节，实为{len(key)}字节")
    if not purpose or "\x00" in purpose:
        raise InvalidKey("索引用途不能为空，也不能含NUL字符")
    prefix = purpose.encode("utf-8") + b"\x00"
    size = BLIND_INDEX_HEX_CHARS // 2
    return [hmac.digest(key, prefix + value.encode("utf-8"), "sha256")[:size].hex() for value in values]


# --- signatures -----------------------------------------------------------------------------------


def generate_signing_key() -> tuple[str, str]:
    """A new Ed25519 key pair as ``(private, public)``: 32 raw bytes each, unpadded base64url."""
    private = Ed25519PrivateKey.generate()
    return _b64url_encode(private.private_bytes_raw()), _b64url_encode(
        private.public_key().public_bytes_raw()
    )


def public_key_of(private_b64: str) -> str:
    """The public key (base64url) belonging to a private key (base64url)."""
    return _b64url_encode(_private_key(private_b64).public_key().public_bytes_raw())


def _private_key(private_b64: str) -> Ed25519PrivateKey:
    try:
        raw = _b64_decode(private_b64)
    except (ValueError, binascii.Error):
        raise InvalidKey("签名私钥不是有效的base64url文本") from None
    if len(raw) != 32:
        raise InvalidKey(f"签名私钥应为32字节，实为{len(raw)}字节")
    return Ed25519PrivateKey.from_private_bytes(raw)


def sign(private_b64: str, message: bytes) -> str:
    """The Ed25519 signature of ``message`` as unpadded base64url; ``InvalidKey`` for a bad key."""
    return _b64url_encode(_private_key(private_b64).sign(message))


def verify(public_b64: str, message: bytes, signature: str) -> bool:
    """True only for a valid signature; a bad signature, key or encoding gives False, never an error."""
    try:
        _public_key(public_b64).verify(_b64_decode(signature), message)
    except (InvalidSignature, ValueError, TypeError, binascii.Error, AttributeError):
        return False
    return True


@functools.lru_cache(maxsize=64)
def _public_key(public_b64: str) -> Ed25519PublicKey:
    """A public key object (a node verifies with the same few keys all day; loading one is not free)."""
    return Ed25519PublicKey.from_public_bytes(_b64_decode(public_b64))


def canonical_json(obj: Any) -> bytes:
    """The bytes to sign or hash for a JSON document: sorted keys, no spaces, UTF-8, no NaN.

    Only JSON types are accepted (``TypeError`` otherwise): converting dates and decimals here
    would make the signed bytes depend on a formatting choice the other side may not share.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )

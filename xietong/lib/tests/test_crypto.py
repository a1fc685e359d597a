"""Tests of ``xietong.lib.crypto``: field encryption, blind indexes, key handling, signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xietong.lib import crypto
from xietong.lib.crypto import DecryptionError, FieldCipher, InvalidKey

KEY1 = bytes(range(32))
KEY2 = bytes(range(32, 64))
CIPHER = FieldCipher(KEY1, key_id="k1")
SIGNING_PRIVATE, SIGNING_PUBLIC = crypto.generate_signing_key()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- field encryption -----------------------------------------------------------------------------


@given(st.text(), st.binary(max_size=32))
def test_round_trip(plaintext: str, aad: bytes) -> None:
    token = CIPHER.encrypt(plaintext, aad=aad)
    assert re.fullmatch(r"v1:k1:[A-Za-z0-9_-]+", token)
    assert CIPHER.decrypt(token, aad=aad) == plaintext


@given(st.text(min_size=1), st.data())
def test_any_flipped_byte_fails(plaintext: str, data: st.DataObject) -> None:
    token = CIPHER.encrypt(plaintext, aad=b"id_number")
    raw = bytearray(_b64url_decode(token.split(":")[2]))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(DecryptionError) as caught:
        CIPHER.decrypt("v1:k1:" + _b64url_encode(bytes(raw)), aad=b"id_number")
    assert str(caught.value) == "密文校验失败：数据被篡改、密钥错误或不属于该字段"


@given(st.text(), st.binary(max_size=16), st.binary(max_size=16))
def test_wrong_aad_fails(plaintext: str, aad: bytes, other: bytes) -> None:
    if aad != other:
        with pytest.raises(DecryptionError):
            CIPHER.decrypt(CIPHER.encrypt(plaintext, aad=aad), aad=other)


def test_token_copied_to_another_field_fails() -> None:
    token = CIPHER.encrypt("13812345678", aad=b"phone")
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(token, aad=b"id_number")


def test_wrong_key_with_same_id_fails() -> None:
    token = CIPHER.encrypt("秘密")
    with pytest.raises(DecryptionError, match="密文校验失败"):
        FieldCipher(KEY2, key_id="k1").decrypt(token)


def test_nonces_are_fresh() -> None:
    assert CIPHER.encrypt("same") != CIPHER.encrypt("same")


@given(st.lists(st.text(), max_size=20), st.binary(max_size=16))
def test_encrypt_many_round_trips_with_a_fresh_nonce_each(values: list[str], aad: bytes) -> None:
    tokens = CIPHER.encrypt_many([*values, "same", "same"], aad=aad)
    assert [CIPHER.decrypt(token, aad=aad) for token in tokens] == [*values, "same", "same"]
    assert len({_b64url_decode(token.split(":")[2])[:12] for token in tokens}) == len(tokens)


def test_rotation() -> None:
    old_token = CIPHER.encrypt("旧数据", aad=b"f")
    rotated = FieldCipher(keys={"k2": KEY2, "k1": KEY1}, current="k2")
    assert rotated.decrypt(old_token, aad=b"f") == "旧数据"
    assert rotated.needs_rotation(old_token)
    new_token = rotated.encrypt("新数据", aad=b"f")
    assert new_token.startswith("v1:k2:")
    assert not rotated.needs_rotation(new_token)
    assert rotated.key_ids == ("k2", "k1")
    with pytest.raises(DecryptionError) as caught:
        CIPHER.decrypt(new_token, aad=b"f")
    assert str(caught.value) == "密文所用的密钥“k2”未配置，无法解密"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "密文格式无效：应为“v1:密钥编号:数据”"),
        ("v2:k1:AAAA", "密文格式无效：应为“v1:密钥编号:数据”"),
        ("v1:k1:AAAA:x", "密文格式无效：应为“v1:密钥编号:数据”"),
        ("v1:k1:***", "密文格式无效：数据部分不是base64url"),
        ("v1:k1:AAAA", "密文格式无效：数据过短"),
    ],
)
def test_malformed_tokens(token: str, message: str) -> None:
    with pytest.raises(DecryptionError) as caught:
        CIPHER.decrypt(token)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "请给出一个密钥（key）或一组密钥（keys），不能都给或都不给"),
        ({"key": b"short"}, "密钥“k1”应为32字节，实为5字节"),
        ({"keys": {}}, "密钥组为空"),
        ({"keys": {"a": KEY1, "b": KEY2}}, "有多个密钥时必须用 current 指明加密所用的密钥"),
        ({"keys": {"a": KEY1}, "current": "b"}, "当前密钥“b”不在密钥组中"),
        ({"keys": {"a:b": KEY1}}, "密钥编号“a:b”无效：只能是1至32个字母、数字、下划线或连字符"),
    ],
)
def test_cipher_configuration_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        FieldCipher(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


# --- blind index and key derivation ---------------------------------------------------------------


@given(st.text(), st.binary(min_size=16, max_size=64), st.binary(min_size=16, max_size=64))
def test_blind_index_deterministic_and_key_dependent(value: str, key: bytes, other_key: bytes) -> None:
    index = crypto.blind_index(value, key, purpose="id_number")
    assert re.fullmatch(r"[0-9a-f]{32}", index)
    assert crypto.blind_index(value, key, purpose="id_number") == index
    if other_key != key:
        assert crypto.blind_index(value, other_key, purpose="id_number") != index
    assert crypto.blind_index(value, key, purpose="phone") != index


def test_blind_index_is_truncated_hmac() -> None:
    expected = hmac.new(KEY1, b"phone\x0013812345678", hashlib.sha256).hexdigest()[:32]
    assert crypto.blind_index("13812345678", KEY1, purpose="phone") == expected


@given(st.lists(st.text(), max_size=20))
def test_blind_indexes_equal_one_by_one(values: list[str]) -> None:
    many = crypto.blind_indexes(values, KEY1, purpose="id_number")
    assert many == [crypto.blind_index(value, KEY1, purpose="id_number") for value in values]


def test_blind_index_rejects_weak_key() -> None:
    with pytest.raises(InvalidKey, match="索引密钥至少应为16字节，实为8字节"):
        crypto.blind_index("x", b"12345678", purpose="p")


def test_derive_key() -> None:
    encryption = crypto.derive_key(KEY1, "field-encryption")
    assert len(encryption) == 32
    assert crypto.derive_key(KEY1, "field-encryption") == encryption
    assert crypto.derive_key(KEY1, "blind-index:id_number") != encryption
    assert crypto.derive_key(KEY2, "field-encryption") != encryption
    with pytest.raises(InvalidKey, match="主密钥至少应为16字节"):
        crypto.derive_key(b"short", "x")


# --- key loading ----------------------------------------------------------------------------------


def test_load_key_formats() -> None:
    assert crypto.load_key(KEY2.hex()) == KEY2
    assert crypto.load_key(KEY2.hex().upper()) == KEY2
    assert crypto.load_key(base64.b64encode(KEY2).decode()) == KEY2
    assert crypto.load_key(base64.urlsafe_b64encode(KEY2).decode().rstrip("=")) == KEY2
    assert crypto.load_key("  " + base64.b64encode(KEY2).decode() + "\n") == KEY2


@given(st.binary(min_size=32, max_size=32))
def test_load_key_standard_and_url_alphabets(key: bytes) -> None:
    assert crypto.load_key(base64.b64encode(key).decode()) == key
    assert crypto.load_key(base64.urlsafe_b64encode(key).decode()) == key
    assert crypto.load_key(key.hex()) == key


def test_generate_key() -> None:
    text = crypto.generate_key()
    assert len(crypto.load_key(text)) == 32
    assert crypto.generate_key() != text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "密钥为空"),
        ("   ", "密钥为空"),
        (
            base64.b64encode(bytes(16)).decode(),
            "密钥应为32字节（base64、base64url或64位十六进制），实为16字节",
        ),
        ("00" * 33, "密钥应为32字节（base64、base64url或64位十六进制），实为49字节"),
        ("这不是密钥", "密钥不是有效的base64、base64url或64位十六进制文本"),
        ("abc*def", "密钥不是有效的base64、base64url或64位十六进制文本"),
    ],
)
def test_load_key_errors(value: str, message: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        crypto.load_key(value)
    assert str(caught.value) == message


# --- signatures -----------------------------------------------------------------------------------


@given(st.binary())
def test_sign_verify_round_trip(message: bytes) -> None:
    signature = crypto.sign(SIGNING_PRIVATE, message)
    assert len(_b64url_decode(signature)) == 64
    assert crypto.verify(SIGNING_PUBLIC, message, signature)
    assert not crypto.verify(SIGNING_PUBLIC, message + b"!", signature)


@given(st.binary(min_size=1), st.data())
def test_modified_message_fails(message: bytes, data: st.DataObject) -> None:
    signature = crypto.sign(SIGNING_PRIVATE, message)
    changed = bytearray(message)
    changed[data.draw(st.integers(0, len(message) - 1))] ^= data.draw(st.integers(1, 255))
    assert not crypto.verify(SIGNING_PUBLIC, bytes(changed), signature)


def test_other_key_fails_and_public_key_of() -> None:
    other_private, other_public = crypto.generate_signing_key()
    signature = crypto.sign(SIGNING_PRIVATE, b"doc")
    assert not crypto.verify(other_public, b"doc", signature)
    assert crypto.public_key_of(other_private) == other_public
    assert len(_b64url_decode(other_public)) == 32


@given(st.text(max_size=60), st.text(max_size=100))
def test_verify_never_raises(public: str, signature: str) -> None:
    assert crypto.verify(public, b"doc", signature) is False
    assert crypto.verify(SIGNING_PUBLIC, b"doc", signature) is False


def test_sign_rejects_bad_private_key() -> None:
    with pytest.raises(InvalidKey, match="签名私钥应为32字节，实为3字节"):
        crypto.sign("AAAA", b"doc")


def test_canonical_json() -> None:
    assert (
        crypto.canonical_json({"b": [1, 2.5, None], "a": "中文"}) == '{"a":"中文","b":[1,2.5,null]}'.encode()
    )
    assert crypto.canonical_json({"b": 1, "a": {"d": 1, "c": 2}}) == crypto.canonical_json(
        {"a": {"c": 2, "d": 1}, "b": 1}
    )
    with pytest.raises(ValueError):
        crypto.canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        crypto.canonical_json({"x": date(2025, 1, 1)})


def test_signed_json_document() -> None:
    document = {"人员": "张三", "编号": 7}
    signature = crypto.sign(SIGNING_PRIVATE, crypto.canonical_json(document))
    reordered = {"编号": 7, "人员": "张三"}
    assert crypto.verify(SIGNING_PUBLIC, crypto.canonical_json(reordered), signature)
    assert not crypto.verify(SIGNING_PUBLIC, crypto.canonical_json({**document, "编号": 8}), signature)

"""Sealed files (``xietong.lib.sealed``): what is written comes back only under the same key and
only whole: a wrong key, a changed byte, a dropped, reordered or added chunk are all refused."""

from __future__ import annotations

import io
import os

import pytest

from xietong.lib import crypto, sealed

KEY = crypto.load_key(crypto.generate_key())


def seal(data: bytes, key: bytes = KEY, pieces: int = 3) -> bytes:
    out = io.BytesIO()
    writer = sealed.SealWriter(out, key)
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        writer.write(data[start : start + step])
    writer.close()
    return out.getvalue()


def unseal(blob: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    sealed.unseal(io.BufferedReader(io.BytesIO(blob)), out, key)
    return out.getvalue()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sealed, "CHUNK_BYTES", 64)
    return 64


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 1000])
def test_round_trip_over_chunk_boundaries(small_chunks: int, size: int) -> None:
    data = os.urandom(size)
    blob = seal(data)
    assert unseal(blob) == data
    assert data[:16] not in blob or size < 16


def test_a_wrong_key_is_refused() -> None:
    blob = seal(b"database dump" * 100)
    with pytest.raises(sealed.SealError):
        unseal(blob, crypto.load_key(crypto.generate_key()))


def test_a_changed_byte_is_refused(small_chunks: int) -> None:
    blob = bytearray(seal(os.urandom(300)))
    blob[len(blob) // 2] ^= 1
    with pytest.raises(sealed.SealError):
        unseal(bytes(blob))


def frame(blob: bytes) -> tuple[bytes, list[bytes]]:
    """The header and the chunks (length prefix included) of a sealed file."""
    header_size = len(sealed.MAGIC) + sealed.STREAM_ID_BYTES
    header, rest, chunks = blob[:header_size], blob[header_size:], []
    while rest:
        length = int.from_bytes(rest[:4], "big")
        size = 4 + length + sealed.TAG_BYTES
        chunks.append(rest[:size])
        rest = rest[size:]
    return header, chunks


def test_dropped_reordered_or_added_chunks_are_refused(small_chunks: int) -> None:
    blob = seal(os.urandom(64 * 3 + 10))
    header, chunks = frame(blob)
    assert len(chunks) == 4
    assert unseal(header + b"".join(chunks))
    for changed in (
        chunks[:-1],  # cut off after a full chunk: no chunk says it is the last
        [chunks[1], chunks[0], *chunks[2:]],
        [*chunks, chunks[-1]],
        [chunks[0], chunks[-1]],
    ):
        with pytest.raises(sealed.SealError):
            unseal(header + b"".join(changed))
    with pytest.raises(sealed.SealError):
        unseal(blob[:-5])  # cut off inside the last chunk
    with pytest.raises(sealed.SealError):
        unseal(blob + b"x")


def test_not_a_sealed_file(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(sealed.SealError):
        unseal(b"PK\x03\x04 a zip file")
    path = os.path.join(tmp_path, "archive")
    with open(path, "wb") as handle:
        handle.write(seal(b"x"))
    assert sealed.is_sealed(path)
    assert not sealed.is_sealed(__file__)

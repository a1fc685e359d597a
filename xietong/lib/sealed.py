"""Sealed files: a stream of any length encrypted and authenticated with one 32-byte key.

Backups are written through ``SealWriter`` and read back through ``unseal``. The format is the STREAM
construction over AES-256-GCM: a header (magic, a random 8-byte stream id), then chunks of at most
``CHUNK_BYTES`` each ``4-byte length ‖ ciphertext ‖ tag``. Each chunk's nonce is the stream id and
its counter; the header, the counter and a "last chunk" flag are bound in as associated data, so a
wrong key, a changed byte, reordered, dropped or appended chunks and a cut-off file are all refused
(``SealError``). The key used is derived from the given key with HKDF, for this purpose only.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import crypto

MAGIC = b"XTSEAL1\n"
STREAM_ID_BYTES = 8
CHUNK_BYTES = 1 << 20
TAG_BYTES = 16
_LENGTH = struct.Struct(">I")
_PURPOSE = "sealed-file"


class SealError(ValueError):
    """A sealed file that cannot be opened: wrong key, changed, cut off or not a sealed file."""


def _aad(header: bytes, counter: int, *, last: bool) -> bytes:
    return header + struct.pack(">QB", counter, 1 if last else 0)


def _nonce(stream_id: bytes, counter: int) -> bytes:
    return stream_id + struct.pack(">I", counter)


def is_sealed(path: os.PathLike[str] | str) -> bool:
    """Whether the file at ``path`` starts like a sealed file (no key needed)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class SealWriter:
    """A write-only binary file object that seals what is written into ``target``; ``close()``
    writes the last chunk (it must be called, or the file is refused as cut off)."""

    def __init__(self, target: BinaryIO, key: bytes) -> None:
        self._target = target
        self._stream_id = os.urandom(STREAM_ID_BYTES)
        self._header = MAGIC + self._stream_id
        self._aes = AESGCM(crypto.derive_key(key, _PURPOSE))
        self._buffer = bytearray()
        self._counter = 0
        self.closed = False
        target.write(self._header)

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("sealed file already closed")
        self._buffer += data
        # Keep at least one byte back, so the last chunk (flagged as such) is never empty by mistake.
        while len(self._buffer) > CHUNK_BYTES:
            self._chunk(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def _chunk(self, plain: bytes, *, last: bool) -> None:
        if self._counter >= 2**32 - 1:
            raise ValueError("sealed file too large")
        sealed = self._aes.encrypt(
            _nonce(self._stream_id, self._counter), plain, _aad(self._header, self._counter, last=last)
        )
        self._target.write(_LENGTH.pack(len(plain)) + sealed)
        self._counter += 1

    def flush(self) -> None:
        self._target.flush()

    def close(self) -> None:
        if not self.closed:
            self._chunk(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True
            self._target.flush()

    def __enter__(self) -> SealWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise SealError("sealed file cut off")
    return data


def unseal(source: BinaryIO, target: BinaryIO, key: bytes) -> int:
    """Open a sealed stream from ``source`` into ``target``; returns the number of plain bytes.
    ``SealError`` when the key is wrong or the file was changed or cut off; what was written to
    ``target`` by then must be thrown away by the caller."""
    header = source.read(len(MAGIC) + STREAM_ID_BYTES)
    if len(header) != len(MAGIC) + STREAM_ID_BYTES or not header.startswith(MAGIC):
        raise SealError("not a sealed file")
    stream_id = header[len(MAGIC) :]
    aes = AESGCM(crypto.derive_key(key, _PURPOSE))
    counter = total = 0
    while True:
        prefix = source.read(_LENGTH.size)
        if len(prefix) != _LENGTH.size:
            raise SealError("sealed file cut off")
        (length,) = _LENGTH.unpack(prefix)
        if length > CHUNK_BYTES:
            raise SealError("chunk too long")
        sealed = _read_exactly(source, length + TAG_BYTES)
        # Only the last chunk may be short; a full one is the last only if its flag says so.
        plain, last = _open_chunk(
            aes, _nonce(stream_id, counter), header, counter, sealed, full=length == CHUNK_BYTES
        )
        target.write(plain)
        total += len(plain)
        counter += 1
        if last:
            break
    if source.read(1):
        raise SealError("data after the last chunk")
    return total


def _open_chunk(
    aes: AESGCM, nonce: bytes, header: bytes, counter: int, sealed: bytes, *, full: bool
) -> tuple[bytes, bool]:
    """Decrypt one chunk; returns its plain text and whether it is flagged as the last."""
    for last in (False, True) if full else (True,):
        try:
            return aes.decrypt(nonce, sealed, _aad(header, counter, last=last)), last
        except InvalidTag:
            continue
    raise SealError("wrong key, or the sealed file was changed")

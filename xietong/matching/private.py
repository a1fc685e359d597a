"""Private mode (数据可用不可见): compare rosters through keyed encodings instead of personal data.

``encode()`` turns a roster into one row per record with
- ``id_hmac``: HMAC-SHA256 of the normalised, valid ID number (exact pass);
- ``id_bloom``, ``name_bloom``, ``birth_bloom``: Bloom-filter encodings (cryptographic long-term
  keys, Schnell et al.) of the ID's positional digits, the name's pinyin bigrams and the birth date's
  parts, so that near-equal values stay near (a mistyped ID digit, a traditional/simplified name);
- ``birth_key``, ``name_key``, ``gender_key``, ``phone_key``: HMACs for blocking and equality.

All hashes are keyed with a secret both regions share (``--key-file``) and no one else holds; the
file holds no ID number, name or phone in any form. ``compare()`` runs the same passes as the plain
engine on these columns, with Dice similarity of the Bloom filters in place of string comparison.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xietong.lib import crypto

BLOOM_BITS = 1024
HASHES = 15
_PURPOSES = ("id", "name", "birth", "block")


def load_key(path: Path) -> bytes:
    """The shared secret from a key file (base64/hex of 32 bytes, as ``crypto.load_key`` reads)."""
    from .errors import RosterError

    try:
        return crypto.load_key(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError) as exc:
        raise RosterError(path, f"密钥文件无法读取：{exc}") from exc


def _keys(secret: bytes) -> dict[str, bytes]:
    return {purpose: crypto.derive_key(secret, f"match:{purpose}") for purpose in _PURPOSES}


def _hmac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def bloom(tokens: list[str], key: bytes) -> bytes:
    """A Bloom filter of ``tokens``: ``BLOOM_BITS`` bits as bytes (double hashing with HMAC)."""
    mask = 0
    for token in tokens:
        mask |= _token_mask(key, token)
    return mask.to_bytes(BLOOM_BITS // 8, "big")


@functools.lru_cache(maxsize=1 << 16)
def _token_mask(key: bytes, token: str) -> int:
    """The bits one token sets, as an integer (tokens repeat a lot: ID digit positions, bigrams)."""
    digest = hmac.new(key, token.encode("utf-8"), hashlib.sha256).digest()
    h1 = int.from_bytes(digest[:8], "big")
    h2 = int.from_bytes(digest[8:16], "big") | 1
    mask = 0
    for i in range(HASHES):
        mask |= 1 << ((h1 + i * h2) % BLOOM_BITS)
    return mask


def _bigrams(text: str) -> list[str]:
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def encode(con: Any, table: str, secret: bytes) -> Any:
    """Encode a normalised roster table (``normalize.normalize_table`` output) into an Arrow table."""
    import pyarrow as pa

    keys = _keys(secret)
    rows = con.execute(
        f"SELECT record_id, id_valid, id_any, name_key, birth, gender, phone FROM {table}"
    ).fetchall()
    out: dict[str, list[Any]] = {
        name: []
        for name in (
            "record_id", "id_hmac", "id_bloom", "name_bloom", "birth_bloom",
            "birth_key", "name_key", "gender_key", "phone_key",
        )
    }  # fmt: skip
    for record_id, id_valid, id_any, name_key, birth, gender, phone in rows:
        out["record_id"].append(record_id)
        out["id_hmac"].append(_hmac(keys["id"], id_valid) if id_valid else None)
        out["id_bloom"].append(
            bloom([f"{i}:{c}" for i, c in enumerate(id_any)], keys["id"]) if id_any else None
        )
        out["name_bloom"].append(bloom(_bigrams(name_key), keys["name"]) if name_key else None)
        birth_text = birth.isoformat() if birth else None
        out["birth_bloom"].append(
            bloom([f"y{birth.year}", f"m{birth.month}", f"d{birth.day}"], keys["birth"]) if birth else None
        )
        out["birth_key"].append(_hmac(keys["block"], f"b:{birth_text}") if birth_text else None)
        out["name_key"].append(_hmac(keys["block"], f"n:{name_key}") if name_key else None)
        out["gender_key"].append(_hmac(keys["block"], f"g:{gender}") if gender else None)
        out["phone_key"].append(_hmac(keys["block"], f"p:{phone}") if phone else None)
    return pa.table(out)


ENCODED_COLUMNS = (
    "record_id", "id_hmac", "id_bloom", "name_bloom", "birth_bloom", "birth_key", "name_key", "gender_key", "phone_key",
)  # fmt: skip


def key_fingerprint(secret: bytes) -> str:
    """A public fingerprint of the shared key, stored in encoded files so that mismatched keys are caught."""
    return _hmac(crypto.derive_key(secret, "match:fingerprint"), "xietong")[:16]


def file_fingerprint(path: Path) -> str | None:
    """The key fingerprint an encoded file was written with (None if absent or unreadable)."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # unreadable files are reported by load_encoded
        return None
    value = metadata.get(b"xietong.key_fingerprint")
    return value.decode() if value else None


def load_encoded(con: Any, paths: Path | Sequence[Path], table: str) -> int:
    """Name the encoded roster in ``paths`` (Parquet written by ``encode_file``; several files are one
    roster) ``table``, a view over the files, so the rows are read where the engine uses them and not
    held twice; returns the row count."""
    import duckdb

    from .errors import RosterError

    files = [paths] if isinstance(paths, Path) else list(paths)
    for path in files:
        if not path.exists():
            raise RosterError(path, "文件不存在")
    try:
        con.read_parquet([str(path) for path in files]).create_view(table, replace=True)
        columns = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    except duckdb.Error as exc:
        raise RosterError(
            files[0], f"加密编码文件无法读取（应为 xietong match-encode 生成的Parquet）：{exc}"
        ) from exc
    missing = [c for c in ENCODED_COLUMNS if c not in columns]
    if missing:
        raise RosterError(
            files[0], f"不是加密编码文件：缺少列{'、'.join(missing)}（请先用 xietong match-encode 编码）"
        )
    row = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
    return int(row[0]) if row else 0


def encode_file(roster_path: Path, out: Path, secret: bytes, mapping: dict[str, str]) -> int:
    """Read, normalise and encode a roster into a Parquet file (written atomically). Returns rows."""
    import os

    import pyarrow.parquet as pq

    from . import duck, normalize, roster

    con = duck.connect()
    with roster.make_workdir() as workdir:
        count = roster.load(con, roster_path, "raw", mapping, Path(workdir))
        normalize.normalize_table(con, "raw", "norm")
        table = encode(con, "norm", secret)
    con.close()
    table = table.replace_schema_metadata({"xietong.key_fingerprint": key_fingerprint(secret)})
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return count

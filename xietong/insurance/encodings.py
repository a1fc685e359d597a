"""Private-mode encodings of stored rosters, as certification messages carry them (ADR 009, 018).

A roster's entries are normalised and encoded by the comparison engine (``xietong.matching``) with
the region group's key, so a message holds keyed hashes and Bloom filters only: no name, no ID number.
Each record is named by the entry's row id (meaningless outside this node). A roster is encoded once,
when it is imported, into a Parquet file kept beside it with the key's fingerprint (ADR 018); a run
sends that file (``run_file``), and a partner checks what it receives with ``check_table``.
``compare`` runs the engine's private mode on encoded files, read in place (a node's rosters are
never loaded into the worker's memory to be written out again), and returns its pairs, including
the review band.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xietong.core import pii
from xietong.matching import engine, normalize, private
from xietong.matching.columns import STANDARD_COLUMNS

from .models import RosterEntry

if TYPE_CHECKING:
    from django.db.models.fields.files import FieldFile

    from .models import BenefitRoster

BLOOM_COLUMNS = ("id_bloom", "name_bloom", "birth_bloom")
HASH_COLUMNS = ("id_hmac", "birth_key", "name_key", "gender_key", "phone_key")
_HEX = re.compile(r"[0-9a-f]{32}")


def key_fingerprint() -> str:
    """The fingerprint of this node's group key; partners refuse encodings made with another key."""
    return private.key_fingerprint(pii.group_key())


def encode_entries(entries: Iterable[RosterEntry]) -> Any:
    """The encoded Arrow table of ``entries`` (``record_id`` is the entry's row id)."""
    columns: dict[str, list[Any]] = {
        "record_id": [],
        "name": [],
        "id_number": [],
        "birth_date": [],
        "gender": [],
    }
    for entry in entries:
        number = pii.decrypt(entry.id_number_cipher, field="id_number") if entry.id_number_cipher else None
        columns["record_id"].append(str(entry.pk))
        columns["name"].append(entry.name or None)
        columns["id_number"].append(number)
        columns["birth_date"].append(entry.birth_date.isoformat() if entry.birth_date else None)
        columns["gender"].append(entry.gender or None)
    return encode_columns(columns)


def encode_columns(columns: dict[str, list[Any]]) -> Any:
    """The encoded Arrow table of a roster given as columns in clear (``record_id``, ``name``,
    ``id_number``, ``birth_date`` as ISO text, ``gender``): what the import encodes from the rows it
    has just read, without decrypting them again."""
    import pyarrow as pa

    from xietong.matching import duck

    size = len(columns["record_id"])
    table = {
        column: pa.array(
            [None if v is None else str(v) for v in columns[column]] if column in columns else [None] * size,
            pa.string(),
        )
        for column in STANDARD_COLUMNS
    }
    table["line"] = pa.array(range(1, size + 1), pa.int64())
    con = duck.connect()
    try:
        con.register("raw_arrow", pa.table(table))
        con.execute("CREATE TABLE raw AS SELECT * FROM raw_arrow")
        normalize.normalize_table(con, "raw", "norm")
        return private.encode(con, "norm", pii.group_key())
    finally:
        con.close()


def write_table(table: Any, path: Path) -> Path:
    """Write an encoded table as Parquet (the form rosters are kept and sent in)."""
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd")
    return path


def read_table(source: Any) -> Any:
    """A table from a Parquet file (a path or an open binary file); ``EncodingError`` when the file
    is not one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(source)
    except (pa.ArrowException, OSError) as exc:
        raise EncodingError(f"文件不是可读的 Parquet 文件（{exc}）") from None


def roster_file(roster: BenefitRoster) -> FieldFile:
    """The stored encodings of ``roster`` under the current group key: made (and stored) again when
    there are none or they were made with another key (``ImproperlyConfigured`` without one)."""
    if not (roster.encodings and roster.encodings_key == key_fingerprint()):
        from .actions.certification import roster_encode

        roster_encode(roster=roster)
    return roster.encodings


@contextlib.contextmanager
def local_paths(files: Sequence[FieldFile]) -> Iterator[list[Path]]:
    """Paths on this machine of stored files, for the engine to read in place: the files themselves
    where the storage is a folder, temporary copies (removed afterwards) where it is not."""
    with tempfile.TemporaryDirectory(prefix="xietong-enc-") as folder:
        paths = []
        for number, stored in enumerate(files):
            try:
                local = Path(stored.storage.path(str(stored.name)))
            except NotImplementedError:  # object storage: no local path
                local = None
            if local is None or not local.is_file():  # (a storage in memory names a path it lacks)
                local = Path(folder) / f"{number}.parquet"
                with stored.open("rb") as source, local.open("wb") as target:
                    shutil.copyfileobj(source, target, 1 << 20)
            paths.append(local)
        yield paths


@contextlib.contextmanager
def run_file(roster: BenefitRoster) -> Iterator[Path]:
    """What a run of ``roster`` sends: its stored encodings as they are, or, when entries are
    suspended, a copy without them (left out by reference in DuckDB: nothing is encoded again, the
    rows are not loaded into this process)."""
    with local_paths([roster_file(roster)]) as (stored,):
        suspended = [
            str(pk) for pk in roster.entries.filter(suspended_at__isnull=False).values_list("pk", flat=True)
        ]
        if not suspended:
            yield stored
            return
        import pyarrow as pa

        from xietong.matching import duck

        with tempfile.TemporaryDirectory(prefix="xietong-run-") as folder:
            out = Path(folder) / stored.name
            con = duck.connect()
            try:
                con.register("suspended", pa.table({"ref": pa.array(suspended, pa.string())}))
                con.read_parquet(str(stored)).create_view("stored")
                kept = con.sql("SELECT * FROM stored WHERE record_id NOT IN (SELECT ref FROM suspended)")
                kept.write_parquet(str(out), compression="zstd")
            finally:
                con.close()
            yield out


def rows_in(path: Path) -> int:
    """How many records an encodings file holds (from its footer: nothing is read)."""
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def current_roster_files(kind: str) -> list[FieldFile]:
    """The stored encodings of this node's current rosters of ``kind`` (``roster_file`` of each):
    what a partner's request is compared with, read in place by the engine."""
    from xietong.core.choices import JobStatus

    from .models import BenefitRoster

    rosters = BenefitRoster.objects.filter(kind=kind, status=JobStatus.DONE, superseded=False).order_by("pk")
    return [roster_file(roster) for roster in rosters]


def to_wire(table: Any) -> list[dict[str, Any]]:
    """The records of an encoded table as JSON objects (Bloom filters in base64)."""
    records = []
    for row in table.to_pylist():
        record = {"ref": row["record_id"]}
        for column in HASH_COLUMNS:
            record[column] = row[column]
        for column in BLOOM_COLUMNS:
            record[column] = base64.b64encode(row[column]).decode() if row[column] is not None else None
        records.append(record)
    return records


class EncodingError(ValueError):
    """Records that are not private-mode encodings; the message says which and why, in Chinese."""


def first_row(mask: Any) -> int | None:
    """The 1-based row number of the first true (or null) value of ``mask`` (None if none): where a
    check made as a whole column first fails."""
    import pyarrow.compute as pc

    index = pc.index(pc.fill_null(mask, True), True).as_py()
    return None if index < 0 else index + 1


def check_table(table: Any) -> Any:
    """The encoded table a partner sent, every column checked as a whole (``EncodingError`` naming
    the first bad row): the engine's columns, refs present and unique, keyed hashes of 32 hex digits,
    Bloom filters of ``BLOOM_BITS`` bits. The checks ``from_wire`` makes on JSON records."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not table.num_rows:
        raise EncodingError("编码文件没有记录")
    missing = [column for column in private.ENCODED_COLUMNS if column not in table.column_names]
    if missing:
        raise EncodingError(f"编码文件缺少列 {'、'.join(missing)}")
    size = private.BLOOM_BITS // 8
    columns: dict[str, Any] = {}
    try:
        refs = table["record_id"].cast(pa.string())
        for column in HASH_COLUMNS:
            columns[column] = table[column].cast(pa.string())
        for column in BLOOM_COLUMNS:
            columns[column] = table[column].cast(pa.binary())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise EncodingError(f"编码文件的列类型不对：{exc}") from None
    bad = first_row(pc.or_(pc.is_null(refs), pc.equal(pc.utf8_length(refs), 0)))
    if bad:
        raise EncodingError(f"第{bad}条记录缺少 ref")
    if pc.count_distinct(refs).as_py() != table.num_rows:
        counts = pc.value_counts(refs)
        twice = counts.filter(pc.greater(counts.field("counts"), 1))[0]["values"].as_py()
        raise EncodingError(f"第{first_row(pc.equal(refs, twice))}条以后的记录 ref 重复")
    for column in HASH_COLUMNS:
        values = columns[column]
        bad = first_row(
            pc.and_kleene(pc.is_valid(values), pc.invert(pc.match_substring_regex(values, "^[0-9a-f]{32}$")))
        )
        if bad:
            raise EncodingError(f"第{bad}条记录的 {column} 不是编码值（应为32位十六进制）")
    for column in BLOOM_COLUMNS:
        values = columns[column]
        bad = first_row(pc.and_kleene(pc.is_valid(values), pc.not_equal(pc.binary_length(values), size)))
        if bad:
            raise EncodingError(f"第{bad}条记录的 {column} 长度应为{size}字节")
    return pa.table({"record_id": refs, **{c: columns[c] for c in private.ENCODED_COLUMNS[1:]}})


def from_wire(records: Any) -> Any:
    """An encoded Arrow table from message records, every value checked (``EncodingError``)."""
    import pyarrow as pa

    if not isinstance(records, list) or not records:
        raise EncodingError("records 应为非空列表")
    out: dict[str, list[Any]] = {column: [] for column in private.ENCODED_COLUMNS}
    seen: set[str] = set()
    size = private.BLOOM_BITS // 8
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not isinstance(record.get("ref"), str) or not record["ref"]:
            raise EncodingError(f"第{number}条记录缺少 ref")
        if record["ref"] in seen:
            raise EncodingError(f"第{number}条记录的 ref 重复")
        seen.add(record["ref"])
        out["record_id"].append(record["ref"])
        for column in HASH_COLUMNS:
            value = record.get(column)
            if value is not None and not (isinstance(value, str) and _HEX.fullmatch(value)):
                raise EncodingError(f"第{number}条记录的 {column} 不是编码值（应为32位十六进制）")
            out[column].append(value)
        for column in BLOOM_COLUMNS:
            value = record.get(column)
            if value is None:
                out[column].append(None)
                continue
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise EncodingError(f"第{number}条记录的 {column} 不是 base64") from None
            if len(data) != size:
                raise EncodingError(f"第{number}条记录的 {column} 长度应为{size}字节")
            out[column].append(data)
    return pa.table(out)


@dataclass(frozen=True)
class Pair:
    """One of our records (``left``) that matches a record of the other table (``right``)."""

    left: str
    right: str
    score: float
    reason: str


def checked_file(path: Path, folder: Path) -> tuple[int, Path]:
    """A received encodings file checked as a whole (``check_table``): its number of records and the
    file to keep, ``path`` itself when its columns already have the engine's types, else the checked
    table written into ``folder``."""
    import pyarrow.parquet as pq

    table = check_table(read_table(path))
    if table.schema.equals(pq.read_schema(path).remove_metadata()):
        return table.num_rows, path
    return table.num_rows, write_table(table, folder / path.name)


def compare(left: Path, right: Sequence[Path]) -> list[Pair]:
    """Pairs of the engine's private mode between the encodings file ``left`` and the files ``right``
    (read in place, as one roster): matches and the review band below the threshold."""
    if not right or not rows_in(left) or not sum(rows_in(path) for path in right):
        return []
    pairs, review, _summary = engine.run(
        left, list(right), mapping_left={}, mapping_right={}, options=engine.MatchOptions(private=True)
    )
    return [
        Pair(str(row["left_id"]), str(row["right_id"]), float(row["score"]), str(row["reason"] or ""))
        for table in (pairs, review)
        for row in table.to_pylist()
    ]

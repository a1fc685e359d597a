"""Reading rosters (CSV in UTF-8 or GBK, XLSX, Parquet) into DuckDB under the standard column names.

Every problem is a ``RosterError`` naming the file, the line and what is wrong; nothing is written
until both rosters have been read.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from pathlib import Path
from typing import Any

from xietong.lib import idnumber

from .columns import STANDARD_COLUMNS, resolve_columns
from .errors import RosterError

_CHUNK = 1 << 20


def _detect_encoding(path: Path) -> str:
    """``utf-8-sig`` or ``gb18030``; a file that switches encoding part-way is refused, naming the line.

    Reads in large chunks (a million-row roster is checked in well under a second); a GBK file is
    one whose first non-ASCII bytes are already not UTF-8.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed = 0
    non_ascii_seen = False
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK * 4):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                before = chunk[: exc.start]
                if not non_ascii_seen and before.isascii():
                    return _check_gb18030(path)
                line = _line_at(path, consumed + exc.start)
                raise RosterError(
                    path, "文件混用了多种字符编码（此行不是UTF-8，而前面的行是）", line=line
                ) from None
            non_ascii_seen = non_ascii_seen or not chunk.isascii()
            consumed += len(chunk)
    return "utf-8-sig"


def _line_at(path: Path, offset: int) -> int:
    """The 1-based line number of a byte offset."""
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n") + 1


def _check_gb18030(path: Path) -> str:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("gb18030")
            except UnicodeDecodeError:
                raise RosterError(path, "无法识别字符编码（既不是UTF-8也不是GBK）", line=number) from None
    return "gb18030"


def _utf8_copy(path: Path, encoding: str, workdir: Path) -> Path:
    """DuckDB reads UTF-8 only: transcode a GBK file into the work folder."""
    if encoding == "utf-8-sig":
        return path
    target = workdir / (path.stem + ".utf8.csv")
    with (
        path.open("r", encoding=encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(_CHUNK):
            dst.write(chunk)
    return target


def _csv_headers(path: Path, encoding: str) -> list[str]:
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        headers = next(reader, None)
    if headers is None or not any(cell.strip() for cell in headers):
        raise RosterError(path, "文件为空")
    if any(idnumber.is_valid(cell) for cell in headers) or all(
        cell.strip().isdigit() for cell in headers if cell.strip()
    ):
        raise RosterError(path, "第1行看起来是数据而不是表头；名册的第1行应为列名", line=1)
    return headers


def _xlsx_to_csv(path: Path, workdir: Path) -> Path:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise RosterError(path, f"不是有效的XLSX文件：{exc}") from exc
    target = workdir / (path.stem + ".xlsx.csv")
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in book.active.iter_rows(values_only=True):
            writer.writerow(["" if value is None else str(value) for value in row])
    book.close()
    return target


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load(con: Any, path: Path, table: str, mapping: dict[str, str], workdir: Path) -> int:
    """Read one roster into DuckDB table ``table`` with the standard columns (all text) plus ``line``.

    Returns the number of rows. Raises ``RosterError`` for a missing, empty, header-less,
    unmappable, mixed-encoding or truncated file, or for duplicate record ids.
    """
    import duckdb

    if not path.exists():
        raise RosterError(path, "文件不存在")
    if path.stat().st_size == 0:
        raise RosterError(path, "文件为空")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            source = f"read_parquet({_sql_str(str(path))})"
            headers = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        except duckdb.Error as exc:
            raise RosterError(path, f"Parquet文件无法读取（可能已截断或损坏）：{exc}") from exc
        first_line = 1
    else:
        if suffix in {".xlsx", ".xlsm"}:
            csv_path = _xlsx_to_csv(path, workdir)
            encoding = "utf-8-sig"
        elif suffix in {".csv", ".txt", ".tsv"}:
            encoding = _detect_encoding(path)
            csv_path = _utf8_copy(path, encoding, workdir)
            encoding = "utf-8-sig"
        else:
            raise RosterError(path, f"不支持的文件类型“{suffix or '无扩展名'}”（应为CSV、XLSX或Parquet）")
        headers = _csv_headers(csv_path, encoding)
        source = (
            f"read_csv({_sql_str(str(csv_path))}, header=true, all_varchar=true, delim=',', quote='\"', "
            "escape='\"', null_padding=true, strict_mode=false)"
        )
        first_line = 2
    columns = resolve_columns(path, headers, mapping)
    select = ", ".join(
        f"NULLIF(trim(CAST({_quote(columns[c])} AS VARCHAR)), '') AS {c}"
        if c in columns
        else f"NULL::VARCHAR AS {c}"
        for c in STANDARD_COLUMNS
    )
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT {select}, "
            f"(row_number() OVER () + {first_line - 1})::BIGINT AS line FROM {source}"
        )
    except duckdb.Error as exc:
        raise RosterError(path, f"文件无法解析：{exc}") from exc
    count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    if count == 0:
        raise RosterError(path, "文件只有表头，没有数据")
    missing = con.execute(f"SELECT min(line) FROM {table} WHERE record_id IS NULL").fetchall()[0][0]
    if missing is not None:
        raise RosterError(path, "记录号为空", line=int(missing))
    duplicate = con.execute(
        f"SELECT record_id, line FROM (SELECT record_id, line, row_number() OVER (PARTITION BY record_id ORDER BY line) AS n "
        f"FROM {table}) WHERE n = 2 ORDER BY line LIMIT 1"
    ).fetchall()
    if duplicate:
        raise RosterError(path, f"记录号“{duplicate[0][0]}”重复", line=int(duplicate[0][1]))
    return int(count)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def make_workdir() -> tempfile.TemporaryDirectory[str]:
    """A scratch folder for transcoded copies; removed when the run ends."""
    return tempfile.TemporaryDirectory(prefix="xietong-match-")

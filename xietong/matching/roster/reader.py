"""One reader for every roster file: the comparison engine's rosters, benefit rosters and member rolls.

``read`` takes a file (a path, or its bytes and name) in CSV (UTF-8 with or without BOM, GB18030/GBK;
quoted or plain), XLSX or Parquet and gives a ``RosterTable``: the headers as written, an Arrow table
of one text column per header (cells as written, "" where a row is short), each row's line in the
file, and, when a ``HeaderMap`` is given, which header feeds each standard column. Blank rows are
left out. Every problem is a ``RosterError`` in Chinese naming the file and, where known, the line.

Two roads give the same table (a test reads files both ways and compares): a plain UTF-8 CSV (no
quotes, blank lines, lone carriage returns or U+001C–U+001F, every line as wide as the header) goes
through Arrow's multi-threaded CSV reader, a tenth of the ``csv`` module's time at a million rows
(ADR 010); anything else through ``csv`` or openpyxl, row by row. A GBK file is transcoded first and
then takes the same two roads. No Django here: the engine's command line reads through this too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xietong.lib import idnumber

from ..errors import RosterError

CSV_DELIMITERS = {".csv": ",", ".txt": ",", ".tsv": "\t"}
XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet",)
FORMATS = (*CSV_DELIMITERS, *XLSX_SUFFIXES, *PARQUET_SUFFIXES)

_BOM = b"\xef\xbb\xbf"


def header_key(text: str) -> str:
    """How headers are compared by default: without surrounding white space, a BOM, or case."""
    return text.strip().lstrip("\ufeff").casefold()


@dataclass(frozen=True)
class HeaderMap:
    """Which headers feed which standard column: ``known`` lists, per column, the headers recognised
    (the first is the template's own and is named when the column is missing); ``required`` columns
    must be found; ``key`` says how a header and a known name are compared; ``hint`` ends the
    message about a missing column. Each caller keeps its own (member rolls in membership, the
    engine's in ``matching.columns``)."""

    known: Mapping[str, Sequence[str]]
    required: Sequence[str] = ()
    key: Callable[[str], str] = header_key
    hint: str = ""

    def resolve(self, origin: Path | str, headers: list[str], line: int) -> dict[str, int]:
        """Standard column → index of the header that feeds it; ``RosterError`` when a required
        column is missing."""
        keys = [self.key(header) for header in headers]
        columns: dict[str, int] = {}
        for column, options in self.known.items():
            for option in options:
                wanted = self.key(option)
                if wanted in keys:
                    columns[column] = keys.index(wanted)
                    break
        missing = [self.known[column][0] for column in self.required if column not in columns]
        if missing:
            shown = "、".join(header for header in headers if header.strip()) or "空"
            raise RosterError(
                origin, f"表头缺少必填列：{'、'.join(missing)}（文件表头为：{shown}）{self.hint}", line=line
            )
        return columns


@dataclass
class RosterTable:
    """A read file: its headers as written (trimmed), its data rows as an Arrow table of one text
    column per header named "0", "1", … (columns, not one object per row, so that a million rows are
    checked column by column), each row's line in the file (1 = the first line; in Parquet, the row
    number), and the columns a ``HeaderMap`` found (empty without one)."""

    name: str
    headers: list[str]
    lines: list[int]
    table: Any
    columns: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def values(self, column: str) -> Any:
        """Every row's cell of a standard column as an Arrow array, with Unicode white space trimmed
        ("" where the file has no such column). Python's ``strip`` also takes the ASCII separators
        U+001C–U+001F, Arrow's trim does not: a caller checking whole columns must treat a cell
        holding one as unusual."""
        import pyarrow as pa
        import pyarrow.compute as pc

        index = self.columns.get(column)
        if index is None:
            return pa.repeat("", len(self))
        return pc.utf8_trim_whitespace(self.table.column(index).combine_chunks())

    def cells(self, positions: list[int]) -> list[list[str]]:
        """The rows at these positions (0-based among data rows) as written, one text per header."""
        picked = self.table.take(positions).to_pydict()
        return [list(row) for row in zip(*picked.values(), strict=True)] if picked else []


def read(
    source: Path | str | bytes,
    *,
    name: str | None = None,
    headers: HeaderMap | None = None,
    max_rows: int | None = None,
    formats: Sequence[str] = FORMATS,
) -> RosterTable:
    """Read a roster file (a path, or its bytes with ``name`` giving its type) into a ``RosterTable``.

    Refuses, with a ``RosterError``: a missing, empty or header-only file, a file of a type not in
    ``formats``, one whose first line holds data instead of headers, one that is neither UTF-8 nor
    GBK or mixes the two (naming the line), a broken XLSX or Parquet file, a missing required
    column, and more than ``max_rows`` data rows.
    """
    if isinstance(source, bytes):
        origin: Path | str = name or "名册"
        data = source
    else:
        origin = Path(source)
        if not origin.exists():
            raise RosterError(origin, "文件不存在")
        data = origin.read_bytes()
    suffix = Path(name or origin).suffix.lower()
    if suffix not in formats:
        allowed = "、".join(formats)
        raise RosterError(origin, f"不支持的文件类型“{suffix or '无扩展名'}”（应为{allowed}文件）")
    if not data or data.isspace():
        raise RosterError(origin, "文件为空")
    reading = _Reading(origin, headers, max_rows)
    if suffix in PARQUET_SUFFIXES:
        return reading.parquet(data)
    if suffix in XLSX_SUFFIXES:
        return reading.rows(_xlsx_rows(origin, data))
    delimiter = CSV_DELIMITERS[suffix]
    plain = _arrow_csv(reading, data.removeprefix(_BOM), delimiter)
    if plain is not None:
        return plain
    text, utf8 = _decode(origin, data)
    if not utf8:  # GBK: the same two roads once transcoded
        plain = _arrow_csv(reading, text.encode("utf-8"), delimiter)
        if plain is not None:
            return plain
    return reading.rows(csv.reader(io.StringIO(text), delimiter=delimiter))


@dataclass
class _Reading:
    """What every road needs: where the file came from, the header map and the row limit."""

    origin: Path | str
    header_map: HeaderMap | None
    max_rows: int | None

    @property
    def name(self) -> str:
        return Path(self.origin).name

    def header(self, cells: list[str], line: int) -> tuple[list[str], dict[str, int]]:
        """The trimmed headers and their columns; refuses a first line that holds data."""
        headers = [cell.strip() for cell in cells]
        if any(idnumber.is_valid(cell) for cell in headers) or all(
            cell.isdigit() for cell in headers if cell
        ):
            raise RosterError(self.origin, "此行看起来是数据而不是表头；名册的第一行应为列名", line=line)
        columns = self.header_map.resolve(self.origin, headers, line) if self.header_map else {}
        return headers, columns

    def check_size(self, rows: int) -> None:
        if not rows:
            raise RosterError(self.origin, "文件只有表头，没有数据行")
        if self.max_rows is not None and rows > self.max_rows:
            raise RosterError(self.origin, f"文件有{rows}行，超过单次导入上限{self.max_rows}行，请拆分后导入")

    def rows(self, rows: Iterable[list[str]]) -> RosterTable:
        """The slow road: rows of text (``csv``, openpyxl), the header the first that is not blank;
        a row's line is its row number (as a spreadsheet shows it)."""
        import pyarrow as pa

        numbered = enumerate(rows, start=1)
        for line, row in numbered:
            if any(cell.strip() for cell in row):
                headers, columns = self.header(row, line)
                break
        else:
            raise RosterError(self.origin, "文件为空")
        lines, kept = [], []
        for number, row in numbered:
            if "".join(row).strip():
                lines.append(number)
                kept.append(row)
        self.check_size(len(kept))
        table = pa.table(
            {str(index): pa.array([row[index] if index < len(row) else "" for row in kept], pa.string())
             for index in range(len(headers))}
        )  # fmt: skip
        return RosterTable(self.name, headers, lines, table, columns)

    def parquet(self, data: bytes) -> RosterTable:
        """A Parquet file, every column cast to text (nulls as ""); a row's line is its row number."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(io.BytesIO(data))
        except (pa.ArrowException, OSError) as exc:
            raise RosterError(self.origin, f"Parquet文件无法读取（可能已截断或损坏）：{exc}") from exc
        headers, columns = self.header([str(name) for name in table.column_names], 1)
        texts = []
        for header, column in zip(headers, table.columns, strict=True):
            try:
                texts.append(pc.fill_null(pc.cast(column, pa.string()), ""))
            except pa.ArrowException:
                raise RosterError(self.origin, f"Parquet文件的“{header}”列无法读作文本") from None
        table = pa.table({str(index): text for index, text in enumerate(texts)})
        table, lines = _without_blank_rows(table, 1)
        self.check_size(table.num_rows)
        return RosterTable(self.name, headers, lines, table, columns)


def _without_blank_rows(table: Any, first_line: int) -> tuple[Any, list[int]]:
    """The table without rows whose cells are all white space, and the kept rows' lines (the first
    row's line is ``first_line``)."""
    import numpy as np
    import pyarrow.compute as pc

    if not table.num_columns:
        return table, []
    joined = pc.binary_join_element_wise(*table.columns, "") if table.num_columns > 1 else table.column(0)
    keep = pc.not_equal(pc.utf8_trim_whitespace(joined), "")
    lines = (np.flatnonzero(keep.to_numpy()) + first_line).tolist()
    return (table.filter(keep) if len(lines) < table.num_rows else table), lines


def _decode(origin: Path | str, data: bytes) -> tuple[str, bool]:
    """The text and whether it was UTF-8 (with or without BOM), else GB18030 (a superset of GBK);
    refuses a file that is neither, or that mixes the two, naming the first line that breaks."""
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        pass
    utf8_line = gbk_line = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_line = utf8_line or number
        except UnicodeDecodeError:
            gbk_line = gbk_line or number
    if utf8_line and gbk_line:
        raise RosterError(
            origin,
            "文件混用了UTF-8和GBK两种编码（从此行起与前面的行不一致），请统一另存为一种编码",
            line=max(utf8_line, gbk_line),
        )
    try:
        return data.decode("gb18030"), False
    except UnicodeDecodeError as exc:
        raise RosterError(
            origin,
            "文件编码无法识别：此行既不是UTF-8也不是GBK编码（请另存为UTF-8或GBK的CSV，或使用xlsx）",
            line=data[: exc.start].count(b"\n") + 1,
        ) from None


def _is_plain(data: bytes) -> bool:
    """No quotes (cells over several lines), blank lines, carriage returns on their own, or the
    separators U+001C–U+001F, which Python counts as white space: what ``csv`` and Arrow could read
    differently. Byte searches, not a regular expression: a scan of 70 MB each."""
    if any(mark in data for mark in (b'"', b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\n\n", b"\n\r\n")):
        return False
    return not data.startswith((b"\n", b"\r\n")) and data.count(b"\r") == data.count(b"\r\n")


def _arrow_csv(reading: _Reading, data: bytes, delimiter: str) -> RosterTable | None:
    """The fast road: a plain (``_is_plain``) UTF-8 CSV without BOM, every line as wide as the header,
    read by Arrow's CSV reader; ``None`` for any other file. In such a file each line is one row, so
    a row's line is its position plus two, as ``csv`` counts."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    if not _is_plain(data):
        return None
    header_line = data.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        cells = header_line.decode("utf-8").split(delimiter)
    except UnicodeDecodeError:
        return None
    if not any(cell.strip() for cell in cells):
        return None
    headers, columns = reading.header(cells, 1)
    names = [str(index) for index in range(len(headers))]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, quote_char=False, newlines_in_values=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:  # a line of another width, or text that is not UTF-8
        return None
    table, lines = _without_blank_rows(table, 2)
    reading.check_size(table.num_rows)
    return RosterTable(reading.name, headers, lines, table, columns)


def _xlsx_rows(origin: Path | str, data: bytes) -> Iterable[list[str]]:
    """The first sheet's rows as text (dates as ISO dates, whole numbers without ".0")."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise RosterError(origin, f"xlsx 文件无法打开（是否已损坏，或其实不是xlsx？）：{exc}") from exc
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

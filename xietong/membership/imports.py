"""Reading and checking a member roll file (工会会员登记表) before anything is written.

The standard template has Chinese headers (姓名, 身份证号码, 性别, 出生日期, 手机号码, 工作单位,
入会日期); common variants (身份证号, 证件号码, 手机号, 联系电话, 单位名称 …) and traditional
characters are recognised without a mapping; only 姓名 and the ID number are required. CSV files
may be UTF-8 or GBK; a file that is neither (or mixes both) is refused with the line where it breaks.
``check_rows`` explains every bad row in Chinese; the action decides what to commit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from xietong.lib import idnumber, names, phone

# Standard column → headers seen in unions' spreadsheets (first is the template's own).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "会员姓名", "职工姓名"),
    "id_number": ("身份证号码", "身份证号", "证件号码", "公民身份号码", "身份证", "证件号"),
    "gender": ("性别",),
    "birth_date": ("出生日期", "出生年月日", "出生年月"),
    "phone": ("手机号码", "手机号", "联系电话", "电话", "手机"),
    "employer": ("工作单位", "单位名称", "单位", "所在单位", "工作单位名称"),
    "joined_on": ("入会日期", "入会时间"),
}
REQUIRED = ("name", "id_number")
TEMPLATE_HEADERS = tuple(options[0] for options in HEADERS.values())
MAX_ROWS = 2_000_000


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, format, headers); the message says why."""


@dataclass
class SourceRow:
    """One data row: its line in the file (1 = the header) and its cells by standard column."""

    line: int
    values: dict[str, str]
    raw: list[str]


@dataclass
class CheckedRow:
    """A row after checking: normalised values, or the reasons it cannot be imported."""

    source: SourceRow
    name: str = ""
    id_number: str = ""
    parsed: idnumber.IdNumber | None = None
    id_index: str = ""  # the ID number's blind index, computed once by the import
    phone: str = ""
    employer_name: str = ""
    joined_on: dt.date | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class RollFile:
    """A read file: its headers as written, which standard column each feeds, and its rows."""

    headers: list[str]
    columns: dict[str, int]
    rows: list[SourceRow]


def _header_key(text: str) -> str:
    return names.to_simplified(unicodedata.normalize("NFKC", text or "").strip().lstrip("\ufeff")).replace(
        " ", ""
    )


def map_headers(headers: list[str]) -> dict[str, int]:
    """Which column index feeds each standard column; ``ImportFileError`` when a required one is missing."""
    keys = [_header_key(h) for h in headers]
    columns: dict[str, int] = {}
    for column, options in HEADERS.items():
        for option in options:
            if option in keys:
                columns[column] = keys.index(option)
                break
    missing = [HEADERS[c][0] for c in REQUIRED if c not in columns]
    if missing:
        shown = "、".join(h for h in headers if h.strip()) or "空"
        raise ImportFileError(
            f"表头缺少必填列：{'、'.join(missing)}（文件表头为：{shown}）；请使用导入模板的列名"
        )
    return columns


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); refuse a file that is neither,
    or that mixes the two (some lines UTF-8, others GBK), naming the first line that breaks."""
    try:
        return data.decode("utf-8-sig")
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
        later = max(utf8_line, gbk_line)
        raise ImportFileError(
            f"文件混用了UTF-8和GBK两种编码（第{later}行起不一致），请统一另存为一种编码后再导入"
        )
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        broken = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"文件编码无法识别：第{broken}行既不是UTF-8也不是GBK编码（请另存为UTF-8或GBK的CSV，或使用xlsx）"
        ) from None


def read_file(source: IO[bytes], name: str) -> RollFile:
    """Read a .csv (UTF-8/GBK) or .xlsx roll file from an open binary file; ``name`` gives its type."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        table = list(_xlsx_rows(io.BytesIO(source.read())))
    elif suffix in (".csv", ".txt"):
        table = list(csv.reader(io.StringIO(_decode(source.read()))))
    else:
        raise ImportFileError(f"不支持的文件类型“{suffix or '无扩展名'}”：请上传 .xlsx 或 .csv 文件")
    while table and not any(cell.strip() for cell in table[0]):
        table.pop(0)
    if not table:
        raise ImportFileError("文件是空的")
    headers = [cell.strip() for cell in table[0]]
    columns = map_headers(headers)
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {col: (cells[idx].strip() if idx < len(cells) else "") for col, idx in columns.items()}
        rows.append(SourceRow(line=number, values=values, raw=cells))
    if not rows:
        raise ImportFileError("文件只有表头，没有数据行")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"文件有{len(rows)}行，超过单次导入上限{MAX_ROWS}行，请拆分后导入")
    return RollFile(headers=headers, columns=columns, rows=rows)


def _xlsx_rows(data: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(data, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ImportFileError(f"xlsx 文件无法打开（是否已损坏，或其实不是xlsx？）：{exc}") from exc
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield [_cell_text(value) for value in row]
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


_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d")
_GENDERS = {"男": "M", "女": "F", "M": "M", "F": "F", "1": "M", "2": "F", "男性": "M", "女性": "F"}


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_date(text: str) -> dt.date:
    """A date in the forms unions write: 2026-03-07, 20260307, 2026/3/7, 2026年3月7日."""
    iso = _ISO_DATE.fullmatch(text)
    if iso:  # the common case, without strptime's cost
        return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
    cleaned = re.sub(r"[日\s]", "", unicodedata.normalize("NFKC", text)).replace("年", "-").replace("月", "-")
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def check_row(row: SourceRow, *, today: dt.date, employers: dict[str, int] | None) -> CheckedRow:
    """Check one row on its own (the ID number, names, dates, phone, employer); see ``check_rows``."""
    checked = CheckedRow(source=row)
    values = row.values
    name = names.normalize_name(values.get("name", ""))
    if not name.simplified:
        checked.errors.append("姓名为空")
    checked.name = name.simplified
    parsed = None
    try:
        parsed = idnumber.parse(values.get("id_number", ""), today=today)
        checked.id_number, checked.parsed = parsed.number, parsed
    except idnumber.InvalidIdNumber as exc:
        checked.errors.append(f"身份证号码：{exc}")
    gender = values.get("gender", "").strip().upper()
    if gender and parsed is not None:
        if gender not in _GENDERS:
            checked.errors.append(f"性别“{values['gender']}”无法识别（应为男或女）")
        elif _GENDERS[gender] != parsed.gender:
            checked.errors.append(
                f"性别与身份证号码不符（身份证号码显示为{'男' if parsed.gender == 'M' else '女'}）"
            )
    birth = values.get("birth_date", "")
    if birth and parsed is not None:
        try:
            if parse_date(birth) != parsed.birth_date:
                checked.errors.append(
                    f"出生日期与身份证号码不符（身份证号码显示为{parsed.birth_date:%Y-%m-%d}）"
                )
        except ValueError:
            checked.errors.append(f"出生日期“{birth}”无法识别")
    if values.get("phone"):
        try:
            checked.phone = phone.parse(values["phone"])
        except phone.InvalidPhone as exc:
            checked.errors.append(f"手机号码：{exc}")
    employer = names.to_simplified(values.get("employer", "").strip())
    if employer and employers is not None and employer not in employers:
        checked.errors.append(f"工作单位“{employer}”未登记，请先在“用人单位”中登记")
    checked.employer_name = employer
    if values.get("joined_on"):
        try:
            checked.joined_on = parse_date(values["joined_on"])
            if checked.joined_on > today:
                checked.errors.append("入会日期晚于今天")
        except ValueError:
            checked.errors.append(f"入会日期“{values['joined_on']}”无法识别")
    return checked


def check_rows(
    rows: list[SourceRow], *, today: dt.date, employers: dict[str, int] | None
) -> Iterator[CheckedRow]:
    """Check every row, and that no ID number appears twice in the file (naming the first line)."""
    first_line: dict[str, int] = {}
    for row in rows:
        checked = check_row(row, today=today, employers=employers)
        if checked.id_number:
            if checked.id_number in first_line:
                checked.errors.append(f"身份证号码与第{first_line[checked.id_number]}行重复")
            else:
                first_line[checked.id_number] = row.line
        yield checked

"""Reading and checking a member roll file (工会会员登记表) before anything is written.

The standard template has Chinese headers (姓名, 身份证号码, 性别, 出生日期, 手机号码, 工作单位,
入会日期); common variants (身份证号, 证件号码, 手机号, 联系电话, 单位名称 …) and traditional
characters are recognised without a mapping; only 姓名 and the ID number are required. The file is
read by the one roster reader (``matching.roster.read``: CSV in UTF-8 or GBK, XLSX; a file that is
neither, or mixes both, is refused with the line where it breaks); this module keeps the member
roll's headers and its checks. ``check_roll`` explains every bad row in Chinese; the action decides
what to commit.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import IO

from xietong.lib import idnumber, names, phone
from xietong.matching.errors import RosterError
from xietong.matching.roster import HeaderMap, RosterTable
from xietong.matching.roster import read as read_roster

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


# The reader's error, under the name the import job catches: every file problem, in Chinese, with the
# file's name and the line.
ImportFileError = RosterError


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
    phone: str = ""
    employer_name: str = ""
    joined_on: dt.date | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class RollFile(RosterTable):
    """A read roll (``matching.roster.RosterTable``: headers, one Arrow text column per header, each
    row's line, the standard columns found), with its rows as ``SourceRow`` for the row checker."""

    def source(self, position: int) -> SourceRow:
        """The row at ``position`` as a ``SourceRow``. ``strip`` as Python does, which also takes the
        ASCII separators U+001C–U+001F: a cell holding one fails the whole-column checks (Arrow's
        trim keeps them) and is checked here, row by row."""
        cells = self.cells([position])[0]
        values = {col: cells[idx].strip() for col, idx in self.columns.items()}
        return SourceRow(line=self.lines[position], values=values, raw=cells)


def _header_key(text: str) -> str:
    return names.to_simplified(unicodedata.normalize("NFKC", text or "").strip().lstrip("\ufeff")).replace(
        " ", ""
    )


# The member roll's headers, for the reader: traditional characters, full-width forms and spaces
# are recognised (``_header_key``); 姓名 and the ID number are required.
ROLL_HEADERS = HeaderMap(known=HEADERS, required=REQUIRED, key=_header_key, hint="；请使用导入模板的列名")
ROLL_FORMATS = (".csv", ".txt", ".xlsx")


def read_file(source: IO[bytes], name: str) -> RollFile:
    """Read a .csv (UTF-8/GBK) or .xlsx roll file from an open binary file; ``name`` gives its type.

    Read by ``matching.roster.read``, the one roster reader (plain UTF-8 CSV through Arrow, anything
    else row by row, into the same table); ``ImportFileError`` says what is wrong with the file.
    """
    table = read_roster(
        source.read(), name=name, headers=ROLL_HEADERS, max_rows=MAX_ROWS, formats=ROLL_FORMATS
    )
    return RollFile(table.name, table.headers, table.lines, table.table, table.columns)


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
    elif len(name.simplified) > NAME_MAX_LENGTH:
        checked.errors.append(f"姓名超过{NAME_MAX_LENGTH}个字")
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


NAME_MAX_LENGTH = 64

# What the fast path takes without the per-row checker: Han characters, ASCII letters and digits
# (nothing NFKC, the clean-up or the case of a letter could change), an 18-character ID number in
# ASCII, ISO dates, an 11-digit mobile number.
_FAST_NAME = rf"^[0-9A-Za-z\x{{3400}}-\x{{4DBF}}\x{{4E00}}-\x{{9FFF}}]{{1,{NAME_MAX_LENGTH}}}$"
_FAST_ID = r"^[0-9]{17}[0-9X]$"
_FAST_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_FAST_PHONE = r"^1[3-9][0-9]{9}$"
_MALE = [key for key, value in _GENDERS.items() if value == "M"]
_FEMALE = [key for key, value in _GENDERS.items() if value == "F"]


@dataclass
class CheckedRoll:
    """A checked file, column by column: each row's normalised values (empty where the row is bad)
    and the reasons each bad row cannot be imported, by position."""

    roll: RollFile
    name: list[str]
    id_number: list[str]
    birth_date: list[dt.date | None]
    gender: list[str]
    phone: list[str]
    employer_name: list[str]
    joined_on: list[dt.date | None]
    errors: dict[int, list[str]]

    def good(self) -> list[int]:
        """Positions of the rows that can be imported."""
        return [position for position in range(len(self.roll)) if position not in self.errors]

    def fail(self, position: int, reason: str) -> None:
        """Mark a row bad, saying why."""
        self.errors.setdefault(position, []).append(reason)


def check_roll(
    roll: RollFile,
    *,
    today: dt.date,
    employers: dict[str, int] | None,
) -> CheckedRoll:
    """Check every row, and that no ID number appears twice in the file (naming the first line).

    Rows in the common form (see ``_FAST_*``) are checked as whole columns with Arrow and NumPy; any
    other row goes through ``check_row``, which says what is wrong. Both give the same values for a
    row that passes (a test compares them), so the fast path changes the speed, never the outcome.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from xietong.matching.normalize import check_digits_arrow

    raw = {column: roll.values(column) for column in HEADERS}
    ids = raw["id_number"]
    fast = pc.match_substring_regex(ids, _FAST_ID)
    numbers = pc.if_else(fast, ids, "0" * 18)
    expected = check_digits_arrow(pc.utf8_slice_codeunits(numbers, 0, 17))
    fast = pc.and_(fast, pc.equal(pc.utf8_slice_codeunits(numbers, 17, 18), expected))
    born_text = pc.utf8_slice_codeunits(numbers, 6, 14)
    born = pc.strptime(born_text, format="%Y%m%d", unit="s", error_is_null=True)
    born_ok = pc.equal(pc.strftime(born, format="%Y%m%d"), born_text)  # Arrow rolls 0230 over to 0301
    earliest, latest = (
        pa.scalar(dt.datetime(1900, 1, 1), pa.timestamp("s")),
        pa.scalar(dt.datetime.combine(today, dt.time()), pa.timestamp("s")),
    )
    born_ok = pc.and_(born_ok, pc.and_(pc.greater_equal(born, earliest), pc.less_equal(born, latest)))
    provinces = pa.array(sorted(idnumber.province_prefixes()), pa.string())
    fast = pc.and_(fast, pc.and_(born_ok, pc.is_in(pc.utf8_slice_codeunits(numbers, 0, 2), provinces)))
    male = pc.equal(pc.bit_wise_and(pc.cast(pc.utf8_slice_codeunits(numbers, 16, 17), pa.int8()), 1), 1)

    gender = pc.utf8_upper(raw["gender"])
    gender_ok = pc.or_(
        pc.equal(gender, ""),
        pc.if_else(male, pc.is_in(gender, pa.array(_MALE)), pc.is_in(gender, pa.array(_FEMALE))),
    )
    stated = raw["birth_date"]
    stated_digits = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(stated, 0, 4),
        pc.utf8_slice_codeunits(stated, 5, 7),
        pc.utf8_slice_codeunits(stated, 8, 10),
        "",
    )
    birth_ok = pc.or_(
        pc.equal(stated, ""),
        pc.and_(pc.match_substring_regex(stated, _FAST_DATE), pc.equal(stated_digits, born_text)),
    )
    phones = raw["phone"]
    phone_ok = pc.or_(pc.equal(phones, ""), pc.match_substring_regex(phones, _FAST_PHONE))
    joined = raw["joined_on"]
    joined_at = pc.strptime(joined, format="%Y-%m-%d", unit="s", error_is_null=True)
    joined_ok = pc.or_(
        pc.equal(joined, ""),
        pc.and_(
            pc.and_(pc.match_substring_regex(joined, _FAST_DATE), pc.less_equal(joined_at, latest)),
            pc.equal(pc.strftime(joined_at, format="%Y-%m-%d"), joined),
        ),
    )
    written = raw["employer"].to_pylist()
    employer_names = {value: names.to_simplified(value) for value in set(written)}
    employer = [employer_names[value] for value in written]
    employer_ok = pa.array(
        [not value or employers is None or value in employers for value in employer], pa.bool_()
    )
    for ok in (gender_ok, birth_ok, phone_ok, joined_ok, employer_ok):
        fast = pc.and_(fast, pc.fill_null(ok, False))
    name_list = raw["name"].to_pylist()
    name_fast = pc.match_substring_regex(raw["name"], _FAST_NAME)
    fast = pc.fill_null(pc.and_(fast, name_fast), False)
    simplified = _simplified_names(name_list, fast.to_pylist())

    result = CheckedRoll(
        roll=roll,
        name=simplified,  # type: ignore[arg-type]  # the Nones are filled in below
        id_number=pc.if_else(fast, ids, "").to_pylist(),
        birth_date=[value.date() if value else None for value in pc.if_else(fast, born, None).to_pylist()],
        gender=pc.if_else(fast, pc.if_else(male, "M", "F"), "").to_pylist(),
        phone=pc.if_else(fast, phones, "").to_pylist(),
        employer_name=employer,
        joined_on=[day.date() if day else None for day in pc.if_else(fast, joined_at, None).to_pylist()],
        errors={},
    )
    for position, is_fast in enumerate(fast.to_pylist()):
        if not is_fast or simplified[position] is None:
            _check_slowly(result, position, today=today, employers=employers)
    first_line: dict[str, int] = {}
    for position, number in enumerate(result.id_number):
        if number:
            line = first_line.setdefault(number, roll.lines[position])
            if line != roll.lines[position]:
                result.fail(position, f"身份证号码与第{line}行重复")
    return result


def _simplified_names(values: list[str], fast: list[bool]) -> list[str | None]:
    """Fast rows' names converted to simplified characters in one OpenCC call (a newline never joins
    a phrase); ``None`` where the conversion is not settled after one pass or a row is not fast,
    for ``check_row`` to do."""
    picked = [value for value, ok in zip(values, fast, strict=True) if ok]
    once = names.to_simplified_once("\n".join(picked)).split("\n") if picked else []
    twice = names.to_simplified_once("\n".join(once)).split("\n") if picked else []
    settled = iter(a if a == b else None for a, b in zip(once, twice, strict=True))
    return [next(settled) if ok else None for ok in fast]


def _check_slowly(
    result: CheckedRoll, position: int, *, today: dt.date, employers: dict[str, int] | None
) -> None:
    """Put one row through ``check_row`` and store what it found."""
    row = check_row(result.roll.source(position), today=today, employers=employers)
    parsed = row.parsed
    result.name[position] = row.name
    result.id_number[position] = row.id_number
    result.birth_date[position] = parsed.birth_date if parsed else None
    result.gender[position] = parsed.gender if parsed else ""
    result.phone[position] = row.phone
    result.employer_name[position] = row.employer_name
    result.joined_on[position] = row.joined_on
    if row.errors:
        result.errors[position] = row.errors

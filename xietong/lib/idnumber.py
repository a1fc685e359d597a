"""Chinese resident identity numbers (公民身份号码, GB 11643-1999).

An 18-character number is six digits of administrative region (GB/T 2260), eight digits of birth
date, a three-digit sequence whose last digit is odd for men and even for women, and an ISO 7064
MOD 11-2 check character (``0``–``9`` or ``X``). Numbers issued before 1999 had 15 digits: no
century and no check character; they are upgraded here the way the Ministry of Public Security does.

python-stdnum's ``stdnum.cn.ric`` is not used for validation because it rejects 15-digit numbers,
rejects region codes missing from its table, and rejects a region code when the birth year falls
outside the code's period of use — but codes are assigned at registration, not at birth, and a
number issued under a since-abolished code stays valid for life. Its maintained region table
(``stdnum/cn/loc.dat``) is used as data: every code, with the years it was in use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Literal, NamedTuple

from stdnum import numdb

from .text import InvalidValue, until_stable


class InvalidIdNumber(InvalidValue):
    """An ID number that cannot be accepted; ``str(exc)`` says why in Chinese, ``code`` for machines.

    Codes: ``empty``, ``length``, ``characters``, ``birth_date``, ``region``, ``checksum``.
    """


# --- normalisation and check digit ----------------------------------------------------------------

# Separators people type or paste inside a number: whitespace, hyphens and dashes, dots, underscores.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.\u00b7\u30fb_]+")
_DIGITS = frozenset("0123456789")
# ISO 7064 MOD 11-2 weights for positions 1–17: 2^(18-i) mod 11.
WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
# The check character for each remainder of the weighted sum modulo 11.
CHECK_CHARS = "10X98765432"


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).upper()
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


def normalize(value: str) -> str:
    """Full-width to ASCII (NFKC), drop spaces, hyphens, dots and underscores, upper-case ``x``.

    Does not validate. Repeated until stable so that ``normalize`` is idempotent even for odd input
    where removing a separator lets NFKC compose the characters either side of it.
    """
    return until_stable(_normalize_once, value)


def _is_ascii_digits(text: str) -> bool:
    return bool(text) and all(ch in _DIGITS for ch in text)


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character (``0``–``9`` or ``X``) for the first 17 digits."""
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise InvalidIdNumber(f"计算校验码需要17位数字，收到“{first17}”", code="characters")
    total = sum(int(ch) * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def upgrade15(value15: str) -> str:
    """A legacy 15-digit number as 18 digits: ``19`` before the two-digit year, then the check digit.

    15-digit numbers were issued until 1999 to people born in the 1900s, hence the fixed century.
    """
    number = normalize(value15)
    if len(number) != 15:
        raise InvalidIdNumber(f"旧式身份证号码应为15位，实为{len(number)}位", code="length")
    _check_digits(number, 15)
    body = number[:6] + "19" + number[6:]
    return body + check_digit(body)


def _check_digits(number: str, count: int) -> None:
    """Raise for the first of the first ``count`` characters that is not an ASCII digit."""
    for position, ch in enumerate(number[:count], start=1):
        if ch not in _DIGITS:
            raise InvalidIdNumber(f"身份证号码第{position}位“{ch}”不是数字", code="characters")


# --- region table ---------------------------------------------------------------------------------

RegionLevel = Literal["province", "prefecture", "county"]

# Prefecture-level entries that group codes rather than name a place; left out of full names.
_PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政单位", "省直辖行政单位", "自治区直辖县级行政单位"})
# Province-level codes in real use that GB/T 2260 (and stdnum's table) lacks: 830000 is the address
# code of residence permits for Taiwan residents (港澳台居民居住证; 810000/820000 are in the table).
_SUPPLEMENTARY_PROVINCES = {"83": "台湾地区"}
_PERIOD = re.compile(r"^(?:\[(?P<start>\d{4})?-(?P<end>\d{4})?\])?(?P<name>.+)$")


@dataclass(frozen=True)
class RegionName:
    """One name a region code has carried, with the years it was in use (``None``: open-ended)."""

    name: str
    valid_from: int | None
    valid_to: int | None

    @property
    def current(self) -> bool:
        """Still in use: no end year."""
        return self.valid_to is None


@dataclass(frozen=True)
class _Region:
    code: str
    names: tuple[RegionName, ...]

    @property
    def abolished(self) -> bool:
        return not any(entry.current for entry in self.names)

    @property
    def name(self) -> str:
        """The current name, or for an abolished code the last name it had."""
        current = [entry for entry in self.names if entry.current]
        if current:
            return current[-1].name
        return max(self.names, key=lambda entry: entry.valid_to or 0).name

    @property
    def valid_from(self) -> int | None:
        starts = [entry.valid_from for entry in self.names]
        return None if None in starts else min(start for start in starts if start is not None)

    @property
    def valid_to(self) -> int | None:
        if not self.abolished:
            return None
        return max(entry.valid_to for entry in self.names if entry.valid_to is not None)


class RegionEntry(NamedTuple):
    """One GB/T 2260 code as ``iter_regions`` yields it (a plain 7-tuple for easy unpacking)."""

    code: str
    name: str
    level: RegionLevel
    parent_code: str | None
    abolished: bool
    valid_from: int | None
    valid_to: int | None


def _parse_names(value: str) -> tuple[RegionName, ...]:
    """``"[1983-1994]东矿区,[1995-]古冶区"`` → one ``RegionName`` per comma-separated period."""
    names = []
    for part in value.split(","):
        match = _PERIOD.match(part.strip())
        if not match:
            continue
        start, end = match["start"], match["end"]
        names.append(RegionName(match["name"], int(start) if start else None, int(end) if end else None))
    return tuple(names)


def _expand(low: str, high: str) -> list[str]:
    """The codes of a numdb range line (``low-high``); the table uses single codes, but be safe."""
    if low == high:
        return [low]
    return [f"{n:0{len(low)}d}" for n in range(int(low), int(high) + 1)]


@cache
def _table() -> dict[str, _Region]:
    """Every 6-digit code in stdnum's table, read once."""
    regions: dict[str, _Region] = {}
    for _length, low, high, props, children in numdb.get("cn/loc").prefixes:
        for province in _expand(low, high):
            for _clength, clow, chigh, cprops, _grandchildren in children:
                names = _parse_names(cprops.get("county", ""))
                if not names:
                    continue
                for rest in _expand(clow, chigh):
                    regions[province + rest] = _Region(province + rest, names)
            # A province line without its own ``0000`` entry still names the province.
            code = province + "0000"
            if code not in regions and props.get("province"):
                regions[code] = _Region(code, (RegionName(props["province"], None, None),))
    return regions


def _level(code6: str) -> RegionLevel:
    if code6.endswith("0000"):
        return "province"
    if code6.endswith("00"):
        return "prefecture"
    return "county"


def _ancestors(code6: str) -> list[str]:
    """The province and prefecture codes above a code (codes, not necessarily in the table)."""
    level = _level(code6)
    if level == "province":
        return []
    province = code6[:2] + "0000"
    if level == "prefecture" or code6[2:4] == "00":
        return [province]
    return [province, code6[:4] + "00"]


def _parent(code6: str, table: dict[str, _Region]) -> str | None:
    """The nearest ancestor present in the table."""
    for ancestor in reversed(_ancestors(code6)):
        if ancestor in table:
            return ancestor
    return None


def _display(region: _Region) -> str:
    return ("原" if region.abolished else "") + region.name


@functools.lru_cache(maxsize=16384)
@cache
def province_prefixes() -> frozenset[str]:
    """The first two digits of every province-level code that ``region_name`` accepts."""
    return frozenset(code[:2] for code in _table() if code.endswith("0000")) | frozenset(
        _SUPPLEMENTARY_PROVINCES
    )


def region_name(code6: str) -> tuple[str, bool]:
    """The full name of a 6-digit region code and whether the code is abolished.

    ``"110102"`` → ``("北京市西城区", False)``; ``"110104"`` → ``("北京市原宣武区", True)``: every
    abolished component is prefixed 原. A code missing from the table under a known province is
    named after its nearest known ancestor plus the code, e.g. ``"北京市（代码110199）"``.
    Raises ``InvalidIdNumber`` (code ``region``) when the province is unknown.
    """
    if len(code6) != 6 or not _is_ascii_digits(code6):
        raise InvalidIdNumber(f"地区代码应为6位数字，收到“{code6}”", code="region")
    table = _table()
    province = code6[:2] + "0000"
    if province not in table:
        supplementary = _SUPPLEMENTARY_PROVINCES.get(code6[:2])
        if supplementary is None:
            raise InvalidIdNumber(f"前两位地区代码{code6[:2]}不是有效的省级行政区划代码", code="region")
        return (supplementary if code6 == province else f"{supplementary}（代码{code6}）"), False
    parts = []
    for ancestor in _ancestors(code6):
        region = table.get(ancestor)
        if region is not None and region.name not in _PLACEHOLDERS:
            parts.append(_display(region))
    leaf = table.get(code6)
    if leaf is None:
        return "".join(parts) + f"（代码{code6}）", False
    return "".join([*parts, _display(leaf)]), leaf.abolished


def region_history(code6: str) -> tuple[RegionName, ...]:
    """Every name a code has carried with its years, oldest first; empty when the code is unknown."""
    region = _table().get(code6)
    return region.names if region else ()


def iter_regions() -> Iterator[RegionEntry]:
    """Every province, prefecture and county code in stdnum's table, in code order.

    ``name`` is the short current name (the last name for an abolished code; see ``region_history``
    for the others), ``parent_code`` the nearest listed ancestor, ``abolished`` true only when no
    name of the code is current, ``valid_from``/``valid_to`` the years of first and last use.
    """
    table = _table()
    for code in sorted(table):
        region = table[code]
        yield RegionEntry(
            code=code,
            name=region.name,
            level=_level(code),
            parent_code=_parent(code, table),
            abolished=region.abolished,
            valid_from=region.valid_from,
            valid_to=region.valid_to,
        )


# --- parsing --------------------------------------------------------------------------------------

_EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True)
class IdNumber:
    """A validated ID number and what it encodes. ``repr`` masks the number to keep it out of logs."""

    number: str = field(repr=False)
    birth_date: date
    gender: Literal["M", "F"]
    region_code: str
    region_name: str
    region_abolished: bool
    was_upgraded: bool

    def masked(self) -> str:
        """First six and last four characters, the rest starred: ``110101********123X``."""
        return mask(self.number)

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day`` (a 29 February birthday counts from 1 March in other years)."""
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)

    def __repr__(self) -> str:
        return (
            f"IdNumber(number={self.masked()!r}, birth_date={self.birth_date!r}, gender={self.gender!r}, "
            f"region_code={self.region_code!r}, region_name={self.region_name!r}, "
            f"region_abolished={self.region_abolished!r}, was_upgraded={self.was_upgraded!r})"
        )


def _birth_date(text: str, today: date) -> date:
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise InvalidIdNumber(f"出生日期{text}不是有效日期", code="birth_date") from None
    if born > today:
        raise InvalidIdNumber("出生日期不能晚于今天", code="birth_date")
    if born < _EARLIEST_BIRTH:
        raise InvalidIdNumber(f"出生日期{text}早于1900年1月1日", code="birth_date")
    return born


def mask(number: str) -> str:
    """An ID number as pages show it: the first six and last four characters, eight stars between
    (also for a number that is not valid, as rosters may hold; shorter text is starred whole)."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * 8 + number[-4:]


def parse(value: str, *, today: date | None = None) -> IdNumber:
    """Normalise and validate an 18- or 15-digit number; raise ``InvalidIdNumber`` naming the problem.

    Checks, in order: empty, length, characters, birth date (a real date, from 1900 up to ``today``),
    region (known province; the full code is looked up but need not be listed) and check digit.
    15-digit numbers are upgraded to 18 digits first (they carry no check digit of their own).
    """
    number = normalize(value)
    if not number:
        raise InvalidIdNumber("身份证号码为空", code="empty")
    if len(number) not in (15, 18):
        raise InvalidIdNumber(f"身份证号码应为18位（或旧式15位），实为{len(number)}位", code="length")
    upgraded = len(number) == 15
    if upgraded:
        number = upgrade15(number)
    else:
        _check_digits(number, 17)
        if number[17] not in _DIGITS and number[17] != "X":
            raise InvalidIdNumber(f"身份证号码第18位“{number[17]}”不是数字或X", code="characters")
    born = _birth_date(number[6:14], today or date.today())
    name, abolished = region_name(number[:6])
    expected = check_digit(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber(f"第18位校验码应为{expected}，实为{number[17]}", code="checksum")
    return IdNumber(
        number=number,
        birth_date=born,
        gender="M" if int(number[16]) % 2 else "F",
        region_code=number[:6],
        region_name=name,
        region_abolished=abolished,
        was_upgraded=upgraded,
    )


def is_valid(value: str) -> bool:
    """True when ``parse`` accepts the value."""
    try:
        parse(value)
    except InvalidIdNumber:
        return False
    return True


def describe(value: str) -> str:
    """A multi-line Chinese summary of a number for ``xietong idnumber``; raises ``InvalidIdNumber``."""
    parsed = parse(value)
    number_line = f"号码：{parsed.number}"
    if parsed.was_upgraded:
        number_line += f"（由15位旧号码{normalize(value)}升级）"
    region_line = f"签发地区：{parsed.region_name}（{parsed.region_code}"
    region_line += "，该区划代码已撤销）" if parsed.region_abolished else "）"
    born = parsed.birth_date
    return "\n".join(
        [
            number_line,
            f"出生日期：{born.year}年{born.month}月{born.day}日",
            f"性别：{'男' if parsed.gender == 'M' else '女'}",
            region_line,
        ]
    )

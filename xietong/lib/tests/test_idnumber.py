"""Tests of ``xietong.lib.idnumber``: examples for every message, properties for the checksum."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from xietong.lib import idnumber
from xietong.lib.idnumber import InvalidIdNumber

TODAY = date(2025, 6, 30)
COUNTY_CODES = sorted(entry.code for entry in idnumber.iter_regions() if entry.level == "county")
FULL_WIDTH = {ch: chr(ord(ch) + 0xFEE0) for ch in "0123456789Xx"}


def make(region: str, born: date, sequence: int) -> str:
    """A valid 18-digit number, its check digit computed by the function under test."""
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + idnumber.check_digit(body)


def reason(value: str, **kwargs: date) -> InvalidIdNumber:
    with pytest.raises(InvalidIdNumber) as caught:
        idnumber.parse(value, **kwargs)
    return caught.value


births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
valid_numbers = st.builds(make, st.sampled_from(COUNTY_CODES), births, st.integers(0, 999))


# --- examples -------------------------------------------------------------------------------------


def test_published_example_is_valid() -> None:
    assert idnumber.check_digit("11010519491231002") == "X"
    parsed = idnumber.parse("11010519491231002X")
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "F"
    assert parsed.region_code == "110105"
    assert parsed.region_name == "北京市朝阳区"
    assert parsed.region_abolished is False
    assert parsed.was_upgraded is False
    assert parsed.masked() == "110105********002X"


def test_odd_seventeenth_digit_is_male() -> None:
    assert idnumber.parse(make("110102", date(1990, 3, 7), 123)).gender == "M"
    assert idnumber.parse(make("110102", date(1990, 3, 7), 124)).gender == "F"


@pytest.mark.parametrize(("code", "name"), [("110104", "北京市原宣武区"), ("110103", "北京市原崇文区")])
def test_abolished_districts_stay_valid(code: str, name: str) -> None:
    # Born after the district was merged away (2010): stdnum rejects this, the law does not.
    number = make(code, date(2015, 5, 1), 21)
    assert not ric.is_valid(number)
    parsed = idnumber.parse(number, today=TODAY)
    assert parsed.region_name == name
    assert parsed.region_abolished is True


def test_code_created_after_birth_is_valid() -> None:
    # 通州区 (110112) dates from 1997; people born earlier got it on re-registration.
    parsed = idnumber.parse(make("110112", date(1960, 1, 1), 11))
    assert parsed.region_name == "北京市通州区"


def test_unlisted_code_under_known_province_is_accepted() -> None:
    parsed = idnumber.parse(make("110199", date(1980, 1, 1), 1))
    assert parsed.region_name == "北京市（代码110199）"
    assert parsed.region_abolished is False
    assert idnumber.parse(make("130199", date(1980, 1, 1), 1)).region_name == "河北省石家庄市（代码130199）"


def test_residence_permit_codes() -> None:
    assert idnumber.parse(make("810000", date(1980, 1, 1), 1)).region_name == "香港特别行政区"
    assert idnumber.parse(make("830000", date(1980, 1, 1), 1)).region_name == "台湾地区"


def test_fifteen_digits_are_upgraded() -> None:
    parsed = idnumber.parse("110105491231002")
    assert parsed.number == "11010519491231002X"
    assert parsed.was_upgraded is True
    assert idnumber.upgrade15("110105491231002") == "11010519491231002X"


def test_normalisation_of_typed_input() -> None:
    typed = "１１０１０５ １９４９-１２３１.００２ｘ"
    assert idnumber.normalize(typed) == "11010519491231002X"
    assert idnumber.parse(typed).number == "11010519491231002X"
    assert idnumber.normalize(" 1101_05 ") == "110105"


def test_masked() -> None:
    number = idnumber.IdNumber(
        "11010119900307123X", date(1990, 3, 7), "M", "110101", "北京市东城区", False, False
    )
    assert number.masked() == "110101********123X"
    assert "19900307" not in repr(number)


def test_age_on() -> None:
    parsed = idnumber.parse(make("110102", date(1990, 3, 7), 1))
    assert parsed.age_on(date(2025, 3, 6)) == 34
    assert parsed.age_on(date(2025, 3, 7)) == 35


@pytest.mark.parametrize(
    ("value", "message", "code"),
    [
        ("", "身份证号码为空", "empty"),
        (" - ", "身份证号码为空", "empty"),
        ("11010519491231002", "身份证号码应为18位（或旧式15位），实为17位", "length"),
        ("1101A519491231002X", "身份证号码第5位“A”不是数字", "characters"),
        ("1101051949123100XX", "身份证号码第17位“X”不是数字", "characters"),
        ("11010519491231002A", "身份证号码第18位“A”不是数字或X", "characters"),
        ("11010549123100X", "身份证号码第15位“X”不是数字", "characters"),
        ("110105194912310023", "第18位校验码应为X，实为3", "checksum"),
    ],
)
def test_error_messages(value: str, message: str, code: str) -> None:
    error = reason(value)
    assert str(error) == message
    assert error.code == code


def test_invalid_birth_date_message() -> None:
    error = reason("110105198502300011")
    assert str(error) == "出生日期19850230不是有效日期"
    assert error.code == "birth_date"


def test_future_birth_date_message() -> None:
    error = reason(make("110105", date(2025, 7, 1), 1), today=TODAY)
    assert str(error) == "出生日期不能晚于今天"
    assert error.code == "birth_date"
    assert idnumber.parse(make("110105", TODAY, 1), today=TODAY).birth_date == TODAY


def test_birth_before_1900_message() -> None:
    error = reason(make("110105", date(1899, 12, 31), 1))
    assert str(error) == "出生日期18991231早于1900年1月1日"


def test_unknown_province_message() -> None:
    error = reason(make("990101", date(1980, 1, 1), 1))
    assert str(error) == "前两位地区代码99不是有效的省级行政区划代码"
    assert error.code == "region"


def test_describe() -> None:
    assert idnumber.describe("11010519491231002x") == (
        "号码：11010519491231002X\n出生日期：1949年12月31日\n性别：女\n签发地区：北京市朝阳区（110105）"
    )
    text = idnumber.describe("110104491231001")
    assert "（由15位旧号码110104491231001升级）" in text
    assert "签发地区：北京市原宣武区（110104，该区划代码已撤销）" in text
    assert "性别：男" in text
    with pytest.raises(InvalidIdNumber):
        idnumber.describe("123")


# --- region table ---------------------------------------------------------------------------------


def test_region_names() -> None:
    assert idnumber.region_name("110102") == ("北京市西城区", False)
    assert idnumber.region_name("110000") == ("北京市", False)
    assert idnumber.region_name("130102") == ("河北省石家庄市长安区", False)
    assert idnumber.region_name("429004") == ("湖北省仙桃市", False)  # under 省直辖县级行政单位
    assert idnumber.region_name("120110") == ("天津市东丽区", False)  # renamed from 东郊区 in 1992
    assert idnumber.region_name("142201") == ("山西省原忻州地区原忻州市", True)
    with pytest.raises(InvalidIdNumber, match="前两位地区代码00不是有效的省级行政区划代码"):
        idnumber.region_name("000000")
    with pytest.raises(InvalidIdNumber, match="地区代码应为6位数字"):
        idnumber.region_name("11010")


def test_iter_regions_structure() -> None:
    rows = list(idnumber.iter_regions())
    by_code = {row.code: row for row in rows}
    assert len(by_code) == len(rows) > 6000
    for code, _name, level, parent, _abolished, _start, _end in rows:
        assert len(code) == 6
        assert code.isdigit()
        assert level == (
            "province" if code.endswith("0000") else "prefecture" if code.endswith("00") else "county"
        )
        assert (parent is None) == (level == "province")
        assert parent is None or (parent in by_code and parent[:2] == code[:2])
    assert by_code["110000"][:4] == ("110000", "北京市", "province", None)
    assert by_code["130100"][:4] == ("130100", "石家庄市", "prefecture", "130000")
    assert by_code["130102"].parent_code == "130100"
    xuanwu = by_code["110104"]
    assert (xuanwu.name, xuanwu.abolished, xuanwu.valid_from, xuanwu.valid_to) == ("宣武区", True, None, 2010)
    tongzhou = by_code["110112"]
    assert (tongzhou.abolished, tongzhou.valid_from, tongzhou.valid_to) == (False, 1997, None)
    dongli = by_code["120110"]
    assert (dongli.name, dongli.abolished) == ("东丽区", False)
    assert [entry.name for entry in idnumber.region_history("120110")] == ["东郊区", "东丽区"]
    assert by_code["810000"].name == "香港特别行政区"


# --- properties -----------------------------------------------------------------------------------


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_check_digit_agrees_with_stdnum(first17: str) -> None:
    assert idnumber.check_digit(first17) == ric.calc_check_digit(first17 + "0")


@given(st.sampled_from(COUNTY_CODES), births, st.integers(0, 999))
def test_generated_numbers_parse(region: str, born: date, sequence: int) -> None:
    parsed = idnumber.parse(make(region, born, sequence), today=TODAY)
    assert parsed.birth_date == born
    assert parsed.region_code == region
    assert parsed.gender == ("M" if sequence % 2 else "F")
    assert (parsed.region_name, parsed.region_abolished) == idnumber.region_name(region)


@given(valid_numbers, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_change_is_rejected(number: str, position: int, replacement: str) -> None:
    changed = number[:position] + replacement + number[position + 1 :]
    if changed != number:
        with pytest.raises(InvalidIdNumber):
            idnumber.parse(changed, today=TODAY)


@given(valid_numbers, st.integers(0, 16))
def test_adjacent_transposition_is_rejected(number: str, position: int) -> None:
    # MOD 11-2 weights differ by a factor of 2 between neighbours, so every swap changes the sum.
    a, b = number[position], number[position + 1]
    if a != b:
        swapped = number[:position] + b + a + number[position + 2 :]
        assert not idnumber.is_valid(swapped)


@given(st.text())
def test_normalize_is_idempotent(value: str) -> None:
    once = idnumber.normalize(value)
    assert idnumber.normalize(once) == once


@given(
    valid_numbers,
    st.lists(st.sampled_from([" ", "\u3000", "-", "－", ".", "_", "．"]), max_size=5),
    st.data(),
)
def test_full_width_and_separators_equal_ascii(
    number: str, separators: list[str], data: st.DataObject
) -> None:
    typed = "".join(FULL_WIDTH.get(ch, ch) for ch in number.replace("X", "x"))
    for separator in separators:
        at = data.draw(st.integers(0, len(typed)))
        typed = typed[:at] + separator + typed[at:]
    assert idnumber.normalize(typed) == number
    assert idnumber.parse(typed, today=TODAY) == idnumber.parse(number, today=TODAY)


@given(st.sampled_from(COUNTY_CODES), st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)))
def test_fifteen_digit_upgrade(region: str, born: date) -> None:
    old = f"{region}{born:%y%m%d}042"
    new = make(region, born, 42)
    assert idnumber.upgrade15(old) == new
    parsed = idnumber.parse(old, today=TODAY)
    assert parsed.number == new
    assert parsed.was_upgraded


@given(st.text(alphabet="0123456789Xx -", max_size=20))
def test_is_valid_matches_parse(value: str) -> None:
    try:
        idnumber.parse(value)
    except InvalidIdNumber:
        assert not idnumber.is_valid(value)
    else:
        assert idnumber.is_valid(value)

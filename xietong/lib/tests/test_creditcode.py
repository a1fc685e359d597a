"""Tests of ``xietong.lib.creditcode``, with python-stdnum's ``uscc`` as an independent oracle."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from xietong.lib import creditcode
from xietong.lib.creditcode import ALPHABET, InvalidCreditCode

# stdnum demands digits in the first eight places; these strategies stay inside that.
digit = st.sampled_from("0123456789")
code_char = st.sampled_from(ALPHABET)
bodies = st.builds(
    lambda authority, kind, region, org: authority + kind + "".join(region) + "".join(org),
    st.sampled_from("123456789"),
    digit,
    st.lists(digit, min_size=6, max_size=6),
    st.lists(code_char, min_size=9, max_size=9),
)
valid_codes = bodies.map(lambda body: body + creditcode.check_char(body))


def body_with_check(wanted: str) -> str:
    """A 17-character body whose check character is ``wanted`` (searched, not hard-coded)."""
    for n in range(100_000):
        body = f"91110000{n:09d}"
        if creditcode.check_char(body) == wanted:
            return body
    raise AssertionError(wanted)


def reason(value: str) -> InvalidCreditCode:
    with pytest.raises(InvalidCreditCode) as caught:
        creditcode.parse(value)
    return caught.value


def test_published_example() -> None:
    parsed = creditcode.parse("91110000600037341L")
    assert parsed.code == "91110000600037341L"
    assert (parsed.registration_authority, parsed.org_type) == ("9", "1")
    assert (parsed.region_code, parsed.org_code) == ("110000", "600037341")
    assert parsed.registration_authority_name == "市场监督管理（工商）"
    assert parsed.org_type_name == "企业"
    assert str(parsed) == "91110000600037341L"


def test_trade_union_and_letter_authorities() -> None:
    union = "81110000" + "MA0000001"
    assert creditcode.parse(union + creditcode.check_char(union)).org_type_name == "基层工会"
    # Village collectives are registered by agriculture (N): valid here, rejected by stdnum.
    village = "N2110105" + "MA0000001"
    code = village + creditcode.check_char(village)
    assert creditcode.is_valid(code)
    assert not uscc.is_valid(code)
    assert creditcode.parse(code).registration_authority_name == "农业农村"


def test_normalize() -> None:
    assert creditcode.normalize(" ９１１１ 0000-6000_37341l ") == "91110000600037341L"
    assert creditcode.parse("91110000 600037341l").code == "91110000600037341L"


@pytest.mark.parametrize(
    ("value", "message", "code"),
    [
        ("", "统一社会信用代码为空", "empty"),
        ("91110000600037341", "统一社会信用代码应为18位，实为17位", "length"),
        (
            "9111I000600037341L",
            "统一社会信用代码第5位“I”不是允许的字符（代码不使用字母I、O、Z、S、V）",
            "characters",
        ),
        (
            "91110000600037341*",
            "统一社会信用代码第18位“*”不是允许的字符（只能是数字或除I、O、Z、S、V外的大写字母）",
            "characters",
        ),
        ("B1110000600037341L", "第1位登记管理部门代码“B”无效", "authority"),
        ("911A0000600037341L", "第4位“A”不是数字（第3至8位是登记管理机关行政区划码）", "region"),
    ],
)
def test_error_messages(value: str, message: str, code: str) -> None:
    error = reason(value)
    assert str(error) == message
    assert error.code == code


def test_check_character_message() -> None:
    body = body_with_check("Y")
    assert uscc.is_valid(body + "Y")
    error = reason(body + "3")
    assert str(error) == "第18位校验码应为Y，实为3"
    assert error.code == "checksum"


def test_check_char_rejects_bad_body() -> None:
    with pytest.raises(InvalidCreditCode, match="计算校验码需要17位代码字符"):
        creditcode.check_char("9111000060003734")


@given(valid_codes)
def test_generated_codes_are_valid_for_both(code: str) -> None:
    assert creditcode.parse(code).code == code
    assert uscc.is_valid(code)


@given(bodies, code_char)
def test_agrees_with_stdnum_on_any_last_character(body: str, last: str) -> None:
    assert creditcode.is_valid(body + last) == uscc.is_valid(body + last)


@given(valid_codes, st.integers(0, 17), code_char)
def test_any_single_change_is_rejected(code: str, position: int, replacement: str) -> None:
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code:
        assert not creditcode.is_valid(changed)


@given(valid_codes)
def test_lower_case_and_spacing_are_accepted(code: str) -> None:
    assert creditcode.parse(" " + code[:8].lower() + " " + code[8:].lower()).code == code


@given(st.text())
def test_normalize_never_fails_and_is_stable(value: str) -> None:
    once = creditcode.normalize(value)
    assert creditcode.normalize(once) == once

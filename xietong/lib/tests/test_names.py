"""Tests of ``xietong.lib.names``: canonical names, traditional input and surname-aware pinyin."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xietong.lib import names
from xietong.lib.names import MIDDLE_DOT

HAN = "王李张刘陈杨黄赵吴周曾单解欧阳司马張陳楊黃趙於鍾乾範國華強偉麗買提艾力阿依古丽吐尔逊扎西次仁"
DOT_VARIANTS = ["·", "•", ".", "・", "﹒", "‧", "∙", "⋅", "･", "·", "．"]


@pytest.mark.parametrize(
    ("value", "original", "simplified"),
    [
        ("  張 三 ", "張三", "张三"),
        ("王\u3000小\u00a0明", "王小明", "王小明"),
        ("王\u200b小明", "王小明", "王小明"),
        ("买买提 ・ 艾力", "买买提·艾力", "买买提·艾力"),
        ("买买提.艾力", "买买提·艾力", "买买提·艾力"),
        ("买买提．艾力", "买买提·艾力", "买买提·艾力"),
        ("阿依古丽•吐尔逊", "阿依古丽·吐尔逊", "阿依古丽·吐尔逊"),
        ("·扎西··次仁·", "扎西·次仁", "扎西·次仁"),
        ("J. Smith", "J. Smith", "J. Smith"),
        ("Ｌｉ  Ｍｉｎｇ", "Li Ming", "Li Ming"),
        ("蕭亞軒", "蕭亞軒", "萧亚轩"),
        ("", "", ""),
    ],
)
def test_normalize_name_examples(value: str, original: str, simplified: str) -> None:
    result = names.normalize_name(value)
    assert (result.original, result.simplified) == (original, simplified)


@pytest.mark.parametrize(
    ("value", "simplified"), [("於小明", "于小明"), ("鍾大文", "钟大文"), ("乾小明", "干小明")]
)
def test_merged_surnames_are_flagged(value: str, simplified: str) -> None:
    result = names.normalize_name(value)
    assert result.simplified == simplified
    assert result.original == value
    assert result.has_merged_surname


@pytest.mark.parametrize("value", ["蕭亞軒", "于小明", "张三", "小於", "乾隆生"])
def test_other_names_are_not_flagged(value: str) -> None:
    assert not names.normalize_name(value).has_merged_surname


def test_to_simplified() -> None:
    assert names.to_simplified("香港特別行政區") == "香港特别行政区"
    assert names.to_simplified("ABC 123") == "ABC 123"
    assert names.to_simplified("") == ""
    assert names.to_simplified("薴") == "苎"  # an OpenCC chain (薴 → 苧 → 苎) followed to its end


@pytest.mark.parametrize(
    ("surname", "reading"),
    [
        ("曾", "zeng"), ("单", "shan"), ("解", "xie"), ("仇", "qiu"), ("区", "ou"), ("查", "zha"),
        ("朴", "piao"), ("翟", "zhai"), ("覃", "qin"), ("乐", "yue"), ("盖", "ge"), ("缪", "miao"),
        ("种", "chong"), ("召", "shao"), ("任", "ren"), ("华", "hua"), ("过", "guo"), ("秘", "bi"),
        ("繁", "po"), ("员", "yun"), ("尉迟", "yu chi"), ("长孙", "zhang sun"), ("阚", "kan"),
        ("卜", "bu"), ("万俟", "mo qi"), ("王", "wang"), ("欧阳", "ou yang"), ("令狐", "ling hu"),
    ],
)  # fmt: skip
def test_surname_readings(surname: str, reading: str) -> None:
    assert names.pinyin_key(surname + "明") == reading + " ming"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("曾国藩", "zeng guo fan"),
        ("单雄信", "shan xiong xin"),
        ("尉迟恭", "yu chi gong"),
        ("长孙无忌", "zhang sun wu ji"),
        ("欧阳修", "ou yang xiu"),
        ("區志強", "ou zhi qiang"),
        ("吕布", "lv bu"),
        ("买买提·艾力", "mai mai ti·ai li"),
        ("单 ・ 于", "dan·yu"),  # a dotted name has no surname rule
        ("Li Ming", "li ming"),
        ("", ""),
    ],
)
def test_pinyin_key(name: str, key: str) -> None:
    assert names.pinyin_key(name) == key


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("张三", ("张", "三")),
        ("欧阳娜娜", ("欧阳", "娜娜")),
        ("司马", ("司马", "")),
        ("买买提·艾力", ("", "买买提·艾力")),
        ("John", ("", "John")),
        ("", ("", "")),
    ],
)
def test_split_surname(name: str, parts: tuple[str, str]) -> None:
    assert names.split_surname(name) == parts


# --- properties -----------------------------------------------------------------------------------


@given(st.text())
def test_normalize_name_is_idempotent(value: str) -> None:
    once = names.normalize_name(value)
    twice = names.normalize_name(once.simplified)
    assert twice.simplified == once.simplified
    assert twice.original == once.simplified


@given(st.text(alphabet=HAN + " \u3000·.・•", max_size=12))
def test_no_space_between_han_and_no_stray_dots(value: str) -> None:
    result = names.normalize_name(value).simplified
    assert not re.search(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]", result)
    assert not re.search(r"[・•]|[\u4e00-\u9fff]\.|\.[\u4e00-\u9fff]", result)
    assert not result.startswith(MIDDLE_DOT)
    assert not result.endswith(MIDDLE_DOT)
    assert MIDDLE_DOT * 2 not in result


@given(
    st.lists(st.text(alphabet=HAN, min_size=1, max_size=4), min_size=2, max_size=3),
    st.data(),
)
def test_any_dot_variant_becomes_middle_dot(parts: list[str], data: st.DataObject) -> None:
    typed = parts[0]
    for part in parts[1:]:
        dot = data.draw(st.sampled_from(DOT_VARIANTS))
        spaces = data.draw(st.sampled_from(["", " ", "\u3000"]))
        typed += spaces + dot + spaces + part
    expected = MIDDLE_DOT.join(names.to_simplified(part) for part in parts)
    assert names.normalize_name(typed).simplified == expected


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ", max_size=20))
def test_full_width_latin_equals_ascii(value: str) -> None:
    full_width = "".join(chr(ord(ch) + 0xFEE0) if ch != " " else "\u3000" for ch in value)
    assert names.normalize_name(full_width) == names.normalize_name(value)


@given(st.text(alphabet=HAN + "·", max_size=8))
def test_pinyin_key_is_ascii_and_traditional_insensitive(value: str) -> None:
    key = names.pinyin_key(value)
    assert re.fullmatch(r"[a-z ·]*", key)
    assert names.pinyin_key(names.to_simplified(value)) == key

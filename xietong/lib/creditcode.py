"""Unified social credit codes (统一社会信用代码, GB 32100-2015) of employers and other organisations.

Eighteen characters: registration authority (1), organisation type (1), the registering authority's
administrative region (6 digits), the organisation code of GB 11714 (9), and a MOD 31 check
character. The alphabet is the digits and the capital letters except I, O, Z, S and V (too easily
confused with 1, 0, 2, 5 and U).

python-stdnum's ``stdnum.cn.uscc`` supplies the check character, but its ``validate`` insists the
first eight characters are digits, which rejects real codes whose authority is a letter (``A``
军队编制, ``N`` 农业农村, ``Y`` 其他); so validation is done here, with Chinese messages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stdnum.cn import uscc

from .text import InvalidValue, until_stable

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ALLOWED = frozenset(ALPHABET)
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_]+")

# 登记管理部门码 and the 机构类别码 defined under each (GB 32100-2015 and later assignments).
AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监督管理（工商）",
    "A": "中央军委改革和编制办公室",
    "N": "农业农村",
    "Y": "其他",
}
ORG_TYPES: dict[str, dict[str, str]] = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    "2": {"1": "外国常驻新闻机构", "9": "其他"},
    "3": {
        "1": "律师执业机构",
        "2": "公证处",
        "3": "基层法律服务所",
        "4": "司法鉴定机构",
        "5": "仲裁委员会",
        "9": "其他",
    },
    "4": {"1": "外国在华文化中心", "9": "其他"},
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},
    "6": {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},
    "8": {"1": "基层工会", "9": "其他"},
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    "A": {"1": "军队事业单位", "9": "其他"},
    "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    "Y": {"1": "其他"},
}


class InvalidCreditCode(InvalidValue):
    """A code that cannot be accepted; ``str(exc)`` says why in Chinese, ``code`` for machines.

    Codes: ``empty``, ``length``, ``characters``, ``authority``, ``region``, ``checksum``.
    """


@dataclass(frozen=True)
class CreditCode:
    """A validated credit code split into its parts."""

    code: str
    registration_authority: str
    org_type: str
    region_code: str
    org_code: str

    @property
    def registration_authority_name(self) -> str:
        """The registering authority in words, e.g. ``工会``."""
        return AUTHORITIES[self.registration_authority]

    @property
    def org_type_name(self) -> str | None:
        """The organisation type in words, or ``None`` for a type not in the published tables."""
        return ORG_TYPES.get(self.registration_authority, {}).get(self.org_type)

    def __str__(self) -> str:
        return self.code


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).upper()
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


def normalize(value: str) -> str:
    """Full-width to ASCII (NFKC), drop spaces, hyphens and underscores, upper-case. Does not validate.

    Repeated until stable, so that it is idempotent even where dropping a space lets NFKC compose
    its neighbours (``A´`` becomes ``A`` + combining acute, then ``Á``).
    """
    return until_stable(_normalize_once, value)


def check_char(first17: str) -> str:
    """The GB 32100 MOD 31 check character for the first 17 characters."""
    if len(first17) != 17 or any(ch not in _ALLOWED for ch in first17):
        raise InvalidCreditCode(
            f"计算校验码需要17位代码字符（数字或除I、O、Z、S、V外的大写字母），收到“{first17}”",
            code="characters",
        )
    return uscc.calc_check_digit(first17)


def _character_problem(position: int, ch: str) -> str:
    if ch in "IOZSV":
        return f"统一社会信用代码第{position}位“{ch}”不是允许的字符（代码不使用字母I、O、Z、S、V）"
    return f"统一社会信用代码第{position}位“{ch}”不是允许的字符（只能是数字或除I、O、Z、S、V外的大写字母）"


def parse(value: str) -> CreditCode:
    """Normalise and validate a code; raise ``InvalidCreditCode`` naming the problem.

    Checks, in order: empty, length, characters, registration authority, region digits, check
    character. The organisation type is not checked: its tables have been amended over the years.
    """
    code = normalize(value)
    if not code:
        raise InvalidCreditCode("统一社会信用代码为空", code="empty")
    if len(code) != 18:
        raise InvalidCreditCode(f"统一社会信用代码应为18位，实为{len(code)}位", code="length")
    for position, ch in enumerate(code, start=1):
        if ch not in _ALLOWED:
            raise InvalidCreditCode(_character_problem(position, ch), code="characters")
    if code[0] not in AUTHORITIES:
        raise InvalidCreditCode(f"第1位登记管理部门代码“{code[0]}”无效", code="authority")
    for position in range(3, 9):
        if not code[position - 1].isdigit():
            raise InvalidCreditCode(
                f"第{position}位“{code[position - 1]}”不是数字（第3至8位是登记管理机关行政区划码）",
                code="region",
            )
    expected = check_char(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(f"第18位校验码应为{expected}，实为{code[17]}", code="checksum")
    return CreditCode(
        code=code,
        registration_authority=code[0],
        org_type=code[1],
        region_code=code[2:8],
        org_code=code[8:17],
    )


def is_valid(value: str) -> bool:
    """True when ``parse`` accepts the value."""
    try:
        parse(value)
    except InvalidCreditCode:
        return False
    return True

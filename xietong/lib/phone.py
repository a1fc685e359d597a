"""Mainland China mobile phone numbers: normalisation and validation with Chinese messages."""

from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"1[3-9]\d{9}")


class InvalidPhone(ValueError):
    """A phone number that is not a mainland mobile number; the message says why, in Chinese."""


def normalize(value: str) -> str:
    """Full-width to ASCII, drop spaces, hyphens and brackets, and a leading +86 / 0086 / 86."""
    text = unicodedata.normalize("NFKC", value or "")
    text = re.sub(r"[\s\-()（）.]", "", text)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if len(text) == 13 and text.startswith("86"):
        text = text[2:]
    return text


def parse(value: str) -> str:
    """Return the 11-digit number or raise ``InvalidPhone`` naming the problem."""
    text = normalize(value)
    if not text:
        raise InvalidPhone("手机号码为空")
    if not text.isdigit():
        raise InvalidPhone(f"手机号码“{value.strip()}”含有非数字字符")
    if len(text) != 11:
        raise InvalidPhone(f"手机号码应为11位，实为{len(text)}位")
    if not _MOBILE.fullmatch(text):
        raise InvalidPhone(f"手机号码“{text}”不是有效的大陆手机号（应以13–19开头）")
    return text


def is_valid(value: str) -> bool:
    """True when ``parse`` would accept the value."""
    try:
        parse(value)
    except InvalidPhone:
        return False
    return True

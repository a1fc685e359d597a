"""Membership numbers (会员编号) and card numbers (会员卡号): one generator each, for one member and for
a bulk import or print batch alike.

A membership number is ``HY``, the year and eight random digits; a card number is ``CARD_PREFIX``,
eleven random digits and a Luhn check digit (16 digits, as bank cards). Both are random, not
sequential, so a number says nothing about how many members a union has. Uniqueness is checked in
one query per round through ``core.bulk.unused_values``.
"""

from __future__ import annotations

import secrets

from django.utils import timezone
from stdnum import luhn

from xietong.core import bulk

from .models import Member, MemberCard

CARD_PREFIX = "8611"
_MEMBER_DIGITS = 8
_CARD_DIGITS = 11


def _random_digits(count: int, width: int) -> list[str]:
    """``count`` random numbers of ``width`` digits (leading zeros kept), drawn from ``secrets``'
    entropy through NumPy: a bulk import asks for a million at once."""
    import numpy as np

    values = np.random.default_rng(secrets.randbits(128)).integers(0, 10**width, size=count)
    return [f"{value:0{width}d}" for value in values.tolist()]


def member_numbers(count: int) -> list[str]:
    """``count`` distinct membership numbers no member holds yet."""
    prefix = f"HY{timezone.localdate():%Y}"
    return bulk.unused_values(
        Member, "number", count, lambda n: [prefix + digits for digits in _random_digits(n, _MEMBER_DIGITS)]
    )


def member_number() -> str:
    """One membership number no member holds yet."""
    return member_numbers(1)[0]


def _card_candidates(count: int) -> list[str]:
    bodies = [CARD_PREFIX + digits for digits in _random_digits(count, _CARD_DIGITS)]
    return [body + luhn.calc_check_digit(body) for body in bodies]


def card_numbers(count: int) -> list[str]:
    """``count`` distinct card numbers no card holds yet."""
    return bulk.unused_values(MemberCard, "number", count, _card_candidates)


def card_number() -> str:
    """One card number no card holds yet."""
    return card_numbers(1)[0]

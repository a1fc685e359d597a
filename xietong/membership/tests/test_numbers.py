"""Membership and card numbers: one generator each, for one member and a bulk import alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from stdnum import luhn

from xietong.core.choices import JobStatus
from xietong.core.testing import clerk, make_org

from .. import actions, numbers
from ..models import Member
from .factories import fresh_id_number, make_member

pytestmark = pytest.mark.django_db


def test_card_numbers_carry_a_luhn_check_digit() -> None:
    made = set(numbers.card_numbers(50)) | {numbers.card_number() for _ in range(5)}
    assert len(made) == 55
    assert all(luhn.is_valid(n) and n.startswith(numbers.CARD_PREFIX) and len(n) == 16 for n in made)


def test_a_number_already_held_is_never_given_again(monkeypatch: pytest.MonkeyPatch) -> None:
    held = make_member(make_org("n-union", kind="grassroots_union"))
    card = held.cards.get()
    # Each generator first draws one free number and one already held, then another free one.
    member_draws = ["0" * 8, held.number[-8:], "00000001"]
    draws: Iterator[str] = iter([*member_draws, "0" * 11, card.number[4:15], "1" * 11])

    def scripted(count: int, width: int) -> list[str]:
        return [next(draws) for _ in range(count)]

    monkeypatch.setattr(numbers, "_random_digits", scripted)
    year = f"HY{timezone.localdate():%Y}"
    assert sorted(numbers.member_numbers(2)) == [f"{year}00000000", f"{year}00000001"]
    fresh = numbers.card_numbers(2)
    assert card.number not in fresh and len(set(fresh)) == 2


def test_one_member_and_a_bulk_import_draw_from_the_same_generator(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    union = make_org("g-union", kind="grassroots_union")
    calls: list[int] = []
    original = numbers._random_digits

    def counting(count: int, width: int) -> list[str]:
        calls.append(count)
        return original(count, width)

    monkeypatch.setattr(numbers, "_random_digits", counting)
    single = make_member(union, with_card=False)
    number = fresh_id_number()
    born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    content = f"姓名,身份证号码,出生日期\n王芳,{number},{born}\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        job = actions.member_import_start(
            organization=union, uploaded=SimpleUploadedFile("a.csv", content), acting_user=clerk()
        )
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert calls == [1, 1]  # the single enrolment, then the import's one new member
    pattern = re.compile(rf"HY{timezone.localdate():%Y}\d{{8}}")
    assert all(pattern.fullmatch(m.number) for m in Member.objects.all()) and Member.objects.count() == 2
    assert single.number != Member.objects.exclude(pk=single.pk).get().number

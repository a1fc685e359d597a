"""Issue 15 §3: rotating the PII key. New values use the new key at once; a resumable job
re-encrypts and re-indexes the existing rows in batches; reads and look-ups (ID number, member
search, the portal's phone sign-in) work for rows of both keys during the switch and after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse

from xietong.core import actions, jobs, pii
from xietong.core.choices import JobStatus
from xietong.core.models import Person, PiiKeyRotation
from xietong.core.testing import Scope, clerk, client_for, make_user
from xietong.membership.models import Member
from xietong.membership.selectors import member_search

from .conftest import member_with_phone, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def keydir(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A key folder of this test's own, holding the rotations; k1 stays the test settings' key."""
    settings.KEY_DIR = tmp_path / "keys"
    settings.XIETONG_PII_ROTATION_BATCH = 2
    pii.reset_caches()
    yield settings.KEY_DIR
    pii.reset_caches()


def _key_of(token: str) -> str:
    return token.split(":")[1]


def _number(person: Person) -> str:
    return pii.decrypt(person.id_number_cipher, field="id_number")


def _found_everywhere(member: Member, outbox: Path) -> None:
    """Reads and every kind of look-up find ``member``, whichever key its row is under."""
    person = Person.objects.get(pk=member.person_id)
    number, phone = _number(person), pii.decrypt(person.phone_cipher, field="phone")
    assert person.id_number_index in pii.id_number_lookup(number)
    assert list(member_search(Member.objects.all(), number)) == [member]
    found = actions.person_lookup(queryset=Person.objects.all(), id_number=number, acting_user=clerk())
    assert found == person
    signed_in(outbox, phone)  # the portal finds the member by the phone's blind index


def test_rotation_reencrypts_in_resumable_batches_while_reads_and_lookups_work(
    scope: Scope, outbox: Path, keydir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = [member_with_phone(scope.home, f"1391111{n:04d}", name=f"李{n}") for n in range(7)]
    assert {_key_of(p.id_number_cipher) for p in Person.objects.all()} == {"k1"}

    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        job = actions.pii_key_rotate(acting_user=None)
    assert job.key_id == "k2" and len(queued) == 1 and (keydir / "pii-k2.key").exists()
    with pytest.raises(ValidationError):  # one rotation at a time
        actions.pii_key_rotate(acting_user=None)

    # New values are encrypted and indexed with the new key at once.
    fresh = member_with_phone(scope.home, "13922220000", name="王新")
    assert _key_of(fresh.person.id_number_cipher) == "k2"
    assert fresh.person.id_number_index == pii.blind_index(_number(fresh.person), purpose="id_number")

    # The worker is killed after two batches (four people): the job fails, its position is kept.
    rewrite, calls = actions._pii_rewrite, []

    def dying(row: Any, fields: Any) -> list[str]:
        calls.append(row.pk)
        if len(calls) > 4:
            raise SystemError("worker killed")
        return rewrite(row, fields)

    monkeypatch.setattr(actions, "_pii_rewrite", dying)
    jobs.job_run(label=job._meta.label, pk=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.table == 0 and job.done_rows == 4
    people = list(Person.objects.order_by("pk"))
    assert [_key_of(p.id_number_cipher) for p in people] == ["k2"] * 4 + ["k1"] * 3 + ["k2"]
    for member in [*members, fresh]:  # both halves read and found
        _found_everywhere(member, outbox)

    # Restarted, it continues after the last saved batch: the rows done are not done again.
    monkeypatch.setattr(actions, "_pii_rewrite", rewrite)
    done_before = {p.pk: p.id_number_cipher for p in people[:4]}
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("keys", "rotate-pii", "--resume")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert job.done_rows == job.total_rows
    people = list(Person.objects.order_by("pk"))
    assert {p.pk: p.id_number_cipher for p in people[:4]} == done_before
    for person in people:  # every token carries k2 and every index is k2's
        assert _key_of(person.id_number_cipher) == _key_of(person.phone_cipher) == "k2"
        assert person.id_number_index == pii.blind_index(_number(person), purpose="id_number")
        phone = pii.decrypt(person.phone_cipher, field="phone")
        assert person.phone_index == pii.blind_index(phone, purpose="phone")
    # The old key is retired for look-ups: one index to search by again.
    assert len(pii.id_number_lookup(_number(people[0]))) == 1
    for member in [*members, fresh]:
        _found_everywhere(member, outbox)
    assert PiiKeyRotation.objects.get().status == JobStatus.DONE


def test_the_operator_page_shows_the_rotation_progress(keydir: Path) -> None:
    with TestCase.captureOnCommitCallbacks(execute=False):
        actions.pii_key_rotate(acting_user=None)
    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert "个人信息密钥轮换至 k2" in page and 'data-testid="job-progress"' in page
    polled = operator.get(
        reverse("exchange:operations"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-progress"
    )
    assert polled.content.decode().lstrip().startswith('<div id="job-progress"')


def test_every_encrypted_column_is_in_the_rotation_list() -> None:
    """A new encrypted column must be added to ``actions.PII_TABLES`` or the rotation misses it."""
    from django.apps import apps

    listed = {
        (label.lower(), cipher)
        for label, fields in actions.PII_TABLES
        for cipher, _aad, _index, _purpose in fields
    }
    present = {
        (model._meta.label_lower, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.name.endswith("_cipher")
    }
    assert present == listed


def test_the_command_starts_one_rotation_at_a_time(keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        call_command("keys", "rotate-pii")
    assert "新密钥 k2 已启用" in capsys.readouterr().out and len(queued) == 1
    assert pii.key_ring().current == "k2" and pii.key_ring().lookup == ("k2", "k1")
    with pytest.raises(CommandError, match="尚未完成"):
        call_command("keys", "rotate-pii")


def test_a_value_indexed_with_the_old_key_in_the_instant_of_the_switch_is_reindexed(
    scope: Scope, keydir: Path
) -> None:
    member = member_with_phone(scope.home, "13933330000")
    with TestCase.captureOnCommitCallbacks(execute=False):
        job = actions.pii_key_rotate(acting_user=None)
    person = Person.objects.get(pk=member.person_id)
    # Encrypted just after the switch (k2) but indexed just before it (k1).
    Person.objects.filter(pk=person.pk).update(
        id_number_cipher=pii.encrypt(_number(person), field="id_number")
    )
    jobs.job_run(label=job._meta.label, pk=job.pk)
    person.refresh_from_db()
    assert person.id_number_index == pii.blind_index(_number(person), purpose="id_number")
    assert list(member_search(Member.objects.all(), _number(person))) == [member]

"""Registering, finding and revealing people: validation, encryption at rest, blind index, audit."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from xietong.core import actions, pii
from xietong.core.models import AuditEvent, Person
from xietong.core.testing import clerk
from xietong.lib import crypto

from .factories import OrganizationFactory, make_person, valid_id_number

pytestmark = pytest.mark.django_db


def test_person_create_derives_identity_and_masks() -> None:
    org = OrganizationFactory.create()
    number = valid_id_number(region="110104", birth=date(1975, 6, 18), sequence=13)
    person = actions.person_create(
        name="李健", id_number=number, phone="139 1107 5618", organization=org, acting_user=None
    )
    assert person.birth_date == date(1975, 6, 18)
    assert person.gender == "M"  # 17th digit 3 is odd
    assert person.id_number_masked == number[:6] + "********" + number[-4:]
    assert person.phone_masked == "139****5618"
    assert person.id_region is not None and person.id_region.abolished  # 原宣武区


def test_nothing_personal_is_stored_in_clear() -> None:
    number = valid_id_number(sequence=7)
    person = make_person(OrganizationFactory.create(), id_number=number, phone="13800138000")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_person WHERE id = %s", [person.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert number not in row
    assert "13800138000" not in row
    assert pii.decrypt(person.id_number_cipher, field="id_number") == number
    with pytest.raises(crypto.DecryptionError):  # the phone token cannot be read as an ID-number token (AAD)
        pii.decrypt(person.phone_cipher, field="id_number")


def test_traditional_and_full_width_input_is_normalised() -> None:
    number = valid_id_number(sequence=21)
    full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    person = make_person(OrganizationFactory.create(), name="鍾麗華", id_number=full_width)
    assert person.name == "钟丽华"
    assert person.name_original == "鍾麗華"
    found = actions.person_lookup(queryset=Person.objects.all(), id_number=number, acting_user=clerk())
    assert found == person


def test_invalid_id_number_is_refused_in_chinese_and_nothing_saved() -> None:
    number = valid_id_number(sequence=5)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationError) as excinfo:
        make_person(OrganizationFactory.create(), id_number=wrong)
    assert "校验码" in excinfo.value.message_dict["id_number"][0]
    assert Person.objects.count() == 0
    assert not AuditEvent.objects.filter(target_type="core.person").exists()


def test_the_same_person_is_not_registered_twice() -> None:
    org = OrganizationFactory.create()
    number = valid_id_number(sequence=9)
    make_person(org, id_number=number)
    with pytest.raises(ValidationError) as excinfo:
        make_person(org, id_number=number.lower())
    assert "已登记" in excinfo.value.message_dict["id_number"][0]
    assert Person.objects.count() == 1


def test_invalid_phone_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_person(OrganizationFactory.create(), phone="12345")
    assert "手机号码" in excinfo.value.message_dict["phone"][0]


def test_reveal_and_lookup_are_audited() -> None:
    person = make_person(OrganizationFactory.create())
    revealed = actions.person_reveal(person=person, acting_user=clerk())
    assert revealed.id_number == pii.decrypt(person.id_number_cipher, field="id_number")
    reveal = AuditEvent.objects.get(action="reveal", target_id=str(person.pk))
    assert reveal.actor_username == "t-clerk"  # the log names who saw whose data
    actions.person_lookup(queryset=Person.objects.all(), id_number=revealed.id_number, acting_user=clerk())
    event = AuditEvent.objects.get(action="lookup")
    assert event.changes["detail"] == {"query": person.id_number_masked, "found": True}
    assert revealed.id_number not in str(event.changes)  # the log keeps the masked number only

"""Fixtures of the portal tests: the SMS outbox in a temporary file, members with their own phones."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from xietong.core.models import Organization
from xietong.core.tests.factories import make_person
from xietong.membership import actions as membership
from xietong.membership.choices import MemberSource
from xietong.membership.models import Member
from xietong.membership.tests.factories import fresh_id_number


@pytest.fixture(autouse=True)
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.XIETONG_SMS_BACKEND = "xietong.portal.sms.FileSender"
    settings.XIETONG_SMS_FILE = tmp_path / "sms" / "outbox.log"
    return settings.XIETONG_SMS_FILE


def member_with_phone(organization: Organization, phone: str, name: str = "李娜") -> Member:
    person = make_person(organization, name=name, phone=phone, id_number=fresh_id_number())
    member = membership.member_create(
        person=person,
        organization=organization,
        joined_on=date(2025, 3, 1),
        source=MemberSource.MANUAL,
        acting_user=None,
    )
    membership.card_issue(member=member, acting_user=None)
    return member


def last_code(outbox: Path, phone: str) -> str:
    """The code in the newest message to ``phone`` in the SMS file."""
    lines = [line for line in outbox.read_text(encoding="utf-8").splitlines() if f"\t{phone}\t" in line]
    found = re.search(r"验证码为(\d{6})", lines[-1])
    assert found, lines[-1]
    return found.group(1)


def ask_code(client: Client, phone: str, **options: Any) -> Any:
    """Ask for a code for ``phone`` and run the queued ``CodeRequest`` job, as the worker does once
    the request has committed (the test's transaction never commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("portal:signin"), {"phone": phone}, **options)


def signed_in(outbox: Path, phone: str) -> Client:
    """A browser signed in to the portal with the code the SMS backend wrote."""
    client = Client()
    ask_code(client, phone)
    answer = client.post(reverse("portal:code"), {"phone": phone, "code": last_code(outbox, phone)})
    assert answer.status_code == 302 and answer["Location"] == reverse("portal:home"), answer
    return client

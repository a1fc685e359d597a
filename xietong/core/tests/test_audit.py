"""The audit log's hash chain: intact after normal use, broken link named after tampering."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from xietong.core import audit
from xietong.core.models import AuditEvent

from .factories import OrganizationFactory, make_person

pytestmark = pytest.mark.django_db


def _events(n: int) -> list[AuditEvent]:
    org = OrganizationFactory.create()
    return [audit.record("update", target=org, detail={"n": i}) for i in range(n)]


def test_chain_links_each_event_to_the_previous() -> None:
    events = _events(3)
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert audit.verify() == (3, None)


def test_verify_names_the_first_edited_row(capsys: pytest.CaptureFixture[str]) -> None:
    events = _events(4)
    with connection.cursor() as cursor:  # an edit behind the application's back
        cursor.execute("UPDATE core_auditevent SET actor_username = 'mallory' WHERE id = %s", [events[2].pk])
    checked, broken = audit.verify()
    assert checked == 2
    assert broken is not None and broken.event_id == events[2].pk
    assert "被修改" in broken.reason
    with pytest.raises(SystemExit) as excinfo:
        call_command("audit", "verify")
    assert excinfo.value.code == 1
    assert f"第{events[2].pk}条" in capsys.readouterr().err


def test_verify_finds_a_deleted_row() -> None:
    events = _events(3)
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    _checked, broken = audit.verify()
    assert broken is not None and broken.event_id == events[2].pk
    assert "删除" in broken.reason


def test_verify_command_reports_an_intact_log(capsys: pytest.CaptureFixture[str]) -> None:
    make_person(OrganizationFactory.create())
    call_command("audit", "verify")
    assert "审计日志完整" in capsys.readouterr().out

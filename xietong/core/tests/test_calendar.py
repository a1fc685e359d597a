"""Working days past the packaged calendar (issue 17, defect 3): an operator enters a year's official
schedule (page and command, audited) and it wins; a deadline in a year without one is provisional."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.urls import reverse

from xietong.core import actions, selectors
from xietong.core.models import AuditEvent, Role, RoleAssignment, User, WorkCalendarYear
from xietong.core.testing import client_for, covers

pytestmark = pytest.mark.django_db

# A schedule in the notice's shape, made up for the test (the 2027 notice is not in the seeds).
HOLIDAYS = [dt.date(2027, 1, 1), dt.date(2027, 2, 5), dt.date(2027, 2, 6)]
WORKDAYS = [dt.date(2027, 1, 9)]


def node_admin() -> User:
    actions.roles_sync()
    user = User.objects.create_user(username="admin", password="x-test-password-1")
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code="node_admin"), organization=None)
    return user


def test_an_entered_year_counts_and_is_audited() -> None:
    assert selectors.work_calendar() == {}
    assert selectors.deadline_is_provisional(dt.date(2027, 1, 5))
    actions.calendar_year_set(
        year=2027, holidays=HOLIDAYS, workdays=WORKDAYS, source="通知", acting_user=None
    )
    assert dt.date(2027, 1, 1) in selectors.work_calendar()[2027].holidays
    assert not selectors.deadline_is_provisional(dt.date(2027, 1, 6))
    entry = WorkCalendarYear.objects.get(year=2027)
    assert AuditEvent.objects.filter(action="create", target_id=str(entry.pk)).exists()


def test_a_schedule_that_cannot_be_right_is_refused() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        actions.calendar_year_set(
            year=2027, holidays=[dt.date(2028, 1, 1)], workdays=[dt.date(2027, 1, 4)], source="",
            acting_user=None,
        )  # fmt: skip
    text = "".join(refused.value.messages)
    assert "不在 2027 年" in text and "应为周六或周日" in text
    assert not WorkCalendarYear.objects.exists()


def test_the_command_sets_and_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("calendar", "set", "2027", "--holidays", "2027-01-01,2027-02-05..2027-02-11",
                 "--workdays", "2027-01-09", "--source", "国务院办公厅通知")  # fmt: skip
    assert WorkCalendarYear.objects.get(year=2027).holidays[:2] == ["2027-01-01", "2027-02-05"]
    toml = tmp_path / "2028.toml"
    toml.write_text(
        'year = 2028\nsource = "通知"\nholidays = ["2028-01-01"]\nworkdays = []\n', encoding="utf-8"
    )
    call_command("calendar", "import", str(toml))
    csv = tmp_path / "2029.csv"
    csv.write_text("日期,类型\n2029-01-01,放假\n2029-01-06,上班\n", encoding="utf-8")
    call_command("calendar", "import", str(csv), "--source", "通知")
    assert WorkCalendarYear.objects.get(year=2029).workdays == ["2029-01-06"]
    with pytest.raises(CommandError, match="无法识别的日期"):
        call_command("calendar", "set", "2030", "--holidays", "2030-02-30")
    call_command("calendar", "show")
    assert "已录入" in capsys.readouterr().out


def test_the_operator_page_warns_a_month_ahead_and_enters_a_year(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 12, 10))
    assert selectors.calendar_missing_next_year(today=dt.date(2026, 11, 1)) is None
    client = client_for(node_admin())
    page = client.get(reverse("core:calendar")).content.decode()
    assert 'data-testid="calendar-missing"' in page and "2027 年的节假日安排尚未录入" in page
    response = client.post(
        reverse("core:calendar"),
        {"year": "2027", "holidays": "2027-01-01\n2027-02-05..2027-02-11", "workdays": "", "source": "通知"},
    )
    assert response.status_code == 302
    page = client.get(reverse("core:calendar")).content.decode()
    assert 'data-testid="calendar-missing"' not in page and "已录入" in page
    assert AuditEvent.objects.filter(actor__username="admin", action="create").exists()


@covers("core:calendar")
def test_others_cannot_open_the_calendar_page() -> None:
    actions.roles_sync()
    user = User.objects.create_user(username="clerk", password="x-test-password-1")
    assert client_for(user).get(reverse("core:calendar")).status_code == 403


def test_a_deadline_without_a_calendar_is_marked_provisional() -> None:
    template = Template("{% load deadlines %}{% provisional_mark due %}")
    assert "暂按周末计算" in template.render(Context({"due": dt.date(2027, 1, 5)}))
    assert "暂按周末计算" not in template.render(Context({"due": dt.date(2026, 12, 14)}))

"""A transfer step's deadline counts with the calendar an operator entered (issue 17, defect 3):
2026-12-15 + 15 working days is 2027-01-05 by weekends alone, 2027-01-06 once 1 January is a holiday."""

from __future__ import annotations

import datetime as dt

import pytest

from xietong.core import actions as core_actions
from xietong.insurance.actions.transfers import _due

pytestmark = pytest.mark.django_db


def test_a_step_deadline_counts_with_the_entered_year() -> None:
    assert _due(dt.date(2026, 12, 15)) == dt.date(2027, 1, 5)  # 1 January counted: weekends only
    core_actions.calendar_year_set(
        year=2027, holidays=[dt.date(2027, 1, 1)], workdays=[], source="通知", acting_user=None
    )
    assert _due(dt.date(2026, 12, 15)) == dt.date(2027, 1, 6)

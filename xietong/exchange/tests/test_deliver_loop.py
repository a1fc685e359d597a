"""The exchange worker (``xietong exchange deliver --loop``) outlives a database that goes away: it waits,
longer each time, and delivers again once the database answers (the real PostgreSQL restart:
``tests/faults/test_postgres_restart.py``)."""

from __future__ import annotations

import contextlib
import io

import pytest
from django.core.management import call_command
from django.db import InterfaceError, OperationalError

from xietong.exchange import actions
from xietong.exchange.management.commands import exchange


class Stop(Exception):
    """Ends the endless loop in the test."""


def test_the_loop_waits_out_a_database_outage_and_delivers_again(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[object] = [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
        actions.DeliveryReport(delivered=3),
        actions.DeliveryReport(),
    ]
    sleeps: list[float] = []

    def deliver_due() -> actions.DeliveryReport:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, actions.DeliveryReport)
        return answer

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if not answers:
            raise Stop

    monkeypatch.setattr(actions, "deliver_due", deliver_due)
    monkeypatch.setattr(actions, "registry_fetch", lambda: False)
    monkeypatch.setattr(actions, "apply_due", actions.ApplyReport)  # the inbox half: nothing stored
    monkeypatch.setattr(actions, "files_expire", lambda: 0)
    monkeypatch.setattr(exchange.processes, "heartbeat", lambda name: None)  # the beats: no database here
    monkeypatch.setattr(exchange.processes, "Ticker", lambda name: contextlib.nullcontext())
    monkeypatch.setattr(exchange.time, "sleep", sleep)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(Stop):
        call_command("exchange", "deliver", "--loop", "--interval", "0.5", stdout=out, stderr=err)
    assert sleeps == [1.0, 2.0, 0.5, 0.5]  # backs off while the database is away, then its usual pace
    assert "数据库不可用" in err.getvalue()
    assert "已送达 3" in out.getvalue()


def test_a_single_pass_still_reports_the_outage() -> None:
    def down() -> None:
        raise OperationalError("down")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(actions, "deliver_due", down)
        with pytest.raises(OperationalError):
            call_command("exchange", "deliver", stdout=io.StringIO())

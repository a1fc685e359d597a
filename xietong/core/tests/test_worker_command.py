"""``xietong worker``: the task worker as a process of its own runs what is queued and beats, also
while a long task runs (issue 15 §1). Committing tests with the database task backend."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from xietong.core import processes
from xietong.core.models import ProcessState

pytestmark = pytest.mark.django_db(transaction=True)
beats_seen: list[Any] = []


@task()
def slow_probe(seconds: float) -> str:
    """A task that takes a while and notes the worker's heartbeat before and after its wait."""
    beats_seen.append(ProcessState.objects.get(name="worker").beat_at)
    time.sleep(seconds)
    beats_seen.append(ProcessState.objects.get(name="worker").beat_at)
    return "done"


@pytest.fixture(autouse=True)
def database_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.XIETONG_HEARTBEAT_SECONDS = 0.3
    processes._last_beat.clear()
    beats_seen.clear()


def test_the_worker_runs_the_queue_and_beats_during_a_long_task() -> None:
    slow_probe.enqueue(1.5)
    call_command("worker", "--batch", "--interval", "0", "--reminders", "0", stdout=io.StringIO())
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    first, last = beats_seen
    assert last > first  # the ticker beat while the task slept
    state = ProcessState.objects.get(name="worker")
    assert state.state == ProcessState.State.RUNNING and state.pid and not state.supervised

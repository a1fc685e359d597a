"""``xietong db_worker`` is the project's worker (not the library's): ids that say where it runs, and a
loop that outlives a database that went away (the real restart: ``tests/faults``)."""

from __future__ import annotations

import pytest
from django.core.management import get_commands
from django.db import InterfaceError, OperationalError
from django_tasks_db.management.commands import db_worker as library

from xietong.core.management.commands import db_worker


def test_the_project_command_takes_the_place_of_the_library_one() -> None:
    assert get_commands()["db_worker"] == "xietong.core"


def test_the_loop_waits_and_carries_on_when_the_database_goes_away(monkeypatch: pytest.MonkeyPatch) -> None:
    outages: list[Exception] = [OperationalError("server closed the connection"), InterfaceError("closed")]
    runs: list[int] = []
    sleeps: list[float] = []
    sweeps: list[str | None] = []

    def run(self: library.Worker) -> None:
        runs.append(1)
        if outages:
            raise outages.pop(0)

    monkeypatch.setattr(library.Worker, "run", run)
    monkeypatch.setattr(db_worker.time, "sleep", sleeps.append)
    answers = [True, False, True, True]  # the database is not back at the first try after the outage

    def sweep(*, also: str | None = None) -> bool:
        sweeps.append(also)
        return answers.pop(0)

    monkeypatch.setattr(db_worker, "sweep", sweep)
    worker = db_worker.Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
        max_tasks=None, worker_id="host:1:ab", excluded_queue_names=[],
    )  # fmt: skip
    worker.run()
    assert len(runs) == 3 and sleeps == [1.0, 2.0, 4.0]  # backs off, then runs on
    # and before it takes new work, fails what it was running when it lost the database
    assert sweeps == [None, "host:1:ab", "host:1:ab", "host:1:ab"]


def test_its_id_names_the_machine_and_the_process() -> None:
    import os
    import socket

    from xietong.core import jobs

    host, pid, _random = jobs.worker_id().split(":")
    assert host == socket.gethostname()[:40] and int(pid) == os.getpid()

"""``xietong db_worker``: django-tasks-db's task worker, made to last on a node.

- Its id says where it runs (``host:pid:…``, ``jobs.worker_id``), and it fails the jobs that a dead
  worker of this machine left ``running`` (``jobs.jobs_fail_abandoned``) when it starts and every
  ``SWEEP_SECONDS`` while it runs: a worker killed mid-import no longer leaves its job running for ever.
- A database that goes away (PostgreSQL restarted, a dropped connection) does not end it: it drops
  its connections, waits (1, 2, 4 … 30 s), fails the task it was running when the database went, and
  carries on.

It takes the place of django-tasks-db's command of the same name (``xietong.core`` comes first in
``INSTALLED_APPS``); its options are the same.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import OperationalError
from django_tasks_db.management.commands import db_worker as base

from xietong.core import jobs
from xietong.core.outage import DATABASE_DOWN, Backoff, close_connections

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0


def sweep(*, also: str | None = None) -> bool:
    """Fail what dead workers left running (and what worker ``also`` left, when it lost the database
    in the middle of a task); ``False`` when the database did not answer (try again later)."""
    try:
        count = jobs.jobs_fail_abandoned(also=also)
    except DATABASE_DOWN as exc:
        logger.warning("检查中断的任务时数据库不可用：%s", str(exc).strip())
        return False
    finally:
        close_connections()
    if count:
        logger.warning("%s 个任务因后台进程中断而未完成：可重来的已重新排队，其余已标记为失败", count)
    return True


class Worker(base.Worker):
    """The library's worker loop, with the sweep beside it and a database outage survived."""

    def run(self) -> None:
        sweep()
        stop = threading.Event()
        sweeper = threading.Thread(target=self._sweep_every, args=(stop,), name="job-sweep", daemon=True)
        sweeper.start()
        backoff = Backoff()
        lost = False  # the database went while this worker may have been running a task
        try:
            while self.running:
                started = time.monotonic()
                try:
                    # Before taking new work, fail the task the outage cut short (its job says why).
                    if lost and not sweep(also=self.worker_id):
                        raise OperationalError("the database does not answer yet")
                    lost = False
                    super().run()
                    return
                except DATABASE_DOWN as exc:
                    if time.monotonic() - started > 60:
                        backoff.reset()  # it had been working: a fresh outage
                    delay = backoff.next()
                    logger.warning("数据库不可用（%s），%.0f 秒后重试", str(exc).strip(), delay)
                    close_connections()
                    time.sleep(delay)
                    lost = True
        finally:
            stop.set()

    def _sweep_every(self, stop: threading.Event) -> None:
        while not stop.wait(SWEEP_SECONDS):
            sweep()


class Command(base.Command):
    help = "运行后台任务进程（导入、比对等）；数据库暂时不可用时等待后继续"

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=jobs.worker_id())

    def handle(self, *args: Any, **options: Any) -> None:
        previous = base.Worker
        base.Worker = Worker  # type: ignore[misc]  # the library's handle builds its module's Worker
        try:
            super().handle(*args, **options)
        finally:
            base.Worker = previous  # type: ignore[misc]

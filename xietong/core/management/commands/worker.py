"""``xietong worker``: the node's task worker, one process of its own (issue 15 §1).

It runs the background tasks (``db_worker``, the node's own: it fails what a dead worker left running
and outlives a database restart; imports, comparison runs, exports),
the reminders of ``notify_due`` every ``--reminders`` seconds, and beats (``ProcessState``) on each
pass and, while a long task runs, from a thread. In production it is a service of its own
(docs/examples/xietong-worker.service); an embedded ``xietong serve`` supervises it.
"""

from __future__ import annotations

import io
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser
from django.db import close_old_connections
from django_tasks_db.models import DBTaskResult

from ... import processes
from ...outage import DATABASE_DOWN
from .db_worker import Command as DbWorkerCommand
from .db_worker import Worker


class BeatingWorker(Worker):
    """db_worker's worker that drains the queue in batches, beating between them and during a task."""

    def run_task(self, db_task_result: DBTaskResult) -> None:
        processes.heartbeat(processes.WORKER)
        with processes.Ticker(processes.WORKER):
            super().run_task(db_task_result)


class Command(DbWorkerCommand):
    help = "运行后台任务进程（导入、比对、导出等任务，以及到期提醒）"

    def add_arguments(self, parser: CommandParser) -> None:  # type: ignore[override]
        super().add_arguments(parser)
        parser.add_argument(
            "--reminders",
            type=float,
            default=300,
            metavar="SECONDS",
            help="每隔 SECONDS 秒发送到期提醒；0 不发送",
        )

    def handle(  # type: ignore[override]
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        backend_name: str,
        startup_delay: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        reminders: float,
        batch: bool = False,
        **options: Any,
    ) -> None:
        self.configure_logging(verbosity)
        processes.set_name(processes.WORKER)
        worker = BeatingWorker(
            queue_names=queue_name.split(","),
            interval=interval,
            batch=True,  # one pass: every ready task, then back here
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        worker.configure_signals()
        reminded = 0.0
        while worker.running:
            processes.heartbeat(processes.WORKER)
            worker.run()
            if max_tasks is not None and worker._run_tasks >= max_tasks:
                return
            if reminders and time.monotonic() - reminded >= reminders:
                reminded = time.monotonic()
                try:
                    call_command("notify_due", stdout=io.StringIO(), stderr=self.stderr)
                except DATABASE_DOWN as exc:  # the next pass's worker waits the outage out
                    self.stderr.write(f"数据库不可用，到期提醒稍后再发：{str(exc).strip()}")
            close_old_connections()
            if batch:
                return
            time.sleep(interval)

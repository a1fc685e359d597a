"""``xietong serve``: run the node's web server (gunicorn, static files by WhiteNoise).

With ``--no-task-worker`` (production, docs/operator-guide.md) it is gunicorn alone, a service of its
own beside ``xietong worker`` and ``xietong exchange deliver --loop``, each restarted by the service
manager. Without it (the embedded node, ``make demo``, the node tests) it supervises all of them
(``xietong.core.processes.Supervisor``): a child that dies is logged with its exit status and the tail
of its error output, restarted with back-off, and shown on ``/health/`` and the operator page;
stopping the server stops them."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from xietong.lib.nodesetup import node_setup_problem

from ... import processes

# gunicorn's access log line as JSON (its atoms: t time, r request line, s status, B bytes, M
# milliseconds, {header}i a request header, {header}o a response header: the request id answered).
ACCESS_JSON = (
    '{"time": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "process": "web", '
    '"message": "%(r)s", "status": %(s)s, "bytes": %(B)s, "duration_ms": %(M)s, '
    '"client": "%({x-real-ip}i)s", "request_id": "%({x-request-id}o)s"}'
)


class Command(BaseCommand):
    help = "以 gunicorn 启动本节点（默认 127.0.0.1:8000），并启动和看护后台任务进程与交换进程"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("XIETONG_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("XIETONG_WORKERS", "2")))
        parser.add_argument(
            "--no-task-worker",
            action="store_true",
            help="只运行 Web 服务（后台任务进程 xietong worker 与交换进程 exchange deliver --loop 单独运行）",
        )

    def handle(self, *args: Any, bind: str, workers: int, no_task_worker: bool, **options: Any) -> None:
        web = [
            sys.executable, "-m", "gunicorn", "xietong.wsgi:application",
            "--bind", bind, "--workers", str(workers), "--access-logfile", "-",
        ]  # fmt: skip
        if settings.XIETONG_LOG_FORMAT == "json":  # gunicorn's access log as JSON lines too
            web += ["--access-logformat", ACCESS_JSON]
        if no_task_worker:  # gunicorn becomes this process: the service manager sees it and signals it
            processes.set_name(processes.WEB)
            sys.stdout.flush()
            os.execv(sys.executable, web)  # noqa: S606 - our own interpreter, no shell
        children = {
            processes.WEB: web,
            # The task worker also sends the reminders (a transfer step due, a queue stalled).
            processes.WORKER: [sys.executable, "-m", "xietong.cli", "worker", "--interval", "0.5"],
        }
        if node_setup_problem(os.environ, settings.BASE_DIR / "var") is None:
            children[processes.EXCHANGE] = [
                sys.executable,
                "-m",
                "xietong.cli",
                "exchange",
                "deliver",
                "--loop",
            ]
        else:  # a single node (xietong demo) has no region group to deliver to
            self.stdout.write("本节点未初始化为区域组节点（xietong node init），不启动交换进程")
        processes.set_name("supervisor")
        supervisor = processes.Supervisor(children)
        signal.signal(signal.SIGTERM, supervisor.stop)
        signal.signal(signal.SIGINT, supervisor.stop)

        def started() -> None:
            self.stdout.write(f"协同节点已启动：http://{bind}/")
            sys.stdout.flush()

        supervisor.run(on_started=started)

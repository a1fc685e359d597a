"""``xietong serve``: run the node under gunicorn (static files by WhiteNoise) and, unless told not
to, the background task worker (``db_worker``), the exchange worker (``exchange deliver --loop``) and
the reminders (``notify_due --loop``) beside it; stopping the server stops them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from xietong.lib.nodesetup import node_setup_problem


class Command(BaseCommand):
    help = "以 gunicorn 启动本节点（默认 127.0.0.1:8000），并启动后台任务进程"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("XIETONG_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("XIETONG_WORKERS", "2")))
        parser.add_argument(
            "--no-task-worker",
            action="store_true",
            help="不启动后台任务进程和交换进程（由单独的 db_worker 与 exchange deliver --loop 运行）",
        )

    def handle(self, *args: Any, bind: str, workers: int, no_task_worker: bool, **options: Any) -> None:
        web = [
            sys.executable, "-m", "gunicorn", "xietong.wsgi:application",
            "--bind", bind, "--workers", str(workers), "--access-logfile", "-",
        ]  # fmt: skip
        children = []
        if not no_task_worker:
            worker = [sys.executable, "-m", "xietong.cli", "db_worker", "--interval", "0.5"]
            children.append(subprocess.Popen(worker))
            # Reminders (a transfer step due, an exchange queue stalled): every five minutes.
            reminders = [sys.executable, "-m", "xietong.cli", "notify_due", "--loop", "300"]
            children.append(subprocess.Popen(reminders))
            if node_setup_problem(os.environ, settings.BASE_DIR / "var") is None:
                exchange = [sys.executable, "-m", "xietong.cli", "exchange", "deliver", "--loop"]
                children.append(subprocess.Popen(exchange))
            else:  # a single node (xietong demo) has no region group to deliver to
                self.stdout.write("本节点未初始化为区域组节点（xietong node init），不启动交换进程")
        server = subprocess.Popen(web)
        children.append(server)
        self.stdout.write(f"协同节点已启动：http://{bind}/")
        sys.stdout.flush()

        def stop(_signum: int, _frame: Any) -> None:
            for child in children:
                child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            server.wait()
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
                    child.wait(timeout=10)

"""``xietong serve``: run the node under gunicorn (static files by WhiteNoise)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "以 gunicorn 启动本节点（默认 127.0.0.1:8000）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("XIETONG_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("XIETONG_WORKERS", "2")))

    def handle(self, *args: Any, bind: str, workers: int, **options: Any) -> None:
        argv = [
            sys.executable, "-m", "gunicorn", "xietong.wsgi:application",
            "--bind", bind, "--workers", str(workers), "--access-logfile", "-",
        ]  # fmt: skip
        self.stdout.write(f"协同节点已启动：http://{bind}/")
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn

"""``xietong notify_due``: run the periodic notification sources the apps register
(``core.home.register_check``): a transfer step due by tomorrow or overdue, an exchange queue older
than its threshold. Each notifies once per record and step, so running it again (every few minutes
by cron, or ``--loop``, as ``xietong serve`` starts it beside the task worker) repeats nothing."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ... import home
from ...outage import DATABASE_DOWN, close_connections

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "发送到期提醒通知（社保关系转移办理时限、交换队列积压等）；可反复运行，不会重复通知"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=int, default=0, metavar="SECONDS", help="每隔 SECONDS 秒运行一次")

    def handle(self, *args: Any, loop: int, **options: Any) -> None:
        while True:
            for check in home.checks():
                try:
                    count = check.run()
                except DATABASE_DOWN as exc:  # PostgreSQL restarted: reconnect on the next round
                    self.stderr.write(f"{check.key}：数据库不可用（{str(exc).strip()}），下一轮再试")
                    close_connections()
                    continue
                except Exception:  # one source failing must not stop the others
                    logger.exception("notification check %s failed", check.key)
                    self.stderr.write(f"{check.key}：出错，已记录日志")
                    continue
                self.stdout.write(f"{check.key}：{count} 项")
            if not loop:
                return
            time.sleep(loop)

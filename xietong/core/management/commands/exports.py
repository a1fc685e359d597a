"""``xietong exports purge``: remove the background exports past their keeping time
(``XIETONG_EXPORT_KEEP_HOURS``), files and rows. Pages purge on access too; a cron job running this
keeps the disk clean on a node where nobody looks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ... import actions


class Command(BaseCommand):
    help = "清理过期的导出文件"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("purge", help="删除超过保留期限的导出文件")

    def handle(self, *args: Any, what: str, **options: Any) -> None:
        removed = actions.export_jobs_purge()
        self.stdout.write(f"已删除 {removed} 个过期的导出文件")

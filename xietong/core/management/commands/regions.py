"""``xietong regions load``: load GB/T 2260 codes (historical ones too) from python-stdnum's table."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xietong.core import actions


class Command(BaseCommand):
    help = "行政区划代码：load 从 python-stdnum 维护的数据表载入（含已撤销的历史代码）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["load"])

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        count = actions.regions_load()
        self.stdout.write(self.style.SUCCESS(f"已载入 {count} 个行政区划代码。"))

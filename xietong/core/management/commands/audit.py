"""``xietong audit verify``: prove the audit log has not been edited (hash chain)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xietong.core import audit


class Command(BaseCommand):
    help = "审计日志工具：verify 逐条校验哈希链，指出第一处断裂"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["verify"], help="verify：校验哈希链")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        checked, broken = audit.verify()
        if broken is None:
            self.stdout.write(self.style.SUCCESS(f"审计日志完整：已校验 {checked} 条记录，哈希链未断裂。"))
            return
        self.stderr.write(f"审计日志已被篡改：{broken.reason}（此前 {checked} 条完好）。")
        sys.exit(1)

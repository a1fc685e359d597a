"""``xietong idnumber VALUE``: check a resident ID number and print what it says."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xietong.lib import idnumber


class Command(BaseCommand):
    help = "校验居民身份证号码，输出规范化号码、出生日期、性别和签发地区；无效时输出原因并以状态1退出"
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("value", help="身份证号码（18位或旧式15位，可含空格、全角数字）")

    def handle(self, *args: Any, value: str, **options: Any) -> None:
        try:
            self.stdout.write(idnumber.describe(value))
        except idnumber.InvalidIdNumber as exc:
            self.stderr.write(f"无效的身份证号码：{exc}")
            sys.exit(1)

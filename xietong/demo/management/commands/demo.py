"""``xietong demo``: set up the embedded node with the demo world and start it."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from xietong.demo import world


class Command(BaseCommand):
    help = "建立演示数据（种子材料中的组织、用人单位、演示账号、合成人员）并启动节点"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--print-users", action="store_true", help="以 JSON 输出演示账号后退出")
        parser.add_argument("--no-serve", action="store_true", help="只建立数据，不启动服务")
        parser.add_argument("--people-per-org", type=int, default=6, help="每个工会的合成人员数")
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            help="让北京市政法卫生文化工会有 N 名实名制会员（按种子材料的发卡比例发卡），如 121500",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_users"]:
            self.stdout.write(
                json.dumps([asdict(a) for a in world.demo_accounts()], ensure_ascii=False, indent=2)
            )
            return
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        counts = world.build(people_per_org=options["people_per_org"], stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据就绪：组织 {counts['organizations']}，用人单位 {counts['employers']}，"
                f"人员 {counts['people']}，账号 {counts['accounts']}"
            )
        )
        if options["scale"]:
            scaled = world.build_scale(options["scale"], stdout=self.stdout)
            self.stdout.write(
                self.style.SUCCESS(
                    f"北京市政法卫生文化工会：实名制会员 {scaled['members']}，已发卡 {scaled['cards']}"
                )
            )
        self.stdout.write(f"演示账号（密码均为 {world.DEMO_PASSWORD}）：")
        for account in world.demo_accounts():
            self.stdout.write(
                f"  {account.username:<18} {account.role:<14} {account.organization or '全节点'}"
            )
        if not options["no_serve"]:
            call_command("serve", bind=options["bind"])

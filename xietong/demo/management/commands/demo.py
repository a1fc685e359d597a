"""``xietong demo``: set up the embedded node with the demo world and start it.

One node plays every region here; ``make demo`` starts the region group instead (京、津、冀 on three
ports, ``xietong.demo.regiongroup``), which runs ``xietong demo --no-serve --node ID`` on each node."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from xietong.demo import world
from xietong.demo.accounts import NODE_PROVINCES


class Command(BaseCommand):
    help = (
        "建立演示数据（种子材料中的组织、用人单位、演示账号、合成人员）并启动单个节点"
        "（默认 http://127.0.0.1:8000/，--bind 改地址）；京津冀三个节点一起启动请用 make demo"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--print-users", action="store_true", help="以 JSON 输出演示账号后退出")
        parser.add_argument("--no-serve", action="store_true", help="只建立数据，不启动服务")
        parser.add_argument("--people-per-org", type=int, default=6, help="每个工会的合成人员数")
        parser.add_argument(
            "--bind", default="127.0.0.1:8000", help="服务地址和端口（默认 127.0.0.1:8000），如 0.0.0.0:8080"
        )
        parser.add_argument(
            "--node",
            choices=sorted(NODE_PROVINCES),
            default=None,
            help="区域组中的节点：只建立该省级地区的组织和账号（make demo 为每个节点使用）；省略则建立全部",
        )
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            help="让北京市政法卫生文化工会有 N 名实名制会员（按种子材料的发卡比例发卡），如 121500",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_users"]:
            accounts = [asdict(a) for a in world.demo_accounts(options["node"])]
            self.stdout.write(json.dumps(accounts, ensure_ascii=False, indent=2))
            return
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        counts = world.build(
            people_per_org=options["people_per_org"], node=options["node"], stdout=self.stdout
        )
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
        for account in world.demo_accounts(options["node"]):
            where = account.place or account.organization or "全节点"
            self.stdout.write(f"  {account.username:<18} {account.role:<16} {where}")
        self.stdout.write(
            f"掌上工会（会员用手机号登录）：/portal/ ；演示短信（验证码）写入 {settings.XIETONG_SMS_FILE}"
        )
        if not options["no_serve"]:
            call_command("serve", bind=options["bind"])

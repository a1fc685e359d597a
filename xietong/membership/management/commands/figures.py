"""``xietong figures rebuild``: recount the membership figures (``OrganizationFigures``,
``JoinDay``) from the roll. The actions keep them current; run this after restoring a backup or
writing to the roll outside the actions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ... import actions


class Command(BaseCommand):
    help = "重新统计会员统计页的汇总数据"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("rebuild", help="按会员名册重新统计各组织的会员数、发卡数和每日入会人数")

    def handle(self, *args: Any, what: str, **options: Any) -> None:
        count = actions.figures_rebuild()
        self.stdout.write(f"已重新统计 {count} 个组织的会员统计数据")

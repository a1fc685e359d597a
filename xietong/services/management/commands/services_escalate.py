"""``xietong services_escalate``: escalate overdue 12351 requests to the parent union (督办) now.
The same escalation runs by itself as a ``xietong notify_due`` check (``services/home.py``); this is
the manual trigger. Running it again escalates nothing twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ... import actions


class Command(BaseCommand):
    help = "将逾期未办的12351服务诉求提交上级工会督办"

    def handle(self, *args: Any, **options: Any) -> None:
        escalated = actions.requests_escalate_overdue()
        self.stdout.write(f"已提交督办：{len(escalated)} 件")

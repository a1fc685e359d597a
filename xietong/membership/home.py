"""What the membership app puts on the home page and in the notifications (issue 12 §2), through
``xietong.core.home``: applications to review, cards reported lost this week, imports that failed,
the key figures of the scope with joins per week; a service-point desk lands on its verification
screen; an import's end notifies the officer who started it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xietong.core.choices import JobStatus
from xietong.core.home import (
    TodoItem,
    list_todo,
    notify_when_finished,
    register_landing,
    register_panel,
    todo,
)

from . import filters, selectors
from .choices import ApplicationStatus

if TYPE_CHECKING:
    from xietong.core.models import User


def _applications(user: User) -> list[TodoItem]:
    return [
        list_todo(
            label=_("待审核的入会申请"),
            url_name="membership:application_list",
            params={"status": ApplicationStatus.SUBMITTED},
            filterset=filters.ApplicationFilter,
            queryset=selectors.join_applications(user=user),
            icon="person-check",
        )
    ]


def _lost_cards(user: User) -> list[TodoItem]:
    return [
        list_todo(
            label=_("本周挂失待补卡"),
            url_name="membership:member_list",
            params={"card": "lost_week"},
            filterset=filters.MemberFilter,
            queryset=selectors.members(user=user),
            icon="credit-card-2-front",
        )
    ]


def _failed_imports(user: User) -> list[TodoItem]:
    """Each import of the last week that failed, linking to its report (there is no import list)."""
    since = timezone.now() - dt.timedelta(days=7)
    failed = selectors.member_imports(user=user).filter(status=JobStatus.FAILED, created_at__gte=since)
    return [
        TodoItem(
            _("导入失败：%(name)s") % {"name": job.original_name},
            1,
            reverse("membership:import_detail", args=[job.pk]),
            "exclamation-triangle",
            urgent=True,
        )
        for job in failed[:5]
    ]


def _figures(user: User) -> dict[str, Any] | None:
    """Members and cards of the scope (its top organisations' rows of ``selectors.figures``) and
    joins per week, as a chart with its table."""
    data = selectors.figures(user=user)
    rows = data["rows"]
    if not rows:
        return None
    top = min(row["organization"].depth for row in rows)
    tops = [row for row in rows if row["organization"].depth == top]
    joins = data["joins"]
    chart = {
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [week for week, _count in joins]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": _("入会人数"), "type": "line", "smooth": True, "data": [c for _w, c in joins]}],
    }
    return {
        "members": sum(row["members"] for row in tops),
        "cards": sum(row["cards"] for row in tops),
        "joins": joins,
        "joins_total": sum(count for _week, count in joins),
        "chart": chart,
    }


todo(key="membership.applications", perm="membership.change_joinapplication", items=_applications, order=10)
todo(key="membership.lost_cards", perm="membership.change_membercard", items=_lost_cards, order=30)
todo(key="membership.imports", perm="membership.add_memberimport", items=_failed_imports, order=40)
register_panel(
    key="membership.figures",
    perm="membership.view_member",
    template="membership/_partials/home_figures.html",
    context=_figures,
    order=10,
)
register_landing(role="service_point", url_name="membership:verify")
notify_when_finished(
    model="membership.MemberImport",
    done=gettext_lazy("会员导入“%(job)s”已完成"),
    failed=gettext_lazy("会员导入“%(job)s”失败，请查看报告"),
    link=lambda job: reverse("membership:import_detail", args=[job.pk]),
)

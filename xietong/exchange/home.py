"""What the exchange puts on its operators' home page and in their notifications (issue 17 defect 7),
through ``xietong.core.home``: the peers whose outgoing queue is older than the threshold
(``XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES``) and the received messages whose application fails and is
retried (ADR 016); ``xietong notify_due`` notifies the operators once per
peer and stalled message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xietong.core.actions import notify
from xietong.core.home import TodoItem, register_check, todo

from . import selectors

if TYPE_CHECKING:
    from xietong.core.models import User

OPERATE = "exchange.operate_exchange"


def _minutes() -> int:
    return int(getattr(settings, "XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES", 30))


def _stale(user: User) -> list[TodoItem]:
    stale = selectors.stale_queues()
    label = _("积压超过%(minutes)s分钟的节点队列") % {"minutes": _minutes()}
    return [TodoItem(label, len(stale), reverse("exchange:operations"), "diagram-2", urgent=True)]


def _failing_inbox(user: User) -> list[TodoItem]:
    count = selectors.inbox_failing().count()
    if not count:  # shown only while there is trouble
        return []
    label = _("收到后处理失败、正在重试的消息")
    return [TodoItem(label, count, reverse("exchange:operations"), "inbox", urgent=True)]


def notify_stale_queues() -> int:
    """Notify every operator of each peer whose queue is older than the threshold: once per peer
    and oldest stalled message, so a new stall after a recovery is told again."""
    stale = selectors.stale_queues()
    for queue in stale:
        if queue.oldest is None:
            continue
        since = timezone.localtime(queue.oldest).strftime("%Y-%m-%d %H:%M")
        notify(
            kind="exchange.stale_queue",
            key=f"exchange.exchangenode:{queue.node.node_id}:{queue.oldest.isoformat()}",
            perm=OPERATE,
            text=_("发往%(name)s的消息自 %(since)s 起未能投递（%(count)s 条待投递）")
            % {"name": queue.node.name, "since": since, "count": queue.pending},
            link=reverse("exchange:operations"),
        )
    return len(stale)


todo(key="exchange.stale_queues", perm=OPERATE, items=_stale, order=50)
todo(key="exchange.failing_inbox", perm=OPERATE, items=_failing_inbox, order=51)
register_check(key="exchange.stale_queues", run=notify_stale_queues)

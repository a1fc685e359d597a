"""What the insurance app puts on the home page and in the notifications (issue 12 §2), through
``xietong.core.home``: transfers waiting for this office's step and those overdue, certification
findings to review, roster imports that failed; ``xietong notify_due`` tells the officers of a
transfer step due by tomorrow or overdue; a roster import's end notifies who started it.
(Findings arriving notify from ``actions.certification.certification_findings_apply``.)"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xietong.core.actions import notify
from xietong.core.choices import JobStatus
from xietong.core.home import TodoItem, list_todo, notify_when_finished, register_check, todo

from . import filters, selectors
from .choices import FindingStatus
from .models import EligibilityCheck, InsuranceTransfer

if TYPE_CHECKING:
    from xietong.core.models import User


def _transfers(user: User) -> list[TodoItem]:
    queryset = selectors.transfers(user=user)
    return [
        list_todo(
            label=_("待本机构办理的社保关系转移"),
            url_name="insurance:transfer_list",
            params={"status": "ours"},
            filterset=filters.TransferFilter,
            queryset=queryset,
            icon="arrow-repeat",
        ),
        list_todo(
            label=_("逾期未办的社保关系转移"),
            url_name="insurance:transfer_list",
            params={"status": "overdue"},
            filterset=filters.TransferFilter,
            queryset=queryset,
            icon="alarm",
            urgent=True,
        ),
    ]


def _findings(user: User) -> list[TodoItem]:
    """Each run with findings to review (待核实), linking to the run's findings filtered the same way."""
    open_runs = (
        selectors.findings(user=user, status=FindingStatus.OPEN)
        .values("run")
        .annotate(count=Count("pk"))
        .order_by("run")
    )
    runs = EligibilityCheck.objects.select_related("roster").in_bulk([row["run"] for row in open_runs[:5]])
    return [
        list_todo(
            label=_("待核实的认证疑点：%(run)s") % {"run": run},
            url_name="insurance:run_detail",
            url_args=(run.pk,),
            params={"status": FindingStatus.OPEN},
            filterset=filters.FindingFilter,
            queryset=selectors.findings(user=user, run=run),
            icon="person-exclamation",
        )
        for run in runs.values()
    ]


def _failed_rosters(user: User) -> list[TodoItem]:
    since = timezone.now() - dt.timedelta(days=7)
    failed = selectors.rosters(user=user).filter(status=JobStatus.FAILED, created_at__gte=since)
    return [
        TodoItem(
            _("名册导入失败：%(title)s") % {"title": roster.title},
            1,
            reverse("insurance:roster_detail", args=[roster.pk]),
            "exclamation-triangle",
            urgent=True,
        )
        for roster in failed[:5]
    ]


def notify_transfers_due(today: dt.date | None = None) -> int:
    """Notify the officers of each transfer whose step is due today or tomorrow and is this node's,
    and of each transfer overdue (``xietong notify_due``). Once per transfer, step and kind."""
    today = today or timezone.localdate()
    waiting = InsuranceTransfer.objects.select_related("organization")
    due = selectors.transfers_in_status(waiting, "ours").filter(
        due_on__gte=today, due_on__lte=today + dt.timedelta(days=1)
    )
    overdue = selectors.transfers_in_status(waiting, "overdue").filter(due_on__lt=today)
    sent = 0
    for kind, transfers, words in (
        (
            "insurance.transfer_due",
            due,
            _("社保关系转移 %(uid)s（%(name)s）本步办理时限为 %(due)s，请及时办理"),
        ),
        ("insurance.transfer_overdue", overdue, _("社保关系转移 %(uid)s（%(name)s）已逾期（时限 %(due)s）")),
    ):
        for transfer in transfers:
            notify(
                kind=kind,
                key=f"insurance.insurancetransfer:{transfer.pk}:{transfer.status}",
                perm="insurance.change_insurancetransfer",
                organization=transfer.organization,
                text=words % {"uid": transfer.uid, "name": transfer.name, "due": transfer.due_on.isoformat()},
                link=reverse("insurance:transfer_detail", args=[transfer.pk]),
            )
            sent += 1
    return sent


todo(key="insurance.transfers", perm="insurance.view_insurancetransfer", items=_transfers, order=20)
todo(key="insurance.findings", perm="insurance.change_certificationfinding", items=_findings, order=25)
todo(key="insurance.rosters", perm="insurance.add_benefitroster", items=_failed_rosters, order=40)
register_check(key="insurance.transfers_due", run=notify_transfers_due)
notify_when_finished(
    model="insurance.BenefitRoster",
    done=gettext_lazy("名册“%(job)s”已导入"),
    failed=gettext_lazy("名册“%(job)s”导入失败，请查看说明"),
    link=lambda job: reverse("insurance:roster_detail", args=[job.pk]),
)

"""The insurance app on the home page and in the notifications (issue 12 §2): transfers waiting for
this office's step and those overdue, counted as their filtered lists count them; ``notify_due``
telling the officers of a step due by tomorrow or overdue, once; findings arrived; a roster import's
end told to who started it."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from xietong.core.models import Notification, Organization
from xietong.core.roles import CERTIFICATION_PERMISSIONS
from xietong.core.testing import clerk, client_for, make_org, make_user

from .. import actions
from ..choices import RosterKind
from ..models import InsuranceTransfer
from .conftest import Peer
from .test_certification import PENSIONERS, entry_of, findings_from_tj, start_run, upload
from .test_transfers import HRSS, ID


def transfer(office: Organization, *, ours: bool = False, due: int = 10) -> InsuranceTransfer:
    """A transfer of ``office``: waiting for the other region, or (``ours``) for this office's answer,
    with its step's limit ``due`` days from today."""
    made = actions.transfer_request(
        organization=office, name="张三", id_number=ID, sending_node="tj",
        applied_on=timezone.localdate(), acting_user=clerk(),
    )  # fmt: skip
    InsuranceTransfer.objects.filter(pk=made.pk).update(
        side="sending" if ours else "receiving", due_on=timezone.localdate() + dt.timedelta(days=due)
    )
    made.refresh_from_db()
    return made


def todos(client: Client) -> dict[str, tuple[int, str]]:
    return {item.label: (item.count, item.url) for item in client.get(reverse("core:home")).context["todos"]}


def test_the_transfer_counts_are_the_totals_of_the_lists_they_link_to(peer: Peer) -> None:
    office = make_org("bj-rs", kind="hrss_bureau")
    other = make_org("bj-rs-2", kind="hrss_bureau")
    transfer(office)  # waits for the other region
    transfer(office, ours=True)
    transfer(office, ours=True, due=-3)  # ours and overdue
    transfer(office, due=-1)  # overdue at the other region
    transfer(other, ours=True, due=-3)  # another office's
    officer = client_for(make_user("officer", perms=HRSS, organization=office))
    lines = todos(officer)
    for label, expected in (("待本机构办理的社保关系转移", 2), ("逾期未办的社保关系转移", 2)):
        count, url = lines[label]
        assert count == expected == officer.get(url).context["paginator"].count, label
    assert lines["待本机构办理的社保关系转移"][1] == "/exchange/transfers/?status=ours"


def test_notify_due_tells_the_office_once_of_steps_due_tomorrow_and_overdue(peer: Peer) -> None:
    office = make_org("bj-rs", kind="hrss_bureau")
    other = make_org("bj-rs-2", kind="hrss_bureau")
    due = transfer(office, ours=True, due=1)
    late = transfer(office, due=-2)
    transfer(office, ours=True, due=5)  # not due yet
    officer = make_user("officer", perms=HRSS, organization=office)
    stranger = make_user("stranger", perms=HRSS, organization=other)
    for _again in range(2):  # the second run notifies nothing twice
        with TestCase.captureOnCommitCallbacks(execute=True):  # the test's transaction never commits
            call_command("notify_due")
    notes = Notification.objects.filter(recipient=officer).order_by("kind")
    assert [(n.kind, n.link) for n in notes] == [
        ("insurance.transfer_due", reverse("insurance:transfer_detail", args=[due.pk])),
        ("insurance.transfer_overdue", reverse("insurance:transfer_detail", args=[late.pk])),
    ]
    assert not Notification.objects.filter(recipient=stranger).exists()


def test_findings_arriving_notify_the_officers_of_the_run_s_office(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    other = make_org("bj-rs-2", kind="hrss_bureau")
    officer = make_user("officer", perms=CERTIFICATION_PERMISSIONS, organization=bureau)
    stranger = make_user("stranger", perms=CERTIFICATION_PERMISSIONS, organization=other)
    run = start_run(bureau, peer)
    wang = entry_of(run, "P001")
    item = {"ref": str(wang.pk), "kind": "fraud_suspected", "score": 1.0, "evidence": "死亡日期 2025-03-02"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        findings_from_tj(peer, run, 1, [item])
    note = Notification.objects.get(recipient=officer, kind="insurance.findings")
    assert run.uid in note.text and note.link == f"/exchange/certification/{run.pk}/?status=open"
    assert not Notification.objects.filter(recipient=stranger).exists()
    count, url = todos(client_for(officer))[f"待核实的认证疑点：{run}"]
    assert count == 1 == client_for(officer).get(url).context["page_obj"].paginator.count


def test_a_roster_import_tells_who_started_it(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    starter = make_user("starter", perms=CERTIFICATION_PERMISSIONS, organization=bureau)
    with TestCase.captureOnCommitCallbacks(execute=True):
        roster = actions.roster_import_start(
            organization=bureau, kind=RosterKind.PENSION, title="养老", uploaded=upload(PENSIONERS),
            mapping={}, acting_user=starter,
        )  # fmt: skip
    note = Notification.objects.get(recipient=starter)
    assert note.kind == "job.done" and note.link == reverse("insurance:roster_detail", args=[roster.pk])

"""Transfer deadlines from the dates the law names (issue 17, defect 2) and the delivery states the
officer and the worker see (defect 5): an application dated 2026-10-09 and entered on 2026-11-30 is
overdue (its letter left after the 15 working days from acceptance) and its limit is the end-to-end one,
not 2026-12-21; a future application is refused; each step shows when it finished and whether late;
the letter reads 待发送 until the exchange delivered it, then 已送达, then 对方已受理."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xietong.core.testing import clerk, client_for, make_org, make_user
from xietong.exchange.choices import MessageStatus
from xietong.exchange.models import ExchangeMessage
from xietong.exchange.testing import outcome

from .. import actions, selectors
from ..models import InsuranceTransfer
from .conftest import Peer
from .test_transfers import HRSS, ID, REQUESTED_FROM_TJ, post

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.date], None]:
    """Set the node's today (``timezone.localdate()`` without an argument)."""
    real = timezone.localdate
    current = [TODAY]

    def localdate(value: Any = None, timezone: Any = None) -> dt.date:
        return real(value, timezone) if value is not None else current[0]

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return lambda day: current.__setitem__(0, day)


def request(applied_on: dt.date) -> InsuranceTransfer:
    return actions.transfer_request(
        organization=make_org("bj-rs", kind="hrss_bureau"), name="张三", id_number=ID,
        sending_node="tj", applied_on=applied_on, acting_user=clerk(),
    )  # fmt: skip


def test_an_old_application_is_overdue_and_its_limit_runs_from_the_application(
    peer: Peer, today: Callable[[dt.date], None]
) -> None:
    transfer = request(dt.date(2026, 10, 9))
    assert transfer.letter_sent_on == TODAY
    # 15 working days from acceptance ended 2026-10-29: the letter left late. The current limit is the
    # end-to-end one (45 working days from 2026-10-09), not 15 from the day of data entry (2026-12-21).
    assert transfer.due_on == dt.date(2026, 12, 10) and transfer.step_late
    assert selectors.transfer_is_overdue(transfer)
    assert list(selectors.transfers_in_status(InsuranceTransfer.objects.all(), "overdue")) == [transfer]
    first, second, third = selectors.transfer_timeline(transfer).steps
    assert (first.due_on, first.finished_on, first.late) == (dt.date(2026, 10, 29), TODAY, True)
    assert second.current and second.due_on is None and not third.current


def test_a_recent_application_is_on_time_and_the_receipt_starts_the_sending_region_clock(
    peer: Peer, today: Callable[[dt.date], None]
) -> None:
    transfer = request(dt.date(2026, 11, 27))
    assert not transfer.step_late and not selectors.transfer_is_overdue(transfer)
    receipt = {
        "uid": transfer.uid,
        "received_on": "2026-12-01",
        "office": "天津市滨海新区人力资源和社会保障局",
    }
    assert (
        outcome(post(peer.deliver_bytes(peer.message("insurance.transfer_received", receipt))))["status"]
        == "applied"
    )
    transfer.refresh_from_db()
    assert transfer.letter_received_on == dt.date(2026, 12, 1)
    assert transfer.due_on == dt.date(2026, 12, 22)  # 15 working days from receipt of the letter
    assert transfer.peer_office == "天津市滨海新区人力资源和社会保障局"


def test_a_future_application_is_refused(peer: Peer, today: Callable[[dt.date], None]) -> None:
    with pytest.raises(ValidationError) as caught:
        request(dt.date(2027, 3, 1))
    assert caught.value.message_dict["applied_on"] == ["申请日期不能晚于今天"]
    future = {**REQUESTED_FROM_TJ, "applied_on": "2027-03-01"}
    ack = outcome(post(peer.deliver_bytes(peer.message("insurance.transfer_requested", future))))
    assert ack["status"] == "rejected" and ack["reason"] == "申请日期晚于今天"


def test_the_sending_region_counts_from_receipt_and_a_completed_transfer_shows_each_step(
    peer: Peer, today: Callable[[dt.date], None]
) -> None:
    make_org("bj-rs", kind="hrss_bureau")
    post(peer.deliver_bytes(peer.message("insurance.transfer_requested", REQUESTED_FROM_TJ)))
    incoming = InsuranceTransfer.objects.get(uid="e" * 32)
    assert incoming.letter_received_on == TODAY and incoming.due_on == dt.date(2026, 12, 21)
    receipt = ExchangeMessage.objects.get(kind="insurance.transfer_received")
    assert receipt.receiver == "tj" and receipt.body["received_on"] == "2026-11-30"
    today(dt.date(2026, 12, 23))  # answered two working days after the limit
    actions.transfer_answer(
        transfer=incoming, periods="2010-01,2019-12,5000", personal_account=Decimal(1), acting_user=clerk()
    )
    body = {"uid": incoming.uid, "completed_on": "2026-12-24", "funds_received_on": "2026-12-23"}
    post(peer.deliver_bytes(peer.message("insurance.transfer_completed", body)))
    incoming.refresh_from_db()
    assert incoming.status == "completed" and incoming.step_late
    steps = selectors.transfer_timeline(incoming).steps
    assert [(step.finished_on, step.late) for step in steps] == [
        (dt.date(2026, 11, 23), False),
        (dt.date(2026, 12, 23), True),
        (dt.date(2026, 12, 24), False),
    ]
    officer = client_for(make_user("officer", perms=HRSS, node_wide=True))
    page = officer.get(reverse("insurance:transfer_detail", args=[incoming.pk])).content.decode()
    assert "本步办理时限" not in page and "逾期办结" in page and "办结于 2026-12-23" in page


def test_the_letter_reads_pending_delivered_then_accepted_and_the_worker_sees_no_node_ids(
    peer: Peer, today: Callable[[dt.date], None]
) -> None:
    transfer = request(dt.date(2026, 11, 27))
    officer = client_for(make_user("officer", perms=HRSS, node_wide=True))
    worker = Client()

    def pages() -> tuple[str, str]:
        return (
            officer.get(reverse("insurance:transfer_detail", args=[transfer.pk])).content.decode(),
            worker.get(reverse("insurance:transfer_status", args=[transfer.status_token])).content.decode(),
        )

    for page in pages():
        assert "联系函待发送" in page and "已发联系函" not in page
    ExchangeMessage.objects.filter(kind="insurance.transfer_requested").update(status=MessageStatus.ACKED)
    for page in pages():
        assert "联系函已送达" in page and "对方已受理" not in page
    receipt = {"uid": transfer.uid, "received_on": "2026-11-30", "office": "天津市人力资源和社会保障局"}
    post(peer.deliver_bytes(peer.message("insurance.transfer_received", receipt)))
    _officer_page, worker_page = pages()
    assert "联系函已送达，对方已受理" in worker_page
    assert "天津市 → 北京市" in worker_page and "天津市人力资源和社会保障局" in worker_page
    # No node id as a word (a random CSRF token may hold the letters "tj").
    assert not re.search(r"(?<![\w-])(tj|bj)(?![\w-])", worker_page)

"""Social-insurance transfers: the receiving region's request, the sending region's answer as it
arrives here, the amounts, the working-day limits, and answers that must be refused."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from xietong.core.testing import clerk, client_for, make_org, make_user
from xietong.exchange.models import ExchangeMessage
from xietong.exchange.testing import outcome, post_inbox
from xietong.lib import idnumber

from .. import actions, selectors
from ..choices import TransferStatus
from ..models import InsuranceTransfer
from ..periods import InvalidPeriods, parse_periods
from .conftest import Peer

HRSS = [
    "insurance.view_insurancetransfer",
    "insurance.add_insurancetransfer",
    "insurance.change_insurancetransfer",
]
BODY = "12010119800101123"
ID = BODY + idnumber.check_digit(BODY)


# What the Tianjin node sends when a worker asks there to bring their record from Beijing (this node).
REQUESTED_FROM_TJ = {
    "uid": "e" * 32,
    "name": "李四",
    "id_number": ID,
    "scheme": "pension",
    "applied_on": "2026-11-23",
    "authority": "天津市人力资源和社会保障局",
}


def request_one() -> InsuranceTransfer:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    return actions.transfer_request(
        organization=bureau,
        name="張三",
        id_number=ID,
        sending_node="tj",
        applied_on=dt.date(2026, 11, 23),
        acting_user=clerk(),
    )


def post(raw: bytes) -> Any:
    return post_inbox(raw)


def test_the_request_is_kept_masked_and_sent_with_the_id_number(peer: Peer) -> None:
    transfer = request_one()
    assert transfer.name == "张三" and transfer.id_number_masked == f"120101********{ID[-4:]}"
    assert ID not in json.dumps(transfer.snapshot(), ensure_ascii=False)
    message = ExchangeMessage.objects.get(kind="insurance.transfer_requested")
    assert message.receiver == "tj" and message.body["id_number"] == ID
    assert transfer.due_on > transfer.applied_on and transfer.status == TransferStatus.REQUESTED


def test_the_answer_from_the_sending_region_moves_the_transfer_on(peer: Peer) -> None:
    transfer = request_one()
    body = {
        "uid": transfer.uid,
        "periods": [{"start": "2010-01", "end": "2019-12", "base": "5000"}],
        "personal_account": "48000.00",
        "pooled_amount": "72000.00",
        "answered_on": "2026-11-30",
    }
    ack = outcome(post(peer.deliver_bytes(peer.message("insurance.transfer_answered", body))))
    assert ack["status"] == "applied"
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ANSWERED and transfer.fund_transfer_amount == Decimal(
        "120000.00"
    )
    actions.transfer_complete(transfer=transfer, acting_user=clerk())
    assert ExchangeMessage.objects.filter(kind="insurance.transfer_completed", receiver="tj").exists()


def test_an_answer_for_a_request_that_does_not_exist_is_rejected(peer: Peer) -> None:
    body = {"uid": "f" * 32, "reason": "无此人参保记录"}
    ack = outcome(post(peer.deliver_bytes(peer.message("insurance.transfer_refused", body))))
    assert ack["status"] == "rejected" and ack["reason"] == f"转移申请 {'f' * 32} 不存在"


def test_the_sending_region_answers_with_the_pooled_fund_computed(peer: Peer) -> None:
    make_org("bj-rs", kind="hrss_bureau")  # the office an incoming request goes to
    body = REQUESTED_FROM_TJ
    assert (
        outcome(post(peer.deliver_bytes(peer.message("insurance.transfer_requested", body))))["status"]
        == "applied"
    )
    transfer = InsuranceTransfer.objects.get(uid="e" * 32)
    assert transfer.side == "sending" and selectors.transfer_waits_on_this_node(transfer)
    periods = parse_periods("1996-01,1998-12,1000\n2019-01，2019-12，6000")  # full-width comma too
    actions.transfer_answer(
        transfer=transfer, periods=periods, personal_account=Decimal("30000"), acting_user=clerk()
    )
    # 12 months of 1998 at 1000 + 12 months at 6000, times 12 % (1996–97 are before the pooled fund)
    assert transfer.pooled_amount == Decimal("10080.00") and transfer.fund_transfer_amount == Decimal(
        "40080.00"
    )
    assert ExchangeMessage.objects.get(kind="insurance.transfer_answered").receiver == "tj"


def test_bad_contribution_lines_are_named_and_nothing_is_read() -> None:
    with pytest.raises(InvalidPeriods) as caught:
        parse_periods("2019-01,2018-12,6000\n2019-13,2019-12,6000\n2019-01,2019-12")
    assert caught.value.errors == [
        "第1行“2019-01,2018-12,6000”：截止年月早于起始年月",
        "第2行“2019-13,2019-12,6000”：年月应写作 2019-12，基数为数字",
        "第3行“2019-01,2019-12”：应为 起始年月,截止年月,月缴费基数 三项",
    ]


def test_a_bad_id_number_or_an_unknown_region_is_refused(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    with pytest.raises(ValidationError) as caught:
        actions.transfer_request(
            organization=bureau,
            name="张三",
            id_number=ID[:-1] + "0",
            sending_node="tj",
            applied_on=dt.date(2026, 11, 23),
            acting_user=clerk(),
        )
    assert "校验码" in caught.value.message_dict["id_number"][0]
    with pytest.raises(ValidationError):
        actions.transfer_request(
            organization=bureau,
            name="张三",
            id_number=ID,
            sending_node="sh",
            applied_on=dt.date(2026, 11, 23),
            acting_user=clerk(),
        )
    assert not InsuranceTransfer.objects.exists() and not ExchangeMessage.objects.exists()


def test_overdue_transfers_are_flagged_and_the_worker_sees_the_state(peer: Peer) -> None:
    transfer = request_one()
    InsuranceTransfer.objects.filter(pk=transfer.pk).update(due_on=dt.date(2026, 1, 5))
    officer = client_for(make_user("officer", perms=HRSS, node_wide=True))
    page = officer.get(reverse("insurance:transfer_list"), {"status": "overdue"}).content.decode()
    assert "张三" in page and 'data-testid="overdue"' in page
    status = Client().get(reverse("insurance:transfer_status", args=[transfer.status_token])).content.decode()
    assert "已受理，待转出地答复" in status and "联系函待发送" in status and ID not in status


def test_the_counter_page_accepts_an_application(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=HRSS, organization=bureau))
    data = {
        "organization": bureau.pk,
        "name": "王五",
        "id_number": ID,
        "scheme": "pension",
        "sending_node": "tj",
        "applied_on": "2026-11-23",
    }
    response = officer.post(reverse("insurance:transfer_create"), data)
    transfer = InsuranceTransfer.objects.get()
    assert response["Location"] == reverse("insurance:transfer_detail", args=[transfer.pk])
    bad = officer.post(reverse("insurance:transfer_create"), {**data, "id_number": "12345"}).content.decode()
    assert "身份证号码" in bad and InsuranceTransfer.objects.count() == 1


def test_each_step_through_the_api(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    api = client_for(make_user("officer", perms=HRSS, organization=bureau))
    url = reverse("transfer-list")
    data = {
        "organization": bureau.pk,
        "name": "王五",
        "id_number": ID,
        "sending_node": "tj",
        "applied_on": "2026-11-23",
    }
    created = api.post(url, data, content_type="application/json")
    assert created.status_code == 200 and created.json()["status"] == "requested"
    assert api.get(url).json()["results"][0]["id_number_masked"].startswith("120101")
    wrong_side = api.post(
        reverse("transfer-answer", args=[created.json()["id"]]),
        {"periods": "2010-01,2019-12,5000", "personal_account": "1"},
        content_type="application/json",
    )
    assert wrong_side.status_code == 400 and "只有转出地" in str(wrong_side.json())
    body = REQUESTED_FROM_TJ
    post(peer.deliver_bytes(peer.message("insurance.transfer_requested", body)))
    incoming = InsuranceTransfer.objects.get(uid="e" * 32)
    bad = api.post(
        reverse("transfer-answer", args=[incoming.pk]),
        {"periods": "2019-13,2019-12,1", "personal_account": "1"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "第1行" in str(bad.json()["periods"])
    answered = api.post(
        reverse("transfer-answer", args=[incoming.pk]),
        {"periods": "2010-01,2019-12,5000", "personal_account": "48000"},
        content_type="application/json",
    )
    assert answered.json()["fund_transfer_amount"] == "120000.00"


def test_a_transfer_of_another_office_is_not_found_and_incoming_ones_are_not_shared(peer: Peer) -> None:
    own = request_one()  # accepted by bj-rs, the node's top HRSS office
    post(peer.deliver_bytes(peer.message("insurance.transfer_requested", REQUESTED_FROM_TJ)))
    incoming = InsuranceTransfer.objects.get(uid="e" * 32)
    assert incoming.organization == own.organization
    other = client_for(make_user("other", perms=HRSS, organization=make_org("tj-office", kind="hrss_bureau")))
    assert other.get(reverse("insurance:transfer_detail", args=[own.pk])).status_code == 404
    assert other.get(reverse("transfer-detail", args=[own.pk])).status_code == 404
    assert other.post(reverse("insurance:transfer_step", args=[own.pk, "complete"])).status_code == 404
    assert other.get(reverse("insurance:transfer_detail", args=[incoming.pk])).status_code == 404
    assert other.get(reverse("transfer-list")).json()["results"] == []
    officer = client_for(make_user("officer", perms=HRSS, organization=own.organization))
    by_name = officer.get(reverse("insurance:transfer_list"), {"q": "李四"}).content.decode()
    assert "李四" in by_name and "张三" not in by_name

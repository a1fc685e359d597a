"""The sending region's answer form (issue 17, defect 6): a refused answer keeps everything typed and
names the lines at fault; a record pasted from Excel (tab-separated) is read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from xietong.core.testing import client_for, make_org, make_user

from ..choices import TransferStatus
from ..models import InsuranceTransfer
from .conftest import Peer
from .test_transfers import HRSS, REQUESTED_FROM_TJ, post


@pytest.fixture
def incoming(peer: Peer) -> InsuranceTransfer:
    make_org("bj-rs", kind="hrss_bureau")
    post(peer.deliver_bytes(peer.message("insurance.transfer_requested", REQUESTED_FROM_TJ)))
    return InsuranceTransfer.objects.get(uid="e" * 32)


def answer(transfer: InsuranceTransfer, periods: str, account: str) -> tuple[int, str]:
    officer = client_for(make_user("officer", perms=HRSS, organization=transfer.organization))
    response = officer.post(
        reverse("insurance:transfer_step", args=[transfer.pk, "answer"]),
        {"periods": periods, "personal_account": account},
    )
    return response.status_code, response.content.decode()


def test_a_refused_answer_keeps_what_was_typed_and_names_the_lines(incoming: InsuranceTransfer) -> None:
    typed = "2010-01,2015-12,4000\n2014-01,2016-12,4000\n2026-01,2027-12,9000"
    status, page = answer(incoming, typed, "-5")
    assert status == 200
    assert f"{typed}</textarea>" in page.replace("\r\n", "\n") and 'value="-5"' in page
    assert "第2行（2014-01至2016-12）：与第1行（2010-01至2015-12）重叠" in page
    today = timezone.localdate()  # the answer's date: months after its month are not reached yet
    later = (2027 * 12 + 12) - (today.year * 12 + today.month)
    assert f"第3行（2026-01至2027-12）：{later}个月晚于答复日期所在月份" in page
    assert "个人账户储存额不能为负数" in page
    incoming.refresh_from_db()
    assert incoming.status == TransferStatus.REQUESTED and incoming.pooled_amount is None


def test_a_bad_line_keeps_the_balance_too(incoming: InsuranceTransfer) -> None:
    status, page = answer(incoming, "2010-01,2015-12,4000\n2016-13,2016-12,4000", "48000.50")
    assert status == 200 and "第2行“2016-13,2016-12,4000”" in page and 'value="48000.50"' in page
    assert "2016-13,2016-12,4000</textarea>" in page


def test_a_record_pasted_from_excel_is_answered(incoming: InsuranceTransfer) -> None:
    pasted = "起始年月\t截止年月\t缴费基数\r\n2010.01-2014.12\t4,000.00\r\n201501\t201912\t6000\r\n"
    status, _page = answer(incoming, pasted, "48000")
    assert status == 302
    incoming.refresh_from_db()
    # (60 × 4000 + 60 × 6000) × 12 %
    assert incoming.status == TransferStatus.ANSWERED and incoming.pooled_amount == Decimal("72000.00")
    assert incoming.periods[0] == {"start": "2010-01", "end": "2014-12", "base": "4000.00"}

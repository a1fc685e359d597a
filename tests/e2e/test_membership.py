"""A worker joins from a QR link on a phone, an officer approves, the e-card is verified at the
hospital desk, reported lost, and refused — in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from xietong.core.tests.factories import valid_id_number
from xietong.demo.world import DEMO_PASSWORD
from xietong.membership.models import OutreachEvent

from .conftest import login

pytestmark = [pytest.mark.e2e]


def test_join_approve_ecard_verify_report_lost(
    browser: Any, live_server: Any, demo_world: dict[str, int]
) -> None:
    event = OutreachEvent.objects.get()
    phone = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    worker = phone.new_page()
    worker.set_default_timeout(15_000)

    # The worker scans the event's QR code: the union's name and the privacy notice are shown.
    worker.goto(f"/join/e/{event.code}/")
    assert "中关村科学城总工会" in worker.get_by_test_id("join-union").inner_text()
    number = valid_id_number(region="110108", sequence=417)
    worker.get_by_label("姓名").fill("林 晓 燕")
    worker.get_by_label("身份证号码").fill(number[:17] + ("0" if number[17] != "0" else "1"))  # a typo first
    worker.get_by_label("手机号码").fill("13911112222")
    worker.get_by_label("工作单位").fill("快手集团")
    worker.get_by_label("我已阅读并同意上述个人信息处理规则").check()
    worker.get_by_role("button", name="提交入会申请").click()
    assert "逐位核对" in worker.locator('[data-field="id_number"]').inner_text()
    worker.get_by_label("身份证号码").fill(number)
    worker.get_by_role("button", name="提交入会申请").click()
    # The same answer whatever the number's state; the outcome is shown for the phone on record.
    assert "已收到，请凭手机号查询进度" in worker.locator("h1").inner_text()
    worker.get_by_test_id("status-link").click()
    status_url = worker.url
    worker.get_by_label("手机号码").fill("13911112222")
    worker.get_by_role("button", name="查询").click()
    assert worker.get_by_test_id("application-status").inner_text() == "待审核"

    # The officer of 中关村科学城总工会 approves it from the review queue.
    officer = browser.new_context(base_url=live_server.url, locale="zh-CN").new_page()
    officer.set_default_timeout(15_000)
    login(officer, "bj_officer", DEMO_PASSWORD)
    officer.goto("/membership/applications/")
    row = officer.get_by_test_id("application-row").filter(has_text="林晓燕")
    row.get_by_role("button", name="通过", exact=True).click()
    assert "已通过：林晓燕" in officer.locator(".alert-success").inner_text()

    # The worker opens the e-card: a QR code with a signed token.
    worker.goto(status_url)
    worker.get_by_label("手机号码").fill("13911112222")
    worker.get_by_role("button", name="查询").click()
    assert worker.get_by_test_id("application-status").inner_text() == "已通过"
    worker.get_by_role("link", name="打开会员电子卡").click()
    token = worker.get_by_test_id("ecard-qr").get_attribute("data-token")
    assert token and token.startswith("XT1.")
    assert worker.get_by_test_id("ecard-qr").locator("svg").count() == 1

    # The hospital desk verifies it.
    desk = browser.new_context(base_url=live_server.url, locale="zh-CN").new_page()
    desk.set_default_timeout(15_000)
    login(desk, "hospital_desk", DEMO_PASSWORD)
    desk.goto("/membership/verify/")
    desk.get_by_label("会员卡二维码").fill(token)
    desk.get_by_role("button", name="核验").click()
    ok = desk.get_by_test_id("verify-ok").inner_text()
    assert "核验通过" in ok and "林晓燕" in ok and "110108********" in ok and number not in ok

    # The card is reported lost; a fresh token from the phone is refused at once.
    officer.goto("/membership/members/?q=林晓燕")
    officer.locator("#results tbody a").first.click()  # the header links sort the table
    officer.get_by_role("button", name="挂失").click()  # asks for confirmation and a reason first
    dialog = officer.locator(".modal.show")
    dialog.get_by_label("原因").fill("会员来电报失")
    dialog.get_by_role("button", name="确认挂失").click()
    assert officer.get_by_test_id("card-status").first.inner_text() == "已挂失"
    worker.reload()
    assert "已挂失或暂停使用" in worker.get_by_test_id("no-card").inner_text()
    desk.get_by_label("会员卡二维码").fill(token)
    desk.get_by_role("button", name="核验").click()
    assert "已挂失" in desk.get_by_test_id("verify-refused").inner_text()

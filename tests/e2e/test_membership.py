"""A worker joins from a QR link on a phone, an officer approves, the e-card is verified at the
hospital desk, reported lost, and refused — in a real browser, in Chinese and in English."""

from __future__ import annotations

from typing import Any

import pytest

from xietong.core.tests.factories import valid_id_number
from xietong.demo.world import DEMO_PASSWORD
from xietong.membership.models import Member, OutreachEvent

from .conftest import LANGUAGES, login, new_context, tr

pytestmark = [pytest.mark.e2e]


@pytest.mark.parametrize("lang", LANGUAGES, indirect=True)
def test_join_approve_ecard_verify_report_lost(
    browser: Any, live_server: Any, demo_world: dict[str, int], lang: str
) -> None:
    event = OutreachEvent.objects.get()
    phone = new_context(browser, live_server, lang, viewport={"width": 390, "height": 844})
    worker = phone.new_page()
    worker.set_default_timeout(15_000)

    # The worker scans the event's QR code: the union's name and the privacy notice are shown.
    worker.goto(f"/join/e/{event.code}/")
    assert worker.locator("html").get_attribute("lang") == lang
    assert "中关村科学城总工会" in worker.get_by_test_id("join-union").inner_text()
    number = valid_id_number(region="110108", sequence=417)
    worker.locator("[name=name]").fill("林 晓 燕")
    worker.locator("[name=id_number]").fill(number[:17] + ("0" if number[17] != "0" else "1"))  # a typo first
    worker.locator("[name=phone_number]").fill("13911112222")
    worker.locator("[name=employer_name]").fill("快手集团")
    worker.locator("[name=consent]").check()
    worker.get_by_role("button", name=tr(lang, "提交入会申请")).click()
    typo = worker.locator('[data-field="id_number"]').inner_text()
    assert tr(lang, "身份证号码有一位填写有误，请对照身份证逐位核对后重新填写") in typo  # no digit to "fix"
    worker.locator("[name=id_number]").fill(number)
    worker.get_by_role("button", name=tr(lang, "提交入会申请")).click()
    # The same answer whatever the number's state; the outcome is shown for the phone on record.
    assert tr(lang, "已收到，请凭手机号查询进度") in worker.locator("h1").inner_text()
    worker.get_by_test_id("status-link").click()
    status_url = worker.url
    worker.locator("[name=phone_number]").fill("13911112222")
    worker.locator("main form button[type=submit]").click()
    assert worker.get_by_test_id("application-status").inner_text() == tr(lang, "待审核")

    # The officer of 中关村科学城总工会 approves it from the review queue.
    officer = new_context(browser, live_server, lang).new_page()
    officer.set_default_timeout(15_000)
    login(officer, "bj_officer", DEMO_PASSWORD)
    officer.goto("/membership/applications/")
    row = officer.get_by_test_id("application-row").filter(has_text="林晓燕")
    row.get_by_role("button", name=tr(lang, "通过"), exact=True).click()
    assert "林晓燕" in officer.locator(".alert-success").inner_text()
    member = Member.objects.get(person__name="林晓燕")
    assert member.employer_name == "快手集团" or member.employer is not None  # the employer is kept

    # The worker opens the e-card: a QR code with a signed token.
    worker.goto(status_url)
    worker.locator("[name=phone_number]").fill("13911112222")
    worker.locator("main form button[type=submit]").click()
    assert worker.get_by_test_id("application-status").inner_text() == tr(lang, "已通过")
    worker.get_by_role("link", name=tr(lang, "打开会员电子卡")).click()
    token = worker.get_by_test_id("ecard-qr").get_attribute("data-token")
    assert token and token.startswith("XT1.")
    assert worker.get_by_test_id("ecard-qr").locator("svg").count() == 1

    # The hospital desk verifies it.
    desk = new_context(browser, live_server, lang).new_page()
    desk.set_default_timeout(15_000)
    login(desk, "hospital_desk", DEMO_PASSWORD)
    desk.goto("/membership/verify/")
    desk.locator("[name=token]").fill(token)
    desk.locator("#verify-form > button[type=submit]").click()
    ok = desk.get_by_test_id("verify-ok").inner_text()
    assert tr(lang, "核验通过") in ok and "林晓燕" in ok and "110108********" in ok and number not in ok

    # The card is reported lost; a fresh token from the phone is refused at once.
    officer.goto("/membership/members/?q=林晓燕")
    officer.locator("#results tbody a").first.click()  # the header links sort the table
    # Reporting a card lost asks for confirmation and a reason first.
    officer.get_by_role("button", name=tr(lang, "挂失"), exact=True).click()
    dialog = officer.locator(".modal.show")
    dialog.locator("[name=reason]").fill("会员来电报失")
    dialog.locator("button[type=submit]").click()
    assert officer.get_by_test_id("card-status").first.inner_text() == tr(lang, "已挂失")
    worker.reload()
    assert worker.get_by_test_id("no-card").is_visible()
    desk.locator("[name=token]").fill(token)
    desk.locator("#verify-form > button[type=submit]").click()
    assert tr(lang, "此卡已挂失，不能使用") in desk.get_by_test_id("verify-refused").inner_text()

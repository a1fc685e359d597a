"""The member portal on a phone (issue 14 §4) and the hospital desk's free registrations (§3), in a
real browser: a member signs in on a 360×740 screen with the code the demo's SMS backend wrote,
files a 法律援助 request and finds it in their list; the 门头沟 hospital desk redeems free
registrations until the yearly limit refuses."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from xietong.core import pii
from xietong.demo.world import DEMO_PASSWORD
from xietong.membership import selectors
from xietong.membership.choices import CardStatus, MemberStatus
from xietong.membership.models import Member

from .conftest import login

pytestmark = [pytest.mark.e2e]

# Set to a folder (docs/img) to save the user guide's screenshots while the walk runs.
SCREENSHOTS = os.environ.get("XIETONG_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def _member(union_code: str = "bj-mentougou") -> Member:
    member = (
        Member.objects.filter(
            status=MemberStatus.ACTIVE,
            cards__status=CardStatus.ACTIVE,
            organization__code=union_code,
            person__phone_cipher__gt="",
        )
        .select_related("person", "organization")
        .first()
    )
    assert member is not None, f"the demo world has a member with a card at {union_code}"
    return member


@pytest.fixture
def phone_page(browser: Any, live_server: Any) -> Any:
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_a_member_signs_in_on_a_phone_and_files_a_legal_aid_request(
    phone_page: Any, demo_world: Any, settings: Any, tmp_path: Path
) -> None:
    outbox = tmp_path / "sms" / "outbox.log"
    settings.XIETONG_SMS_BACKEND = "xietong.portal.sms.FileSender"
    settings.XIETONG_SMS_FILE = outbox
    member = _member()
    number = pii.decrypt(member.person.phone_cipher, field="phone")
    page = phone_page
    page.goto("/portal/")
    _shot(page, "portal-signin")
    page.get_by_label("手机号码").fill(number)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url("**/portal/signin/code/**")
    code = re.findall(rf"\t{number}\t.*验证码为(\d{{6}})", outbox.read_text(encoding="utf-8"))[-1]
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/portal/")
    assert page.get_by_test_id("member-name").inner_text() == member.person.name
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    _shot(page, "portal-home")
    # The e-card is one tap away from any screen (the bottom navigation).
    page.get_by_test_id("tab-card").click()
    active = selectors.active_card(member)
    assert active is not None and page.get_by_test_id("card-number").inner_text() == active.number
    _shot(page, "portal-card")
    page.get_by_test_id("tab-requests").click()
    page.get_by_test_id("new-request").click()
    page.get_by_label("诉求类别").select_option(label="法律援助")
    page.get_by_label("事由").fill("公司拖欠三个月工资")
    page.get_by_label("具体情况").fill("公司自今年三月起未发工资，希望工会提供法律援助。")
    _shot(page, "portal-request-new")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r".*/portal/requests/\d+/$"))
    assert page.get_by_test_id("request-subject").inner_text() == "公司拖欠三个月工资"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_test_id("tab-requests").click()
    assert "公司拖欠三个月工资" in page.get_by_test_id("my-requests").inner_text()
    _shot(page, "portal-requests")


def test_the_hospital_desk_redeems_free_registrations_until_the_limit(page: Any, demo_world: Any) -> None:
    member = _member()
    card = selectors.active_card(member)
    assert card is not None
    login(page, "hospital_desk", DEMO_PASSWORD)
    page.goto("/membership/verify/")
    assert "会员免费挂号" in page.get_by_label("普惠服务").inner_text()
    for used in range(1, 13):
        page.get_by_label("会员卡二维码").fill(selectors.card_token(card))
        page.locator("#verify-form button[type=submit]").first.click()
        page.get_by_test_id("verify-note").filter(has_text=f"本年度已使用{used}次").wait_for()
    page.get_by_label("会员卡二维码").fill(selectors.card_token(card))
    page.locator("#verify-form button[type=submit]").first.click()
    refused = page.get_by_test_id("verify-refused")
    refused.wait_for()
    assert "已达上限12次" in refused.inner_text()
    _shot(page, "benefit-desk-refused")

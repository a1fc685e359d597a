"""The member portal on a phone (issue 14 §4), the 12351 thread between member and staff (§2) and
the hospital desk's free registrations (§3), in a real browser: a member signs in on a 360×740
screen with the code the demo's SMS backend wrote, files a 法律援助 request and finds it in their
list; an officer of their union answers it, the member reads the answer and rates it; a second
request goes overdue and ``xietong notify_due`` escalates it to the parent union, whose officer is
told; the 门头沟 hospital desk redeems free registrations until the yearly limit refuses."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from xietong.core import actions as core_actions
from xietong.core import pii
from xietong.core.models import Organization, Role, User
from xietong.demo.world import DEMO_PASSWORD
from xietong.membership import selectors
from xietong.membership.choices import CardStatus, MemberStatus
from xietong.membership.models import Member
from xietong.services.choices import RequestStatus
from xietong.services.models import ServiceRequest

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


@pytest.fixture
def sms_outbox(settings: Any, tmp_path: Path) -> Path:
    """The file the demo's SMS backend writes the sign-in codes to."""
    outbox = tmp_path / "sms" / "outbox.log"
    settings.XIETONG_SMS_BACKEND = "xietong.portal.sms.FileSender"
    settings.XIETONG_SMS_FILE = outbox
    return outbox


def _sign_in(page: Any, member: Member, outbox: Path) -> None:
    """Sign in on the portal with the member's phone and the code the SMS backend wrote."""
    number = pii.decrypt(member.person.phone_cipher, field="phone")
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


def _file_request(page: Any, category: str, subject: str, description: str) -> int:
    """File a request from the portal's requests tab; returns its id (from the page's address)."""
    page.get_by_test_id("tab-requests").click()
    page.get_by_test_id("new-request").click()
    page.get_by_label("诉求类别").select_option(label=category)
    page.get_by_label("事由").fill(subject)
    page.get_by_label("具体情况").fill(description)
    _shot(page, "portal-request-new")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r".*/portal/requests/\d+/$"))
    assert page.get_by_test_id("request-subject").inner_text() == subject
    found = re.search(r"/portal/requests/(\d+)/$", page.url)
    assert found is not None
    return int(found.group(1))


def test_a_member_signs_in_on_a_phone_and_files_a_legal_aid_request(
    phone_page: Any, demo_world: Any, sms_outbox: Path
) -> None:
    member = _member()
    page = phone_page
    _sign_in(page, member, sms_outbox)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    _shot(page, "portal-home")
    # The e-card is one tap away from any screen (the bottom navigation).
    page.get_by_test_id("tab-card").click()
    active = selectors.active_card(member)
    assert active is not None and page.get_by_test_id("card-number").inner_text() == active.number
    _shot(page, "portal-card")
    _file_request(page, "法律援助", "公司拖欠三个月工资", "公司自今年三月起未发工资，希望工会提供法律援助。")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_test_id("tab-requests").click()
    assert "公司拖欠三个月工资" in page.get_by_test_id("my-requests").inner_text()
    _shot(page, "portal-requests")


def _officer(username: str, union_code: str) -> User:
    """A staff account with the service officer's role (职工服务中心干部) at the union."""
    user = User.objects.filter(username=username).first() or core_actions.user_create(
        username=username, password=DEMO_PASSWORD, display_name="门头沟区职工服务中心干部", acting_user=None
    )
    core_actions.role_grant(
        user=user,
        role=Role.objects.get(code="service_officer"),
        organization=Organization.objects.get(code=union_code),
        acting_user=None,
    )
    return user


def test_a_legal_aid_request_is_answered_and_rated_and_an_overdue_one_escalates(
    phone_page: Any, page: Any, demo_world: Any, sms_outbox: Path
) -> None:
    member = _member()
    assert member.organization.parent is not None and member.organization.parent.code == "bj-fed"
    _officer("services_mentougou", member.organization.code)
    phone = phone_page
    _sign_in(phone, member, sms_outbox)
    answered_pk = _file_request(phone, "法律援助", "被公司无故辞退", "公司未提前通知即解除劳动合同，求助。")
    late_pk = _file_request(phone, "政策咨询", "工伤认定怎么申请", "上班途中受伤，想了解办理流程。")
    assert ServiceRequest.objects.get(pk=answered_pk).organization == member.organization

    # The union's officer answers in the staff pages.
    login(page, "services_mentougou", DEMO_PASSWORD)
    page.goto(f"/services/requests/{answered_pk}/")
    page.get_by_role("button", name="签收").click()
    page.get_by_test_id("status").filter(has_text="办理中").wait_for()
    reply = page.locator("form[action$='/reply/']")
    reply.locator("select[name=kind]").select_option("reply")
    reply.locator("textarea[name=text]").fill(
        "已为您指派援助律师，请于本周五携带劳动合同到门头沟区总工会面谈。"
    )
    reply.locator("input[name=final]").check()
    _shot(page, "services-request-answer")
    reply.locator("button[type=submit]").click()
    page.get_by_test_id("answer").wait_for()
    assert ServiceRequest.objects.get(pk=answered_pk).status == RequestStatus.ANSWERED

    # The member reads the answer on the phone and rates it.
    phone.goto(f"/portal/requests/{answered_pk}/")
    assert "携带劳动合同" in phone.locator(".alert-success").inner_text()
    rate = phone.get_by_test_id("rate-form")
    rate.locator("input[name=satisfaction][value='5']").check()
    rate.locator("input[name=comment]").fill("回复及时，谢谢")
    _shot(phone, "portal-request-rate")
    rate.get_by_role("button", name="提交评价").click()
    phone.get_by_text("感谢您的评价").wait_for()
    assert phone.get_by_test_id("rate-form").count() == 0
    closed = ServiceRequest.objects.get(pk=answered_pk)
    assert closed.status == RequestStatus.CLOSED and closed.satisfaction == 5

    # The second request goes overdue (its time limits moved into the past: the clock, not the
    # result) and the periodic check escalates it to the parent union, whose officer is told.
    long_ago = dt.date.today() - dt.timedelta(days=30)
    ServiceRequest.objects.filter(pk=late_pk).update(acknowledge_due=long_ago, answer_due=long_ago)
    call_command("notify_due", stdout=io.StringIO())
    late = ServiceRequest.objects.get(pk=late_pk)
    assert late.escalated_to == member.organization.parent
    page.context.clear_cookies()  # sign the union's officer out
    login(page, "services_bj", DEMO_PASSWORD)
    page.goto("/notifications/")
    told = page.get_by_test_id("notification").filter(has_text=late.number)
    assert "督办" in told.inner_text()
    told.get_by_role("button", name="查看").click()
    page.wait_for_url(f"**/services/requests/{late_pk}/")
    assert "北京市总工会" in page.get_by_test_id("escalated").inner_text()
    assert page.get_by_test_id("overdue").is_visible()
    _shot(page, "services-request-escalated")


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

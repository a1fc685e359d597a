"""Issue 14 §4: each portal screen shows the signed-in member's own records only, every member-only
route is guarded by the portal session, and the portal installs as a web app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from xietong.core.testing import Scope, clerk, make_user, routes_by_name
from xietong.membership import selectors as membership_selectors
from xietong.membership.tests.factories import make_service_point
from xietong.services import actions as services
from xietong.services.models import ServiceCategory, ServiceRequest
from xietong.services.tests.factories import make_benefit, make_provider

from .conftest import member_with_phone, signed_in

pytestmark = pytest.mark.django_db

PUBLIC = {"portal:signin", "portal:code", "portal:signout", "portal:manifest", "portal:service_worker"}


def test_every_portal_route_is_public_on_purpose_or_guarded_by_the_portal_session() -> None:
    """The URL walk accepts the portal's pages as ``public`` (no staff account); this test holds
    the other half: every one outside the sign-in and install routes carries the member guard."""
    portal = {name: route for name, route in routes_by_name().items() if name.startswith("portal:")}
    guarded = {
        name for name, route in portal.items() if getattr(route.callback, "xietong_portal_member", False)
    }
    assert set(portal) - guarded == PUBLIC
    anonymous = Client()
    for name in guarded:
        url = reverse(name, args=[1] * len(portal[name].arguments))
        answer = anonymous.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith(reverse("portal:signin")), name


@pytest.fixture
def two_members(scope: Scope, outbox: Path) -> Any:
    """李娜 (signed in) and 王强, each with a request, a benefit use and a transfer history."""
    mine = member_with_phone(scope.home, "13911112222", name="李娜")
    theirs = member_with_phone(scope.other, "13933334444", name="王强")
    category = ServiceCategory.objects.get(code="legal_aid")
    for member, subject in ((mine, "我的欠薪问题"), (theirs, "别人的工伤问题")):
        services.request_file(channel="portal", category=category, subject=subject, description="情况说明",
                              requester_name=member.person.name, member=member, acting_user=None)  # fmt: skip
    desk = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    point = make_service_point(scope.root, desk)
    benefit = make_benefit(make_provider(scope.root, point), limit_count=12)
    for member in (mine, theirs):
        card = membership_selectors.active_card(member)
        assert card is not None
        token = membership_selectors.card_token(card)
        services.benefit_redeem(benefit=benefit, service_point=point, token=token, acting_user=desk)
    return mine, theirs, signed_in(outbox, "13911112222")


def test_each_screen_shows_only_my_records(two_members: Any) -> None:
    mine, theirs, client = two_members
    for name in ("portal:home", "portal:card", "portal:union", "portal:benefits", "portal:requests",
                 "portal:applications", "portal:notifications"):  # fmt: skip
        page = client.get(reverse(name)).content.decode()
        assert "王强" not in page and "别人的工伤问题" not in page and theirs.organization.name not in page, (
            name
        )
    assert "我的欠薪问题" in client.get(reverse("portal:requests")).content.decode()
    benefits = client.get(reverse("portal:benefits")).content.decode()
    assert "还可使用11次" in benefits and "测试医院挂号窗口" in benefits
    card = client.get(reverse("portal:card")).content.decode()
    active = membership_selectors.active_card(mine)
    assert active is not None and active.number in card and 'data-testid="ecard-qr"' in card
    other_request = ServiceRequest.objects.get(member=theirs)
    assert client.get(reverse("portal:request_detail", args=[other_request.pk])).status_code == 404
    assert (
        client.post(
            reverse("portal:request_detail", args=[other_request.pk]), {"satisfaction": 1}
        ).status_code
        == 404
    )


def test_a_member_files_follows_and_rates_a_request(two_members: Any) -> None:
    mine, _theirs, client = two_members
    category = ServiceCategory.objects.get(code="legal_aid")
    answer = client.post(
        reverse("portal:request_new"),
        {"category": category.pk, "subject": "公司拖欠加班费", "description": "已三个月"},
    )
    filed = ServiceRequest.objects.get(subject="公司拖欠加班费")
    assert answer["Location"] == reverse("portal:request_detail", args=[filed.pk])
    assert filed.channel == "portal" and filed.member == mine and filed.organization == mine.organization
    assert filed.requester_phone_masked == "139****2222"
    services.request_reply(service_request=filed, text="内部：先核实", kind="note", acting_user=clerk())
    services.request_reply(
        service_request=filed, text="请携带劳动合同到区职工服务中心。", final=True, acting_user=clerk()
    )
    page = client.get(reverse("portal:request_detail", args=[filed.pk])).content.decode()
    assert "请携带劳动合同" in page and "内部：先核实" not in page and 'data-testid="rate-form"' in page
    assert "已答复" in client.get(reverse("portal:notifications")).content.decode()
    client.post(reverse("portal:request_detail", args=[filed.pk]), {"satisfaction": 2, "comment": "太慢"})
    filed.refresh_from_db()
    assert filed.status == "closed" and filed.satisfaction == 2 and filed.followup_due


def test_the_portal_installs_as_a_web_app(client: Client) -> None:
    manifest = client.get(reverse("portal:manifest"))
    body = manifest.json()
    assert manifest["Content-Type"] == "application/manifest+json"
    assert body["display"] == "standalone" and body["start_url"] == reverse("portal:home")
    assert {icon["sizes"] for icon in body["icons"]} == {"192x192", "512x512"}
    worker = client.get(reverse("portal:service_worker"))
    assert worker["Content-Type"].startswith("application/javascript") and b"fetch" in worker.content
    signin = client.get(reverse("portal:signin")).content.decode()
    assert reverse("portal:manifest") in signin and 'name="viewport"' in signin

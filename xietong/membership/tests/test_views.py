"""The membership pages: the phone join flow, the review queue, the roll, the e-card, the desk."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from xietong.core.models import Organization
from xietong.core.testing import Scope, ScopedObjectViewTests, client_for, make_org, make_user

from .. import selectors
from ..models import JoinApplication, Member
from .factories import fresh_id_number, make_member, make_service_point, submit

pytestmark = pytest.mark.django_db

REVIEW = ["membership.view_joinapplication", "membership.change_joinapplication"]
CARDS = ["membership.view_member", "membership.change_membercard"]


class TestMemberViews(ScopedObjectViewTests):
    model = Member
    list_url_name = "membership:member_list"
    detail_url_name = "membership:member_detail"
    api_list_url_name = "member-list"
    api_detail_url_name = "member-detail"

    def make_object(self, organization: Organization) -> Member:
        return make_member(organization)


class TestApplicationViews(ScopedObjectViewTests):
    model = JoinApplication
    list_url_name = "membership:application_list"

    def make_object(self, organization: Organization) -> JoinApplication:
        return submit(organization)


def _join_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "张伟",
        "id_number": fresh_id_number(),
        "phone_number": "139 0000 1111",
        "employer_name": "北京测试科技有限公司",
        "consent": "on",
    }
    data.update(overrides)
    return data


def test_a_worker_joins_from_the_qr_link_and_follows_the_status() -> None:
    union = make_org("t-union", kind="grassroots_union")
    client = Client()
    page = client.get(reverse("membership:join", args=[union.code]))
    assert page.status_code == 200 and union.name in page.content.decode()
    assert "个人信息处理规则" in page.content.decode()
    response = client.post(reverse("membership:join", args=[union.code]), _join_form())
    assert response.status_code == 200 and "已收到" in response.content.decode()
    status_url = re.search(r'href="(/join/status/[^"]+/)"', response.content.decode())
    assert status_url is not None
    status = client.post(status_url.group(1), {"phone_number": "13900001111"})
    assert "待审核" in status.content.decode()


def test_bad_join_input_is_explained_beside_the_field_and_nothing_is_saved() -> None:
    union = make_org("t-union", kind="grassroots_union")
    number = fresh_id_number()
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    response = Client().post(
        reverse("membership:join", args=[union.code]), _join_form(id_number=wrong, consent="")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'data-field="id_number">[^<]*有一位填写有误', body)
    assert 'data-field="consent"' in body
    assert not JoinApplication.objects.exists()


def test_an_unknown_join_code_is_not_found() -> None:
    assert Client().get(reverse("membership:join", args=["no-such-union"])).status_code == 404


def test_officer_approves_and_the_worker_opens_the_ecard(scope: Scope) -> None:
    application = submit(scope.home)
    officer = client_for(make_user("officer", perms=REVIEW, organization=scope.home))
    queue = officer.get(reverse("membership:application_list"))
    assert application.name in queue.content.decode()
    officer.post(reverse("membership:application_approve", args=[application.pk]))
    application.refresh_from_db()
    assert application.member is not None
    ecard = Client().get(reverse("membership:ecard", args=[application.access_token]))
    body = ecard.content.decode()
    assert ecard.status_code == 200 and "<svg" in body and 'data-token="XT1.' in body


def test_an_officer_of_another_subtree_cannot_approve(scope: Scope) -> None:
    application = submit(scope.home)
    outsider = client_for(make_user("outsider", perms=REVIEW, organization=scope.other))
    response = outsider.post(reverse("membership:application_approve", args=[application.pk]))
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.member is None


def test_the_desk_accepts_a_card_then_refuses_it_once_reported_lost(scope: Scope) -> None:
    member = make_member(scope.home)
    card = selectors.active_card(member)
    assert card is not None
    account = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    point = make_service_point(scope.root, account)
    desk = client_for(account)
    form: dict[str, Any] = {"service_point": point.pk, "benefit": "free_registration"}
    ok = desk.post(reverse("membership:verify"), {**form, "token": selectors.card_token(card)})
    assert "核验通过" in ok.content.decode() and member.person.id_number_masked in ok.content.decode()
    officer = client_for(make_user("officer", perms=CARDS, organization=scope.home))
    officer.post(reverse("membership:card_action", args=[card.pk, "lost"]), {"reason": "会员报失"})
    refused = desk.post(reverse("membership:verify"), {**form, "token": selectors.card_token(card)})
    assert "已挂失" in refused.content.decode()


def test_the_verify_api_answers_with_the_reason(scope: Scope) -> None:
    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    account = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    point = make_service_point(scope.root, account)
    api = client_for(account)
    body = {"token": selectors.card_token(card), "service_point": point.pk, "benefit": "free_registration"}
    first = api.post(reverse("card-verify"), body, content_type="application/json").json()
    assert first["ok"] is True and first["card_number"] == card.number
    again = api.post(reverse("card-verify"), body, content_type="application/json").json()
    assert again == {"ok": False, "reason": "此二维码已使用过（重复扫码），请会员刷新电子卡"}
    nobody = client_for(make_user("nobody", organization=scope.root))
    assert nobody.post(reverse("card-verify"), body, content_type="application/json").status_code == 403


def test_a_desk_verifies_with_its_api_token_and_a_wrong_token_is_refused(scope: Scope) -> None:
    from rest_framework.authtoken.models import Token

    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    account = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    point = make_service_point(scope.root, account)
    key = Token.objects.create(user=account).key
    url, kind = reverse("card-verify"), "application/json"
    for _ in range(2):  # the second scan is served from the token cache
        token = selectors.card_token(card)
        body = {"token": token, "service_point": point.pk, "benefit": "free_registration"}
        answer = Client().post(url, body, content_type=kind, HTTP_AUTHORIZATION=f"Token {key}")
        assert answer.json()["ok"] is True
    wrong = Client().post(url, body, content_type=kind, HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert wrong.status_code == 401


def test_a_token_request_with_bad_input_gets_the_same_answers_as_a_session_one(scope: Scope) -> None:
    from rest_framework.authtoken.models import Token

    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    account = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    point = make_service_point(scope.root, account)
    url, kind = reverse("card-verify"), "application/json"
    by_token = {"Authorization": f"Token {Token.objects.create(user=account).key}"}
    by_session = client_for(account)
    missing = {"token": selectors.card_token(card), "benefit": "free_registration"}
    elsewhere = {**missing, "service_point": point.pk + 999}
    for body in (missing, elsewhere):
        fast = Client().post(url, body, content_type=kind, headers=by_token)
        slow = by_session.post(url, body, content_type=kind)
        assert (fast.status_code, fast.json()) == (slow.status_code, slow.json())
    assert Client().post(url, {}, content_type=kind, headers=by_token).json()["service_point"] == [
        "该字段是必填项。"
    ]
    broken = Client().post(url, "{not json", content_type=kind, headers=by_token)
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    outsider = make_user("outsider", organization=scope.root)
    denied = Client().post(
        url,
        elsewhere,
        content_type=kind,
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=outsider).key}",
    )
    assert denied.status_code == 403 and denied.json()["detail"] == "此账号不能核验会员卡"


def test_the_public_key_is_published(settings: Any) -> None:
    body = Client().get(reverse("membership:public_key")).json()
    assert body["node"] == settings.XIETONG_NODE_ID and len(body["public_key"]) == 43


def test_the_print_sheet_is_a_pdf_of_the_scope_cards_and_is_audited(scope: Scope) -> None:
    import re

    from xietong.core.models import AuditEvent

    for _ in range(12):
        make_member(scope.home)
    make_member(scope.other)
    officer = make_user("officer", perms=CARDS, organization=scope.home)
    response = client_for(officer).get(reverse("membership:card_print"), {"organization": scope.home.pk})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", response.content)) == 2  # ten cards to a page
    event = AuditEvent.objects.filter(action="export", target_type="membership.membercard").get()
    assert event.changes["detail"]["printed"] == 12
    outside = client_for(officer).get(reverse("membership:card_print"), {"organization": scope.other.pk})
    assert outside.status_code == 404


def test_an_officer_records_that_a_member_left_and_the_card_stops(scope: Scope) -> None:
    member = make_member(scope.home)
    officer = client_for(
        make_user(
            "officer", perms=["membership.view_member", "membership.change_member"], organization=scope.home
        )
    )
    page = officer.get(reverse("membership:member_detail", args=[member.pk]))
    assert 'value="left"' in page.content.decode()
    officer.post(
        reverse("membership:member_status", args=[member.pk]), {"status": "left", "reason": "调离本市"}
    )
    member.refresh_from_db()
    assert member.status == "left" and member.left_on is not None
    again = officer.post(
        reverse("membership:member_status", args=[member.pk]), {"status": "deceased"}, follow=True
    )
    assert "不能从" in again.content.decode()

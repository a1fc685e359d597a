"""Joining, approval, cards and their verification, through the actions."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from xietong.core import pii
from xietong.core.models import AuditEvent, Person
from xietong.core.testing import Scope, clerk, make_org, make_user

from .. import actions, cardtokens, selectors
from ..choices import ApplicationStatus, Benefit, CardStatus, MemberStatus
from ..models import CardUse, Member
from .factories import fresh_id_number, make_member, make_service_point, submit

pytestmark = pytest.mark.django_db


def test_each_bad_field_is_explained_in_chinese_and_nothing_is_saved(scope: Scope) -> None:
    good = fresh_id_number()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError) as caught:
        submit(scope.home, id_number=bad_check, phone_number="1234", employer_name=" ", consent=False)
    errors = caught.value.message_dict
    assert "有一位填写有误" in errors["id_number"][0]  # the public wording (issue 12 §4)
    assert "手机" in errors["phone_number"][0]
    assert errors["employer_name"] == ["请填写工作单位"]
    assert "同意" in errors["consent"][0]
    assert not scope.home.join_applications.exists()


def test_full_width_and_legacy_numbers_are_normalised() -> None:
    org = make_org("t-union", kind="grassroots_union")
    legacy = "110105700101123"  # 15 digits: upgraded to 18 with its check digit
    application = submit(org, id_number=legacy)
    assert application.id_number_masked.startswith("110105") and len(application.id_number_masked) == 18
    number = fresh_id_number()
    full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    full = submit(org, id_number=f" {full_width[:6]} {full_width[6:]} ", name="李娜")
    assert full.id_number_masked == pii_mask(number)


def pii_mask(number: str) -> str:
    return number[:6] + "*" * 8 + number[14:]


def test_a_second_pending_application_makes_nothing_but_gets_a_receipt(scope: Scope) -> None:
    number = fresh_id_number()
    submit(scope.home, id_number=number)
    again = actions.join_application_submit(
        organization=scope.home, name="王建国", id_number=number, phone_number="13900001111",
        employer_name="北京测试科技有限公司", consent=True,
    )  # fmt: skip
    assert again.application is None and again.token
    assert scope.home.join_applications.count() == 1


def test_approval_makes_the_member_the_person_and_the_card(scope: Scope) -> None:
    officer = make_user("officer", organization=scope.home)
    application = submit(scope.home, name="鍾麗華")
    member = actions.join_application_approve(application=application, acting_user=officer)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED and application.member == member
    assert member.person.name == "钟丽华" and member.organization == scope.home
    assert member.status == MemberStatus.ACTIVE and member.number.startswith("HY")
    card = selectors.active_card(member)
    assert card is not None and len(card.number) == 16
    assert AuditEvent.objects.filter(action="approve", target_id=str(application.pk)).exists()


def test_a_member_elsewhere_is_offered_a_transfer_not_a_second_membership(scope: Scope) -> None:
    existing = make_member(scope.other)
    number = pii.decrypt(existing.person.id_number_cipher, field="id_number")
    application = submit(scope.home, id_number=number)
    with pytest.raises(ValidationError, match="会员关系转接"):
        actions.join_application_approve(application=application, acting_user=clerk())
    assert Member.objects.filter(person=existing.person).count() == 1
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_bulk_approval_reports_each_refusal_and_keeps_the_rest(scope: Scope) -> None:
    existing = make_member(scope.other)
    clash = submit(scope.home, id_number=pii.decrypt(existing.person.id_number_cipher, field="id_number"))
    fine = [submit(scope.home) for _ in range(3)]
    outcome = actions.join_applications_approve_bulk(applications=[*fine, clash], acting_user=clerk())
    assert len(outcome.approved) == 3
    assert [a for a, _reason in outcome.refused] == [clash]


def test_rejection_needs_a_reason_the_worker_sees(scope: Scope) -> None:
    application = submit(scope.home)
    with pytest.raises(ValidationError):
        actions.join_application_reject(application=application, reason="  ", acting_user=clerk())
    actions.join_application_reject(
        application=application, reason="工作单位不在本工会范围", acting_user=clerk()
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED and application.reason == "工作单位不在本工会范围"
    assert not Person.objects.exists()


# Verification ---------------------------------------------------------------------------------------


@pytest.fixture
def desk(scope: Scope) -> Any:
    account = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    return account, make_service_point(scope.root, account)


def _verify(token: str, desk: Any) -> actions.Verification:
    account, point = desk
    return actions.card_verify(
        token=token, service_point=point, benefit=Benefit.FREE_REGISTRATION, acting_user=account
    )


def test_a_fresh_token_verifies_once_and_the_use_is_recorded(scope: Scope, desk: Any) -> None:
    member = make_member(scope.home)
    card = selectors.active_card(member)
    assert card is not None
    token = selectors.card_token(card)
    verification = _verify(token, desk)
    assert verification.card.id == card.pk
    assert CardUse.objects.filter(card=card, service_point=desk[1]).count() == 1
    with pytest.raises(actions.CardRefused, match="已使用过"):
        _verify(token, desk)
    assert CardUse.objects.count() == 1


def test_forged_expired_and_foreign_tokens_are_refused(scope: Scope, desk: Any, settings: Any) -> None:
    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    token = selectors.card_token(card)
    prefix, body, signature = token.split(".")
    tampered = f"{prefix}.{body[:-2]}{'AA' if body[-2:] != 'AA' else 'BB'}.{signature}"
    with pytest.raises(actions.CardRefused, match="签名无效"):
        _verify(tampered, desk)
    key = pii.node_signing_key()
    node = settings.XIETONG_NODE_ID
    expired = cardtokens.issue(
        card_number=card.number, node=node, private_key=key, ttl=60, now=time.time() - 3600
    )
    with pytest.raises(actions.CardRefused, match="已过期"):
        _verify(expired, desk)
    with pytest.raises(actions.CardRefused, match="格式不正确"):
        _verify("https://example.com/not-a-card", desk)
    other_key = cardtokens.issue(
        card_number=card.number, node=settings.XIETONG_NODE_ID, private_key="A" * 43, ttl=60
    )
    with pytest.raises(actions.CardRefused, match="签名无效"):
        _verify(other_key, desk)
    assert not CardUse.objects.exists()


def test_a_card_reported_lost_stops_verifying_at_once_and_its_replacement_works(
    scope: Scope, desk: Any
) -> None:
    member = make_member(scope.home)
    card = selectors.active_card(member)
    assert card is not None
    token = selectors.card_token(card)
    actions.card_report_lost(card=card, acting_user=clerk(), reason="会员报失")
    with pytest.raises(actions.CardRefused, match="已挂失"):
        _verify(token, desk)
    new_card = actions.card_replace(card=card, acting_user=clerk(), reason="补办新卡")
    card.refresh_from_db()
    assert card.status == CardStatus.REPLACED and new_card.replaces == card
    with pytest.raises(actions.CardRefused, match="已补换"):
        _verify(selectors.card_token(card), desk)
    assert _verify(selectors.card_token(new_card), desk).card.id == new_card.pk


def test_a_member_who_left_cannot_use_the_card(scope: Scope, desk: Any) -> None:
    member = make_member(scope.home)
    card = selectors.active_card(member)
    assert card is not None
    actions.member_set_status(member=member, status=MemberStatus.LEFT, acting_user=clerk(), reason="调离本市")
    with pytest.raises(actions.CardRefused, match="已退会"):
        _verify(selectors.card_token(card), desk)


def test_a_benefit_the_point_does_not_offer_is_refused(scope: Scope, desk: Any) -> None:
    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    account, point = desk
    with pytest.raises(actions.CardRefused, match="不提供"):
        actions.card_verify(
            token=selectors.card_token(card),
            service_point=point,
            benefit=Benefit.PARK_ENTRY,
            acting_user=account,
        )


def test_a_printed_card_verifies_at_every_scan_until_it_is_reported_lost(
    scope: Scope, desk: Any, settings: Any
) -> None:
    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    printed = cardtokens.issue_physical(
        card_number=card.number, node=settings.XIETONG_NODE_ID, private_key=pii.node_signing_key()
    )
    assert _verify(printed, desk).card.id == card.pk
    assert _verify(printed, desk).card.id == card.pk  # a physical card is scanned again and again
    actions.card_report_lost(card=card, acting_user=clerk(), reason="会员报失")
    with pytest.raises(actions.CardRefused, match="已挂失"):
        _verify(printed, desk)

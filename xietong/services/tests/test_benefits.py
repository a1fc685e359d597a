"""Issue 14 §3: universal benefits on the card (普惠服务). A benefit item is redeemed through the card
verification at its provider's desk; a use past the item's limit, a member outside its unions or
regions, an item out of its dates are refused with the reason and nothing is recorded; a provider's
desk sees its own uses only; the figures count uses per item and provider."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from xietong.core.testing import (
    Scope,
    ScopedObjectViewTests,
    SignInRequiredTests,
    client_for,
    make_org,
    make_user,
)
from xietong.membership import actions as membership
from xietong.membership import selectors as membership_selectors
from xietong.membership.models import CardUse
from xietong.membership.tests.factories import make_member, make_service_point

from .. import actions, selectors
from ..models import Benefit, BenefitProvider, BenefitUse
from .factories import make_benefit, make_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(scope: Scope) -> Any:
    """The hospital's desk account at a service point of the root union, and the hospital."""
    account = make_user("hospital", perms=["membership.verify_membercard", "services.view_benefituse"],
                        organization=scope.root)  # fmt: skip
    point = make_service_point(scope.root, account)
    return account, point, make_provider(scope.root, point)


def _token(member: Any) -> str:
    card = membership_selectors.active_card(member)
    assert card is not None
    return membership_selectors.card_token(card)


def _redeem(desk: Any, benefit: Benefit, member: Any) -> Any:
    account, point, _provider = desk
    return actions.benefit_redeem(
        benefit=benefit, service_point=point, token=_token(member), acting_user=account
    )


def test_uses_count_up_to_the_limit_then_the_desk_is_refused_with_the_reason(scope: Scope, desk: Any) -> None:
    benefit = make_benefit(desk[2], limit_count=3)
    member = make_member(scope.home)
    notes = [_redeem(desk, benefit, member).note for _i in range(3)]
    assert notes[-1] == "本年度已使用3次，还可使用0次"
    with pytest.raises(membership.CardRefused, match="本年度已使用3次，已达上限3次"):
        _redeem(desk, benefit, member)
    # The refused scan left nothing: no card use, no benefit use.
    assert BenefitUse.objects.filter(member=member).count() == 3
    assert CardUse.objects.filter(card__member=member).count() == 3
    # Another member has their own allowance.
    assert _redeem(desk, benefit, make_member(scope.home)).label == "会员免费挂号"


def test_last_years_uses_do_not_count_against_this_year(scope: Scope, desk: Any) -> None:
    benefit = make_benefit(desk[2], limit_count=1)
    member = make_member(scope.home)
    _redeem(desk, benefit, member)
    BenefitUse.objects.update(created_at=dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    assert _redeem(desk, benefit, member).note == "本年度已使用1次，还可使用0次"


def test_eligibility_unions_regions_card_and_dates(scope: Scope, desk: Any) -> None:
    only_home = make_benefit(desk[2], name="本单位专享", unions=[scope.home])
    outsider = make_member(scope.other)
    with pytest.raises(membership.CardRefused, match="仅限"):
        _redeem(desk, only_home, outsider)
    assert _redeem(desk, only_home, make_member(scope.home))
    from xietong.core.models import Region

    mentougou = make_benefit(desk[2], name="门头沟专享", regions=[Region.objects.get(code="110109")])
    with pytest.raises(membership.CardRefused, match="仅限"):
        _redeem(desk, mentougou, outsider)  # the test unions lie in 东城 (110101)
    in_mentougou = make_member(make_org("t-mtg", parent=scope.root, region="110109"))
    assert _redeem(desk, mentougou, in_mentougou)
    expired = make_benefit(desk[2], name="旧项目", valid_until=dt.date(2021, 1, 1))
    with pytest.raises(membership.CardRefused, match="已于2021-01-01截止"):
        _redeem(desk, expired, outsider)
    # A lost card is refused by membership's verification, before any benefit rule.
    member = make_member(scope.home)
    card = membership_selectors.active_card(member)
    assert card is not None
    token = _token(member)
    membership.card_report_lost(card=card, acting_user=desk[0], reason="会员报失")
    with pytest.raises(membership.CardRefused, match="已挂失"):
        actions.benefit_redeem(benefit=only_home, service_point=desk[1], token=token, acting_user=desk[0])


def test_an_item_is_redeemed_only_at_its_providers_desks(scope: Scope, desk: Any) -> None:
    park_desk = make_user("park", perms=["membership.verify_membercard"], organization=scope.root)
    park_point = make_service_point(scope.root, park_desk)
    benefit = make_benefit(desk[2])
    with pytest.raises(membership.CardRefused, match="不提供"):
        actions.benefit_redeem(
            benefit=benefit,
            service_point=park_point,
            token=_token(make_member(scope.home)),
            acting_user=park_desk,
        )


def test_a_provider_sees_its_own_uses_only(scope: Scope, desk: Any) -> None:
    account, _point, hospital = desk
    other_account = make_user("park", perms=["membership.verify_membercard", "services.view_benefituse"],
                              organization=scope.root)  # fmt: skip
    other_point = make_service_point(scope.root, other_account)
    park = make_provider(scope.root, other_point, name="门头沟公园")
    member = make_member(scope.home)
    _redeem(desk, make_benefit(hospital), member)
    park_entry = make_benefit(park, name="公园免费入园", kind="free_registration")
    actions.benefit_redeem(
        benefit=park_entry, service_point=other_point, token=_token(member), acting_user=other_account
    )
    assert [u.benefit.name for u in selectors.benefit_uses(user=account)] == ["会员免费挂号"]
    assert [u.benefit.name for u in selectors.benefit_uses(user=other_account)] == ["公园免费入园"]
    officer = make_user("officer", perms=["services.view_benefituse"], organization=scope.root)
    assert selectors.benefit_uses(user=officer).count() == 2
    figures = selectors.benefit_figures(user=account)
    assert figures["by_provider"] == [("门头沟区医院", 1)] and figures["total"] == 1
    page = client_for(account).get(reverse("services:benefit_use_list")).content.decode()
    assert "会员免费挂号" in page and "公园免费入园" not in page
    page = client_for(account).get(reverse("services:benefit_figures")).content.decode()
    assert "门头沟区医院" in page and "门头沟公园" not in page
    excel = client_for(officer).get(reverse("services:benefit_figures") + "?export=xlsx")
    assert excel.status_code == 200 and "spreadsheet" in excel["Content-Type"]


def test_the_desk_page_offers_the_item_and_refuses_past_the_limit(scope: Scope, desk: Any) -> None:
    """The hospital desk redeems free registrations on the verify page until the limit refuses."""
    account, point, hospital = desk
    benefit = make_benefit(hospital, limit_count=2)
    member = make_member(scope.home)
    client = client_for(account)
    page = client.get(reverse("membership:verify")).content.decode()
    assert f'value="benefit-{benefit.pk}"' in page and "会员免费挂号" in page
    post = {"service_point": point.pk, "benefit": f"benefit-{benefit.pk}"}
    for left in (1, 0):
        answer = client.post(reverse("membership:verify"), {**post, "token": _token(member)}).content.decode()
        assert "核验通过" in answer and f"还可使用{left}次" in answer
    answer = client.post(reverse("membership:verify"), {**post, "token": _token(member)}).content.decode()
    assert "不能使用" in answer and "已达上限2次" in answer
    assert BenefitUse.objects.filter(member=member).count() == 2


def test_the_verify_api_redeems_an_item(scope: Scope, desk: Any) -> None:
    account, point, hospital = desk
    benefit = make_benefit(hospital, limit_count=1)
    member = make_member(scope.home)
    client = client_for(account)
    body = {"service_point": point.pk, "benefit": "free_registration", "item": f"benefit-{benefit.pk}"}
    first = client.post(
        reverse("card-verify"), {**body, "token": _token(member)}, content_type="application/json"
    )
    assert first.json()["ok"] and first.json()["item"] == "会员免费挂号"
    second = client.post(
        reverse("card-verify"), {**body, "token": _token(member)}, content_type="application/json"
    )
    assert not second.json()["ok"] and "已达上限1次" in second.json()["reason"]


class TestBenefitViews(ScopedObjectViewTests):
    model = Benefit
    list_url_name = "services:benefit_list"
    post_url_names = ("services:benefit_edit",)
    change_permissions = ("services.change_benefit",)

    def make_object(self, organization: Any) -> Benefit:
        return make_benefit(make_provider(organization, name=f"{organization.code}医院"))


class TestBenefitUseViews(ScopedObjectViewTests):
    model = BenefitUse
    list_url_name = "services:benefit_use_list"

    def make_object(self, organization: Any) -> BenefitUse:
        account = make_user(
            f"d-{organization.code}", perms=["membership.verify_membercard"], organization=organization
        )
        point = make_service_point(organization, account)
        benefit = make_benefit(make_provider(organization, point, name=f"{organization.code}医院"))
        member = make_member(organization)
        actions.benefit_redeem(
            benefit=benefit, service_point=point, token=_token(member), acting_user=account
        )
        return BenefitUse.objects.get(member=member)


class TestBenefitFiguresNeedARole(SignInRequiredTests):
    route_names = ("services:benefit_figures", "services:provider_create", "services:benefit_create")


def test_an_officer_registers_a_provider_and_an_item_of_their_scope(scope: Scope) -> None:
    officer = make_user(
        "officer",
        perms=["services.add_benefitprovider", "services.add_benefit", "services.view_benefit"],
        organization=scope.home,
    )
    desk_point = make_service_point(scope.home)
    elsewhere = make_service_point(scope.other)
    client = client_for(officer)
    form = client.get(reverse("services:provider_create")).content.decode()
    boxes = re.findall(r'name="service_points" value="(\d+)"', form)
    assert boxes == [str(desk_point.pk)] and str(elsewhere.pk) not in boxes
    point_pk = desk_point.pk
    client.post(
        reverse("services:provider_create"),
        {"organization": scope.home.pk, "name": "门头沟公园", "kind": "park", "service_points": point_pk},
    )
    provider = BenefitProvider.objects.get(name="门头沟公园")
    assert list(provider.service_points.all()) == [desk_point]
    # A provider of another union cannot be registered here (the union is not offered).
    refused = client.post(
        reverse("services:provider_create"), {"organization": scope.other.pk, "name": "别处", "kind": "park"}
    )
    assert refused.status_code == 200 and not BenefitProvider.objects.filter(name="别处").exists()
    client.post(
        reverse("services:benefit_create"),
        {"provider": provider.pk, "name": "公园免费入园", "kind": "park_entry", "limit_count": 4,
         "limit_period": "month", "valid_from": "2026-01-01", "region_codes": "110109，110101"},
    )  # fmt: skip
    item = Benefit.objects.get(name="公园免费入园")
    assert item.limit_count == 4
    assert sorted(item.regions.values_list("code", flat=True)) == ["110101", "110109"]
    assert "公园免费入园" in client.get(reverse("services:benefit_list")).content.decode()

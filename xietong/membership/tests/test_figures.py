"""The figures page and the scaled demo (the seed's 12.15万 members / 11.81万 cards, in small)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xietong.core.testing import Scope, client_for, make_user

from .. import actions, selectors
from ..models import Member, MemberCard
from .factories import make_member, make_service_point

pytestmark = pytest.mark.django_db


def test_figures_count_members_and_cards_over_each_subtree(scope: Scope) -> None:
    holders = [make_member(scope.home) for _ in range(3)]
    make_member(scope.home, with_card=False)
    make_member(scope.other)
    desk = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    point = make_service_point(scope.root, desk)
    card = selectors.active_card(holders[0])
    assert card is not None
    actions.card_verify(
        token=selectors.card_token(card), service_point=point, benefit="free_registration", acting_user=desk
    )
    officer = client_for(
        make_user(
            "officer", perms=["membership.view_member", "membership.view_carduse"], organization=scope.home
        )
    )
    response = officer.get(reverse("membership:figures"))
    rows = {row["organization"].code: row for row in response.context["rows"]}
    assert set(rows) == {scope.home.code}
    assert (rows[scope.home.code]["members"], rows[scope.home.code]["cards"]) == (4, 3)
    assert response.context["uses"] == [(point.name, 1)]
    assert 'data-chart="uses-chart"' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_scaled_demo_reaches_the_member_count_with_the_seed_card_ratio() -> None:
    from xietong.core import actions as core_actions
    from xietong.core.models import Region
    from xietong.demo import world

    if not Region.objects.exists():
        core_actions.regions_load()
    world.build(people_per_org=1)
    result = world.build_scale(600)
    zfws = Member.objects.filter(
        organization__path__startswith=world.Organization.objects.get(code="bj-zfws").path
    )
    assert result["members"] == zfws.filter(status__in=["active", "suspended"]).count() == 600
    cards = MemberCard.objects.filter(member__in=zfws, status="active").count()
    assert cards == result["cards"] == round(600 * 11.81 / 12.15)
    assert world.build_scale(600)["members"] == 600  # running it again adds nothing

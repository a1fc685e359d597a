"""Issue 12 §5: the service desk checks a card by camera or scanner gun (the QR code into the token
box) or by the card number typed by hand with the last four characters of the ID number; the
verdict is shown in large type, green or red, with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from xietong.core import pii
from xietong.core.testing import Scope, clerk, client_for, make_user

from .. import actions, selectors
from ..models import CardUse
from .factories import make_member, make_service_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(scope: Scope) -> Any:
    account = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    return account, make_service_point(scope.root, account)


def _card_and_last4(scope: Scope) -> tuple[Any, str]:
    member = make_member(scope.home)
    card = selectors.active_card(member)
    assert card is not None
    return card, pii.decrypt(member.person.id_number_cipher, field="id_number")[-4:]


def _by_number(desk: Any, number: str, last4: str) -> actions.Verification:
    account, point = desk
    return actions.card_verify_by_number(
        card_number=number,
        id_last4=last4,
        service_point=point,
        benefit="free_registration",
        acting_user=account,
    )


def test_a_card_number_with_the_right_last_four_is_accepted_and_recorded(scope: Scope, desk: Any) -> None:
    card, last4 = _card_and_last4(scope)
    verification = _by_number(desk, f" {card.number} ", last4.lower())
    assert verification.card.id == card.pk
    assert CardUse.objects.filter(card=card).count() == 1
    _by_number(desk, card.number, last4)  # a second visit is a second use
    assert CardUse.objects.filter(card=card).count() == 2


def test_a_wrong_last_four_and_an_unknown_number_get_the_same_refusal(scope: Scope, desk: Any) -> None:
    card, last4 = _card_and_last4(scope)
    wrong = "0000" if last4 != "0000" else "1111"
    with pytest.raises(actions.CardRefused) as mismatch:
        _by_number(desk, card.number, wrong)
    with pytest.raises(actions.CardRefused) as unknown:
        _by_number(desk, "99999999999", last4)
    assert mismatch.value.messages == unknown.value.messages
    assert "后四位不符" in mismatch.value.messages[0]
    assert not CardUse.objects.exists()


def test_a_lost_card_typed_by_number_is_refused_with_the_reason(scope: Scope, desk: Any) -> None:
    card, last4 = _card_and_last4(scope)
    actions.card_report_lost(card=card, acting_user=clerk(), reason="会员报失")
    with pytest.raises(actions.CardRefused, match="已挂失"):
        _by_number(desk, card.number, last4)


def test_the_page_offers_camera_gun_and_number_and_shows_a_large_verdict(scope: Scope, desk: Any) -> None:
    card, last4 = _card_and_last4(scope)
    account, point = desk
    client = client_for(account)
    page = client.get(reverse("membership:verify")).content.decode()
    assert "vendor/jsqr/jsQR.js" in page and "membership/desk_scanner.js" in page
    assert "data-camera-start" in page and 'name="token"' in page and 'name="id_last4"' in page
    form = {"service_point": point.pk, "benefit": "free_registration"}
    ok = client.post(reverse("membership:verify"), {**form, "card_number": card.number, "id_last4": last4})
    body = ok.content.decode()
    assert 'data-testid="verify-ok"' in body and "display-5" in body and "alert-success" in body
    missing = client.post(
        reverse("membership:verify"), {**form, "card_number": card.number}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="verify-refused"' in missing.content.decode() and "后四位" in missing.content.decode()


def test_typed_numbers_are_limited_per_desk(scope: Scope, desk: Any, settings: Any) -> None:
    settings.XIETONG_RATE_LIMITS = {**settings.XIETONG_RATE_LIMITS, "desk_card_number": {"desk": "3/h"}}
    card, last4 = _card_and_last4(scope)
    account, point = desk
    client = client_for(account)
    form = {"service_point": point.pk, "benefit": "free_registration", "card_number": card.number}
    answers = [client.post(reverse("membership:verify"), {**form, "id_last4": "0000"}) for _ in range(3)]
    assert all("后四位不符" in answer.content.decode() for answer in answers)
    limited = client.post(reverse("membership:verify"), {**form, "id_last4": last4}).content.decode()
    assert "次数过多" in limited and 'data-testid="verify-ok"' not in limited

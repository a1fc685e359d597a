"""Cards signed before the node rotated its signing key keep verifying (issue 15 §3, ADR 019):
printed cards until they are reported lost, e-card codes until they expire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xietong.core import pii
from xietong.core.testing import Scope, make_user
from xietong.lib import crypto

from .. import actions, cardtokens, selectors
from ..choices import Benefit
from .factories import make_member, make_service_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_dir(settings: Any, tmp_path: Path) -> Any:
    settings.KEY_DIR = tmp_path / "keys"
    pii.reset_caches()
    yield settings.KEY_DIR
    pii.reset_caches()


def test_cards_signed_with_the_earlier_key_verify_after_a_rotation(
    key_dir: Any, scope: Scope, settings: Any
) -> None:
    account = make_user("desk", perms=["membership.verify_membercard"], organization=scope.root)
    point = make_service_point(scope.root, account)
    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    old_public = pii.node_public_key()
    printed = cardtokens.issue_physical(
        card_number=card.number, node=settings.XIETONG_NODE_ID, private_key=pii.node_signing_key()
    )
    code = selectors.card_token(card)
    pii.node_signing_key_add(private_key=crypto.generate_signing_key()[0], valid_from=timezone.now())
    assert pii.node_public_key() != old_public

    def verify(token: str) -> actions.Verification:
        return actions.card_verify(
            token=token, service_point=point, benefit=Benefit.FREE_REGISTRATION, acting_user=account
        )

    assert verify(printed).card.id == card.pk
    assert verify(code).card.id == card.pk
    assert verify(selectors.card_token(card)).card.id == card.pk  # a new code, signed with the new key
    published = Client().get(reverse("membership:public_key")).json()
    assert published["public_key"] == pii.node_public_key() and published["earlier_keys"] == [old_public]

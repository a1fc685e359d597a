"""The blacklist's writes: a listing is checked, audited and broadcast to the region group."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from xietong.core.models import AuditEvent, Organization
from xietong.core.testing import clerk, make_org
from xietong.exchange.choices import MessageStatus
from xietong.exchange.models import ExchangeMessage

from .. import actions
from ..models import ArrearsListing
from .conftest import Peer
from .test_messages import TJ_CODE


def list_one(code: str = TJ_CODE, decision: str = "京人社监〔2026〕3号") -> ArrearsListing:
    authority = Organization.objects.filter(code="inspect").first() or make_org("inspect", kind="hrss_bureau")
    return actions.arrears_list(
        organization=authority, credit_code=code, employer_name="北京某餐饮管理有限公司", amount_owed="52000",
        workers_affected=9, decision_no=decision, listed_on=dt.date(2026, 11, 20), acting_user=clerk(),
    )  # fmt: skip


def test_listing_queues_a_message_for_each_peer_but_not_for_itself(peer: Peer) -> None:
    listing = list_one()
    queued = ExchangeMessage.objects.get(direction="out")
    assert (queued.receiver, queued.kind, queued.body["uid"]) == ("tj", "arrears.listed", listing.uid)
    assert queued.seq == 1 and queued.status == MessageStatus.PENDING
    assert AuditEvent.objects.filter(target_type="inspection.arrearslisting", action="create").count() == 1


def test_a_bad_credit_code_lists_nothing_and_sends_nothing(peer: Peer) -> None:
    with pytest.raises(ValidationError) as caught:
        list_one(code="91120116MA05J0X10A")
    assert caught.value.message_dict["credit_code"] == ["第18位校验码应为Y，实为A"]
    assert not ArrearsListing.objects.exists() and not ExchangeMessage.objects.exists()


def test_the_same_decision_cannot_be_listed_twice(peer: Peer) -> None:
    list_one()
    with pytest.raises(ValidationError):
        list_one()
    assert ExchangeMessage.objects.count() == 1


def test_a_removal_is_broadcast_after_the_listing(peer: Peer) -> None:
    listing = list_one()
    actions.arrears_remove(
        listing=listing, reason="已支付", removed_on=dt.date(2026, 11, 21), acting_user=clerk()
    )
    kinds = list(
        ExchangeMessage.objects.filter(direction="out").order_by("seq").values_list("kind", flat=True)
    )
    assert kinds == ["arrears.listed", "arrears.removed"]

"""Membership transfers between unions: request, accept or refuse by the receiving union, history kept."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from xietong.core.models import AuditEvent
from xietong.core.testing import Scope, clerk, client_for, make_user

from .. import actions, selectors
from ..choices import TransferStatus
from .factories import make_member

pytestmark = pytest.mark.django_db

MEMBERS = ["membership.view_member", "membership.change_member", "membership.transfer_member"]
CHANGE_ONLY = ["membership.view_member", "membership.change_member"]


def test_accepting_moves_the_membership_and_keeps_number_and_card(scope: Scope) -> None:
    member = make_member(scope.home)
    card = selectors.active_card(member)
    transfer = actions.transfer_request(member=member, to_organization=scope.other, acting_user=clerk())
    with pytest.raises(ValidationError, match="待办理"):
        actions.transfer_request(member=member, to_organization=scope.other, acting_user=clerk())
    moved = actions.transfer_accept(transfer=transfer, acting_user=clerk())
    assert moved.organization == scope.other and moved.number == member.number
    assert selectors.active_card(moved) == card
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ACCEPTED
    assert AuditEvent.objects.filter(target_type="membership.member", target_id=str(member.pk)).count() >= 2


def test_refusal_needs_a_reason_and_leaves_the_member_where_it_was(scope: Scope) -> None:
    member = make_member(scope.home)
    transfer = actions.transfer_request(member=member, to_organization=scope.other, acting_user=clerk())
    with pytest.raises(ValidationError):
        actions.transfer_refuse(transfer=transfer, reason=" ", acting_user=clerk())
    actions.transfer_refuse(transfer=transfer, reason="不属于本单位职工", acting_user=clerk())
    member.refresh_from_db()
    assert member.organization == scope.home
    with pytest.raises(ValidationError, match="不能从"):
        actions.transfer_accept(transfer=transfer, acting_user=clerk())


def test_transfers_to_the_same_union_or_a_non_union_are_refused(scope: Scope) -> None:
    from xietong.core.testing import make_org

    member = make_member(scope.home)
    with pytest.raises(ValidationError, match="相同"):
        actions.transfer_request(member=member, to_organization=scope.home, acting_user=clerk())
    bureau = make_org("t-hrss", kind="hrss_bureau", parent=scope.root)
    with pytest.raises(ValidationError, match="不是工会"):
        actions.transfer_request(member=member, to_organization=bureau, acting_user=clerk())


def test_only_the_receiving_union_can_accept_and_both_see_it(scope: Scope) -> None:
    member = make_member(scope.home)
    sender = client_for(make_user("sender", perms=MEMBERS, organization=scope.home))
    receiver = client_for(make_user("receiver", perms=MEMBERS, organization=scope.other))
    response = sender.post(
        reverse("membership:transfer_request", args=[member.pk]), {"to_organization": scope.other.pk}
    )
    assert response.status_code == 302
    transfer = selectors.member_transfers(member).get()
    for client in (sender, receiver):
        listing = client.get(reverse("membership:transfer_list"))
        assert [t.pk for t in listing.context["object_list"]] == [transfer.pk]
    assert sender.post(reverse("membership:transfer_decide", args=[transfer.pk, "accept"])).status_code == 404
    receiver.post(reverse("membership:transfer_decide", args=[transfer.pk, "accept"]))
    member.refresh_from_db()
    assert member.organization == scope.other
    detail = receiver.get(reverse("membership:member_detail", args=[member.pk]))
    assert "已转入" in detail.content.decode()


def test_change_member_without_transfer_member_cannot_transfer(scope: Scope) -> None:
    """Transfers have their own permission (issue 11): editing members is not enough."""
    member = make_member(scope.home)
    editor = client_for(make_user("editor", perms=CHANGE_ONLY, organization=scope.root))
    request_url = reverse("membership:transfer_request", args=[member.pk])
    assert editor.post(request_url, {"to_organization": scope.other.pk}).status_code == 403
    assert not selectors.member_transfers(member).exists()
    transfer = actions.transfer_request(member=member, to_organization=scope.other, acting_user=clerk())
    for what in ("accept", "refuse", "cancel"):
        url = reverse("membership:transfer_decide", args=[transfer.pk, what])
        assert editor.post(url, {"reason": "不属于本单位职工"}).status_code == 403, what
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    listing = editor.get(reverse("membership:transfer_list"))
    assert listing.status_code == 200 and not listing.context["cancellable"]
    assert not listing.context["decidable"]


def test_the_union_officer_role_may_transfer() -> None:
    from xietong.core.roles import DEFAULT_ROLES

    officer = next(role for role in DEFAULT_ROLES if role.code == "union_officer")
    assert "membership.transfer_member" in officer.permissions

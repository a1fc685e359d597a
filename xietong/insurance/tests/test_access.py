"""Who may act on a transfer (defects 1 and 8 of issue 11): the page and the API load the record
through ``selectors.access_transfer`` with the action the request performs, and every transfer
belongs to exactly one office."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from xietong.core.models import Organization, Role, RoleAssignment, User
from xietong.core.testing import client_for, make_org, make_user
from xietong.exchange.testing import outcome

from ..choices import TransferStatus
from ..models import InsuranceTransfer
from .conftest import Peer
from .test_transfers import HRSS, REQUESTED_FROM_TJ, post, request_one


def _grant(user: User, perms: list[str], organization: Organization | None) -> None:
    role = Role.objects.create(code=f"extra-{user.username}-{len(perms)}", name="附加角色")
    for full in perms:
        app_label, codename = full.split(".", 1)
        role.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    RoleAssignment.objects.create(user=user, role=role, organization=organization)


def _answered_here(peer: Peer) -> InsuranceTransfer:
    """A transfer accepted by office bj-rs whose sending region has answered: it waits on completion."""
    transfer = request_one()
    body = {
        "uid": transfer.uid,
        "periods": [{"start": "2010-01", "end": "2019-12", "base": "5000"}],
        "personal_account": "48000.00",
        "pooled_amount": "72000.00",
        "answered_on": "2026-11-30",
    }
    assert (
        outcome(post(peer.deliver_bytes(peer.message("insurance.transfer_answered", body))))["status"]
        == "applied"
    )
    transfer.refresh_from_db()
    return transfer


def test_change_rights_in_another_office_do_not_complete_a_transfer_through_the_api(peer: Peer) -> None:
    transfer = _answered_here(peer)
    other = make_org("tj-office", kind="hrss_bureau")
    user = make_user("viewer", perms=["insurance.view_insurancetransfer"], node_wide=True)
    _grant(user, HRSS, other)
    client = client_for(user)
    assert client.get(reverse("transfer-detail", args=[transfer.pk])).status_code == 200  # may view
    page = client.post(reverse("insurance:transfer_step", args=[transfer.pk, "complete"]))
    api = client.post(reverse("transfer-complete", args=[transfer.pk]), content_type="application/json")
    assert (page.status_code, api.status_code) == (404, 404)
    refuse = client.post(reverse("transfer-refuse", args=[transfer.pk]), {"reason": "x"})
    assert refuse.status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ANSWERED


def test_a_missing_transfer_answers_the_same_404(peer: Peer) -> None:
    transfer = _answered_here(peer)
    user = make_user("outsider", perms=HRSS, organization=make_org("tj-office", kind="hrss_bureau"))
    client = client_for(user)
    missing, hidden = (
        client.post(reverse("transfer-complete", args=[pk]), content_type="application/json")
        for pk in (transfer.pk + 1000, transfer.pk)
    )
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


def _incoming(peer: Peer, **extra: Any) -> InsuranceTransfer:
    body = {**REQUESTED_FROM_TJ, **extra}
    assert (
        outcome(post(peer.deliver_bytes(peer.message("insurance.transfer_requested", body))))["status"]
        == "applied"
    )
    return InsuranceTransfer.objects.get(uid=body["uid"])


def _bureaus() -> tuple[Organization, Organization]:
    top = make_org("bj-hrss", kind="hrss_bureau")
    district = make_org("bj-hrss-dc", kind="hrss_bureau", parent=top)
    return top, district


def test_an_incoming_transfer_belongs_to_the_top_hrss_office_not_to_every_office(peer: Peer) -> None:
    top, district = _bureaus()
    incoming = _incoming(peer)
    assert incoming.organization == top
    district_officer = client_for(make_user("district", perms=HRSS, organization=district))
    assert district_officer.get(reverse("insurance:transfer_detail", args=[incoming.pk])).status_code == 404
    assert district_officer.get(reverse("transfer-list")).json()["count"] == 0
    answer = {"periods": "2010-01,2019-12,5000", "personal_account": "48000"}
    assert (
        district_officer.post(
            reverse("transfer-answer", args=[incoming.pk]), answer, content_type="application/json"
        ).status_code
        == 404
    )
    top_officer = client_for(make_user("top", perms=HRSS, organization=top))
    assert top_officer.get(reverse("insurance:transfer_detail", args=[incoming.pk])).status_code == 200


def test_the_request_may_name_the_office_that_answers(peer: Peer) -> None:
    _top, district = _bureaus()
    incoming = _incoming(peer, office=district.name)
    assert incoming.organization == district
    unknown = _incoming(peer, uid="d" * 32, office="不存在的经办机构")
    assert unknown.organization is not None and unknown.organization.code == "bj-hrss"


def test_the_top_office_assigns_a_transfer_to_a_district_office(peer: Peer) -> None:
    from xietong.core.models import AuditEvent

    top, district = _bureaus()
    incoming = _incoming(peer)
    district_officer = client_for(make_user("district", perms=HRSS, organization=district))
    assert (
        district_officer.post(
            reverse("insurance:transfer_assign", args=[incoming.pk]), {"organization": district.pk}
        ).status_code
        == 404
    )  # not yet theirs
    top_officer = client_for(make_user("top", perms=HRSS, organization=top))
    page = top_officer.get(reverse("insurance:transfer_detail", args=[incoming.pk])).content.decode()
    assert reverse("insurance:transfer_assign", args=[incoming.pk]) in page
    top_officer.post(reverse("insurance:transfer_assign", args=[incoming.pk]), {"organization": district.pk})
    incoming.refresh_from_db()
    assert incoming.organization == district
    assert AuditEvent.objects.filter(target_type="insurance.insurancetransfer", action="update").exists()
    assert district_officer.get(reverse("insurance:transfer_detail", args=[incoming.pk])).status_code == 200
    answer = {"periods": "2010-01,2019-12,5000", "personal_account": "48000"}
    answered = district_officer.post(
        reverse("transfer-answer", args=[incoming.pk]), answer, content_type="application/json"
    )
    assert answered.status_code == 200 and answered.json()["status"] == "answered"


def test_an_office_outside_the_officers_scope_cannot_be_assigned(peer: Peer) -> None:
    top, _district = _bureaus()
    incoming = _incoming(peer)
    elsewhere = make_org("tj-rs", kind="hrss_bureau")
    top_officer = client_for(make_user("top", perms=HRSS, organization=top))
    top_officer.post(reverse("insurance:transfer_assign", args=[incoming.pk]), {"organization": elsewhere.pk})
    incoming.refresh_from_db()
    assert incoming.organization == top
    assert Client().get(reverse("insurance:transfer_detail", args=[incoming.pk])).status_code == 302


def test_the_operator_names_the_office_incoming_requests_go_to(peer: Peer, settings: Any) -> None:
    _top, district = _bureaus()
    settings.XIETONG_HRSS_OFFICE = district.code
    assert _incoming(peer).organization == district

"""The access layer of the membership app (ARCHITECTURE.md §3 rule 9, issue 11): every page and API
view finds its record through an ``access_*`` selector with the action the request performs, and a
user whose rights lie only in another organisation's subtree gets 404 on every POST endpoint and
custom action, with nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse

from xietong.core.models import Organization, Role, RoleAssignment, User
from xietong.core.permissions import forget
from xietong.core.testing import Scope, ScopedObjectViewTests, clerk, client_for, covers, make_user
from xietong.core.tests.factories import EmployerFactory

from .. import actions, selectors
from ..choices import ApplicationStatus, CardStatus, MemberStatus, TransferStatus
from ..models import Member, MemberImport, OutreachEvent
from .factories import make_member, make_service_point, submit

pytestmark = pytest.mark.django_db


def _event(organization: Organization) -> OutreachEvent:
    from datetime import date

    return actions.outreach_event_create(
        organization=organization, title="职工沟通会", held_on=date(2026, 5, 1), acting_user=None
    )


def _import(organization: Organization) -> MemberImport:
    upload = SimpleUploadedFile("roll.csv", "姓名,身份证号码\n".encode())
    return actions.member_import_start(
        organization=organization, uploaded=upload, acting_user=clerk(), dry_run=True
    )


class TestEventViews(ScopedObjectViewTests):
    model = OutreachEvent
    list_url_name = "membership:event_list"
    detail_url_name = "membership:event_detail"

    def make_object(self, organization: Organization) -> OutreachEvent:
        return _event(organization)


@dataclass
class PostCase:
    """A POST endpoint: the permissions it needs, how to make its object at an organisation, its
    URL and data for that object, and how to tell that nothing changed."""

    perms: tuple[str, ...]
    make: Callable[[Scope], Any]
    url: Callable[[Any], str]
    unchanged: Callable[[Any], bool]
    data: Callable[[Scope, Any], dict[str, Any]] = lambda scope, obj: {}


def _status(obj: Any) -> str:
    obj.refresh_from_db()
    return str(obj.status)


def _transfer(scope: Scope) -> Any:
    """A transfer out of ``home`` into ``root``: ``home`` may withdraw it, ``root`` decides it."""
    member = make_member(scope.home)
    return actions.transfer_request(member=member, to_organization=scope.root, acting_user=clerk())


REVIEW = ("membership.view_joinapplication", "membership.change_joinapplication")
MEMBERS = ("membership.view_member", "membership.change_member")
CARDS = ("membership.view_member", "membership.change_membercard")
TRANSFERS = ("membership.view_member", "membership.transfer_member")

POSTS: dict[str, PostCase] = {
    "application_approve": PostCase(
        REVIEW,
        lambda scope: submit(scope.home),
        lambda a: reverse("membership:application_approve", args=[a.pk]),
        lambda a: _status(a) == ApplicationStatus.SUBMITTED,
    ),
    "application_reject": PostCase(
        REVIEW,
        lambda scope: submit(scope.home),
        lambda a: reverse("membership:application_reject", args=[a.pk]),
        lambda a: _status(a) == ApplicationStatus.SUBMITTED,
        lambda scope, a: {"reason": "资料不全"},
    ),
    "member_status": PostCase(
        MEMBERS,
        lambda scope: make_member(scope.home),
        lambda m: reverse("membership:member_status", args=[m.pk]),
        lambda m: _status(m) == MemberStatus.ACTIVE,
        lambda scope, m: {"status": MemberStatus.SUSPENDED, "reason": "测试原因"},
    ),
    "member_employer": PostCase(
        MEMBERS,
        lambda scope: make_member(scope.home),
        lambda m: reverse("membership:member_employer", args=[m.pk]),
        lambda m: Member.objects.get(pk=m.pk).employer_id is None,
        lambda scope, m: {"employer": EmployerFactory.create(organization=scope.other).pk},
    ),
    "member_card_issue": PostCase(
        CARDS,
        lambda scope: make_member(scope.home, with_card=False),
        lambda m: reverse("membership:member_card_issue", args=[m.pk]),
        lambda m: selectors.active_card(m) is None,
    ),
    "card_action": PostCase(
        CARDS,
        lambda scope: selectors.active_card(make_member(scope.home)),
        lambda c: reverse("membership:card_action", args=[c.pk, "lost"]),
        lambda c: _status(c) == CardStatus.ACTIVE,
        lambda scope, c: {"reason": "测试原因"},
    ),
    "transfer_request": PostCase(
        TRANSFERS,
        lambda scope: make_member(scope.home),
        lambda m: reverse("membership:transfer_request", args=[m.pk]),
        lambda m: not selectors.member_transfers(m).exists(),
        lambda scope, m: {"to_organization": scope.other.pk},
    ),
    "transfer_cancel": PostCase(
        TRANSFERS,
        _transfer,
        lambda t: reverse("membership:transfer_decide", args=[t.pk, "cancel"]),
        lambda t: _status(t) == TransferStatus.REQUESTED,
    ),
    "transfer_accept": PostCase(
        TRANSFERS,
        _transfer,
        lambda t: reverse("membership:transfer_decide", args=[t.pk, "accept"]),
        lambda t: _status(t) == TransferStatus.REQUESTED,
    ),
    "transfer_refuse": PostCase(
        TRANSFERS,
        _transfer,
        lambda t: reverse("membership:transfer_decide", args=[t.pk, "refuse"]),
        lambda t: _status(t) == TransferStatus.REQUESTED,
        lambda scope, t: {"reason": "不属于本单位职工"},
    ),
}


@pytest.mark.parametrize("name", sorted(POSTS))
@covers(
    "membership:application_approve",
    "membership:application_reject",
    "membership:member_status",
    "membership:member_employer",
    "membership:member_card_issue",
    "membership:card_action",
    "membership:transfer_request",
    "membership:transfer_decide",
)
def test_a_post_with_rights_only_in_another_subtree_is_not_found(scope: Scope, name: str) -> None:
    case = POSTS[name]
    obj = case.make(scope)
    outsider = client_for(make_user("outsider", perms=case.perms, organization=scope.other))
    response = outsider.post(case.url(obj), case.data(scope, obj))
    assert response.status_code == 404, name
    assert case.unchanged(obj), name


def _user_with(username: str, grants: dict[Organization, tuple[str, ...]]) -> User:
    """An account holding each set of permissions at its organisation."""
    user = User.objects.create_user(username=username, password="x-test-password-1")
    for n, (organization, perms) in enumerate(grants.items()):
        role = Role.objects.create(code=f"role-{username}-{n}", name=f"角色{username}{n}")
        for full in perms:
            app_label, codename = full.split(".", 1)
            role.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        RoleAssignment.objects.create(user=user, role=role, organization=organization)
    forget(user)
    return user


@pytest.mark.parametrize("name", sorted(POSTS))
def test_a_post_that_moves_a_workflow_asks_for_change_not_view(scope: Scope, name: str) -> None:
    """Seeing the record is not enough: the change right elsewhere does not reach it."""
    case = POSTS[name]
    obj = case.make(scope)
    viewing = tuple(perm for perm in case.perms if ".view_" in perm)
    changing = tuple(perm for perm in case.perms if ".view_" not in perm)
    user = _user_with(
        "viewer", {scope.root: viewing, scope.other: (*viewing, *changing)}
    )  # sees everything, changes only in ``other``
    response = client_for(user).post(case.url(obj), case.data(scope, obj))
    assert response.status_code == 404, name
    assert case.unchanged(obj), name


def test_bulk_approval_ignores_applications_outside_the_scope(scope: Scope) -> None:
    application = submit(scope.home)
    outsider = client_for(make_user("outsider", perms=REVIEW, organization=scope.other))
    outsider.post(reverse("membership:application_approve_bulk"), {"ids": [application.pk]})
    assert _status(application) == ApplicationStatus.SUBMITTED


@covers("membership:import_detail", "membership:import_report")
def test_import_pages_and_report_outside_the_scope_are_not_found(scope: Scope) -> None:
    job = _import(scope.home)
    perms = ["membership.view_memberimport", "membership.add_memberimport"]
    insider = client_for(make_user("insider", perms=perms, organization=scope.home))
    outsider = client_for(make_user("outsider", perms=perms, organization=scope.other))
    assert insider.get(reverse("membership:import_detail", args=[job.pk])).status_code == 200
    for url in (
        reverse("membership:import_detail", args=[job.pk]),
        reverse("membership:import_report", args=[job.pk]),
    ):
        assert outsider.get(url).status_code == 404, url


def test_card_printing_for_another_organisation_is_not_found(scope: Scope) -> None:
    make_member(scope.home)
    outsider = client_for(make_user("outsider", perms=CARDS, organization=scope.other))
    url = reverse("membership:card_print")
    assert outsider.get(url, {"organization": scope.home.pk}).status_code == 404
    assert outsider.get(url, {"organization": "abc"}).status_code == 404


@covers("card-verify")
def test_a_desk_cannot_verify_at_a_point_it_does_not_staff(scope: Scope) -> None:
    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    desk = make_user("desk", perms=["membership.verify_membercard"], organization=scope.other)
    elsewhere = make_service_point(scope.root)
    token = selectors.card_token(card)
    body = {"token": token, "service_point": elsewhere.pk, "benefit": "free_registration"}
    response = client_for(desk).post(reverse("card-verify"), body, content_type="application/json")
    assert response.status_code == 404


def test_a_desk_attached_to_a_point_outside_its_role_scope_cannot_verify_there(scope: Scope) -> None:
    card = selectors.active_card(make_member(scope.home))
    assert card is not None
    desk = make_user("desk", perms=["membership.verify_membercard"], organization=scope.other)
    point = make_service_point(scope.home, desk)
    body = {"token": selectors.card_token(card), "service_point": point.pk, "benefit": "free_registration"}
    response = client_for(desk).post(reverse("card-verify"), body, content_type="application/json")
    assert response.status_code == 404


ACCESS = {
    "member": ("access_member", lambda scope: make_member(scope.home), "membership.view_member"),
    "application": (
        "access_application",
        lambda scope: submit(scope.home),
        "membership.view_joinapplication",
    ),
    "card": (
        "access_card",
        lambda scope: selectors.active_card(make_member(scope.home)),
        "membership.view_membercard",
    ),
    "event": ("access_event", lambda scope: _event(scope.home), "membership.view_outreachevent"),
    "import": ("access_import", lambda scope: _import(scope.home), "membership.view_memberimport"),
    "transfer": ("access_transfer", _transfer, "membership.view_member"),
}


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_missing_malformed_and_out_of_scope_are_the_same_404(scope: Scope, name: str) -> None:
    access_name, make, perm = ACCESS[name]
    access = getattr(selectors, access_name)
    obj = make(scope)
    insider = make_user("insider", perms=[perm], organization=scope.home)
    outsider = make_user("outsider", perms=[perm], organization=scope.other)
    assert access(user=insider, pk=obj.pk, action="view") == obj
    assert access(user=insider, pk=str(obj.pk), action="view") == obj
    wrong = ((outsider, obj.pk), (insider, 10**9), (insider, "abc"), (insider, None), (insider, 10**30))
    for user, pk in wrong:
        with pytest.raises(Http404) as raised:
            access(user=user, pk=pk, action="view")
        assert str(raised.value) == "", (name, pk)


def test_the_member_api_answers_404_for_a_malformed_id(scope: Scope) -> None:
    client = client_for(make_user("insider", perms=["membership.view_member"], organization=scope.home))
    assert client.get("/api/membership/members/abc/").status_code == 404

"""The membership app on the home page and in the notifications (issue 12 §2): each count is the total
of the list it links to, a desk account lands on its verification screen, a new application notifies
the officers of its union and nobody else, an import's end notifies who started it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from xietong.core import actions as core_actions
from xietong.core.models import Notification, Role, RoleAssignment, User
from xietong.core.roles import DEFAULT_ROLES
from xietong.core.testing import Scope, clerk, client_for, make_user

from .. import actions
from ..models import MemberImport
from .factories import make_member, submit

pytestmark = pytest.mark.django_db

OFFICER = next(spec for spec in DEFAULT_ROLES if spec.code == "union_officer").permissions


def todo_counts(client: Client) -> dict[str, tuple[int, str]]:
    """The home page's to-do lines: label → (count, link)."""
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    return {item.label: (item.count, item.url) for item in response.context["todos"]}


def list_total(client: Client, url: str) -> int:
    return client.get(url).context["paginator"].count


def test_the_counts_are_the_totals_of_the_lists_they_link_to(scope: Scope) -> None:
    for _n in range(2):
        submit(scope.home)
    submit(scope.other)  # another union's application: not counted
    lost = make_member(scope.home)
    make_member(scope.home)
    actions.card_report_lost(card=lost.cards.get(), acting_user=clerk(), reason="遗失")
    officer = client_for(make_user("officer", perms=OFFICER, organization=scope.home))
    todos = todo_counts(officer)
    count, url = todos["待审核的入会申请"]
    assert (count, url) == (2, "/membership/applications/?status=submitted")
    assert list_total(officer, url) == 2
    count, url = todos["本周挂失待补卡"]
    assert count == 1 and list_total(officer, url) == 1
    page = officer.get(reverse("core:home")).content.decode()
    assert 'data-testid="panel-membership"' in page and 'data-testid="figure-members">2<' in page
    assert page.count('data-testid="todo"') == len(todos)


def test_a_clerk_without_the_right_to_review_sees_no_review_line(scope: Scope) -> None:
    submit(scope.home)
    clerk_perms = next(spec for spec in DEFAULT_ROLES if spec.code == "union_clerk").permissions
    todos = todo_counts(client_for(make_user("clerk", perms=clerk_perms, organization=scope.home)))
    assert "待审核的入会申请" not in todos


def test_a_desk_account_lands_on_its_verification_screen(scope: Scope) -> None:
    core_actions.roles_sync()
    desk = User.objects.create_user(username="desk", password="x-test-password-1", organization=scope.home)
    RoleAssignment.objects.create(
        user=desk, role=Role.objects.get(code="service_point"), organization=scope.home
    )
    response = client_for(desk).get(reverse("core:home"))
    assert response.status_code == 302 and response["Location"] == reverse("membership:verify")
    # An account with a second role keeps its home page.
    RoleAssignment.objects.create(
        user=desk, role=Role.objects.get(code="union_clerk"), organization=scope.home
    )
    assert client_for(desk).get(reverse("core:home")).status_code == 200


def test_a_new_application_notifies_the_officers_of_its_union_only(scope: Scope) -> None:
    here = make_user("here", perms=OFFICER, organization=scope.home)
    above = make_user("above", perms=OFFICER, organization=scope.root)
    other = make_user("other", perms=OFFICER, organization=scope.other)
    with TestCase.captureOnCommitCallbacks(execute=True):
        application = submit(scope.home, name="赵六")
    notes = Notification.objects.filter(kind="membership.application")
    assert {note.recipient for note in notes} == {here, above}
    assert not notes.filter(recipient=other).exists()
    note = notes.get(recipient=here)
    assert "赵六" in note.text and note.key == f"membership.joinapplication:{application.pk}"
    assert note.link == "/membership/applications/?status=submitted"


def test_an_import_notifies_who_started_it_when_it_ends(scope: Scope) -> None:
    starter = make_user("starter", perms=OFFICER, organization=scope.home)
    content = "姓名,身份证号码\n张三,123\n".encode()  # a bad row: the import fails
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = actions.member_import_start(
            organization=scope.home, uploaded=SimpleUploadedFile("roll.csv", content), acting_user=starter
        )
    job.refresh_from_db()
    assert job.status == "failed"
    note = Notification.objects.get(recipient=starter)
    assert note.kind == "job.failed" and "roll.csv" in note.text
    assert note.link == reverse("membership:import_detail", args=[job.pk])
    # The failed import is on the starter's to-do list.
    todos = todo_counts(client_for(starter))
    assert todos["导入失败：roll.csv"][1] == reverse("membership:import_detail", args=[job.pk])
    assert MemberImport.objects.count() == 1

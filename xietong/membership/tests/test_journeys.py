"""Issue 12 §3: nothing destructive in one click, the employer typed when joining is kept, and
members imported in bulk get cards (an import option, a bulk action on the roll, a button)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from xietong.core.models import AuditEvent
from xietong.core.testing import Scope, clerk, client_for, make_user
from xietong.core.tests.factories import EmployerFactory

from .. import actions, selectors
from ..choices import CardStatus, MemberStatus
from ..models import Member, MemberCard
from .factories import make_member, submit

pytestmark = pytest.mark.django_db

OFFICER = ["membership.view_member", "membership.change_member", "membership.change_membercard"]


# Nothing destructive in one click ----------------------------------------------------------------


def test_the_status_control_preselects_no_choice_and_asks_for_a_reason(scope: Scope) -> None:
    member = make_member(scope.home)
    officer = make_user("t-officer", perms=OFFICER, organization=scope.home)
    page = client_for(officer).get(reverse("membership:member_detail", args=[member.pk])).content.decode()
    select = re.search(r'<select name="status"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    options = re.findall(r"<option([^>]*)>", select.group(1))
    assert 'value=""' in options[0] and "selected" in options[0]
    assert all("selected" not in option for option in options[1:])
    assert 'name="reason"' in page and "确认变更" in page


@pytest.mark.parametrize("status", [MemberStatus.SUSPENDED, MemberStatus.LEFT, MemberStatus.DECEASED])
def test_a_destructive_status_change_without_a_reason_is_refused(scope: Scope, status: str) -> None:
    member = make_member(scope.home)
    officer = make_user("t-officer", perms=OFFICER, organization=scope.home)
    client_for(officer).post(reverse("membership:member_status", args=[member.pk]), {"status": status})
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    with pytest.raises(ValidationError, match="原因"):
        actions.member_set_status(member=member, status=status, acting_user=clerk(), reason="  ")


def test_the_reason_is_in_the_history_and_the_audit(scope: Scope) -> None:
    member = make_member(scope.home)
    officer = make_user("t-officer", perms=OFFICER, organization=scope.home)
    client = client_for(officer)
    url = reverse("membership:member_status", args=[member.pk])
    client.post(url, {"status": MemberStatus.SUSPENDED, "reason": "连续六个月未缴会费"})
    member.refresh_from_db()
    assert member.status == MemberStatus.SUSPENDED
    event = (
        AuditEvent.objects.filter(target_type="membership.member", target_id=str(member.pk))
        .order_by("id")
        .last()
    )
    assert event is not None and event.changes["detail"]["reason"] == "连续六个月未缴会费"
    page = client.get(reverse("membership:member_detail", args=[member.pk])).content.decode()
    assert "原因：</span><span>连续六个月未缴会费" in page


@pytest.mark.parametrize("what", ["lost", "suspend", "replace"])
def test_card_changes_need_a_confirmed_reason(scope: Scope, what: str) -> None:
    member = make_member(scope.home)
    card = selectors.active_card(member)
    assert card is not None
    officer = make_user("t-officer", perms=OFFICER, organization=scope.home)
    client = client_for(officer)
    url = reverse("membership:card_action", args=[card.pk, what])
    page = client.get(reverse("membership:member_detail", args=[member.pk])).content.decode()
    # The button only opens a confirmation; the form that posts is inside it, with the reason.
    form = re.search(rf'<form method="post" action="{re.escape(url)}".*?</form>', page, re.S)
    assert form is not None and 'data-testid="card-' in form.group(0) and "required" in form.group(0)
    client.post(url)
    card.refresh_from_db()
    assert card.status == CardStatus.ACTIVE
    client.post(url, {"reason": "会员来电报失"})
    card.refresh_from_db()
    assert card.status != CardStatus.ACTIVE
    event = (
        AuditEvent.objects.filter(target_type="membership.membercard", target_id=str(card.pk))
        .order_by("id")
        .last()
    )
    assert event is not None and event.changes["detail"]["reason"] == "会员来电报失"


def test_removing_a_blacklist_listing_asks_for_confirmation() -> None:
    from pathlib import Path

    from django.conf import settings

    template = Path(settings.BASE_DIR) / "xietong/inspection/templates/inspection/arrears_detail.html"
    source = template.read_text(encoding="utf-8")
    assert 'data-bs-target="#removal-confirm"' in source and 'form="removal-form"' in source


# The employer typed when joining -------------------------------------------------------------------


def test_approval_keeps_the_typed_employer_and_matches_a_registered_one(scope: Scope) -> None:
    registered = EmployerFactory.create(name="北京快手科技有限公司", organization=scope.home)
    application = submit(scope.home, employer_name=" 北京快手科技有限公司 ")
    # registered after the worker applied: approval still finds it
    application.employer = None
    application.save()
    member = actions.join_application_approve(application=application, acting_user=clerk())
    assert member.employer == registered and member.employer_name == "北京快手科技有限公司"


def test_an_employer_of_another_union_is_not_matched(scope: Scope) -> None:
    EmployerFactory.create(name="北京快手科技有限公司", organization=scope.other)
    application = submit(scope.home, employer_name="北京快手科技有限公司")
    member = actions.join_application_approve(application=application, acting_user=clerk())
    assert member.employer is None and member.employer_name == "北京快手科技有限公司"


def test_an_unmatched_employer_shows_as_typed_and_can_be_linked(scope: Scope) -> None:
    application = submit(scope.home, employer_name="快手集团")
    member = actions.join_application_approve(application=application, acting_user=clerk())
    employer = EmployerFactory.create(name="北京快手科技有限公司", organization=scope.home)
    officer = make_user("t-officer", perms=[*OFFICER, "core.view_employer"], organization=scope.home)
    client = client_for(officer)
    page = client.get(reverse("membership:member_detail", args=[member.pk])).content.decode()
    assert "快手集团" in page and "未关联已登记单位" in page and 'data-testid="link-employer"' in page
    client.post(reverse("membership:member_employer", args=[member.pk]), {"employer": employer.pk})
    member.refresh_from_db()
    assert member.employer == employer and member.employer_name == "快手集团"
    elsewhere = EmployerFactory.create(name="别处单位", organization=scope.other)
    with pytest.raises(ValidationError):
        actions.member_link_employer(member=member, employer=elsewhere, acting_user=clerk())


# Cards for members imported in bulk ----------------------------------------------------------------


def test_the_member_page_issues_a_card_to_a_member_without_one(scope: Scope) -> None:
    member = make_member(scope.home, with_card=False)
    officer = make_user("t-officer", perms=OFFICER, organization=scope.home)
    client = client_for(officer)
    page = client.get(reverse("membership:member_detail", args=[member.pk])).content.decode()
    assert 'data-testid="issue-card"' in page
    client.post(reverse("membership:member_card_issue", args=[member.pk]))
    assert selectors.active_card(member) is not None
    with pytest.raises(ValidationError):
        actions.member_card_issue(member=member, acting_user=clerk())


def test_the_roll_issues_cards_to_the_filtered_members_without_one(scope: Scope) -> None:
    without = [make_member(scope.home, with_card=False) for _ in range(3)]
    holding = make_member(scope.home)
    outside = make_member(scope.other, with_card=False)
    officer = make_user("t-officer", perms=OFFICER, organization=scope.home)
    card_events = AuditEvent.objects.filter(target_type="membership.membercard")
    before = card_events.count()
    client_for(officer).post(reverse("membership:members_card_issue_bulk"), {"querystring": "status=active"})
    assert all(selectors.active_card(member) is not None for member in without)
    assert MemberCard.objects.filter(member=holding).count() == 1
    assert selectors.active_card(outside) is None
    assert card_events.count() == before + 1  # one audited action
    # A filter narrows it: a search for one member issues to that member only.
    more = [make_member(scope.home, with_card=False) for _ in range(2)]
    client_for(officer).post(
        reverse("membership:members_card_issue_bulk"), {"querystring": f"q={more[0].number}"}
    )
    assert selectors.active_card(more[0]) is not None and selectors.active_card(more[1]) is None


def test_an_import_can_issue_cards_to_its_new_members() -> None:
    from xietong.core.models import Employer
    from xietong.core.testing import make_org

    from .test_imports import _csv, _good_rows, _run

    union = make_org("t-union", kind="grassroots_union")
    Employer.objects.create(name="北京测试科技有限公司", organization=union, region_id="110101")
    job = _run(union, "roll.csv", _csv(_good_rows(3, "北京测试科技有限公司")), issue_cards=True)
    job.refresh_from_db()
    assert job.created_count == 3 and job.cards_issued == 3 and "发放互助服务卡3张" in job.message
    members = Member.objects.filter(organization=union)
    assert all(selectors.active_card(member) is not None for member in members)
    assert {m.employer_name for m in members} == {"北京测试科技有限公司"}

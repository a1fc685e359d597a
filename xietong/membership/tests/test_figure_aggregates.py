"""The membership figures as aggregates (issue 16): after any mix of joins, imports, transfers,
status changes and card moves, the aggregates the actions keep equal a full count of the roll, and
the figures page reads them."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from xietong.core.models import Organization
from xietong.core.testing import Scope, clerk, client_for, make_org, make_user

from .. import actions, selectors
from ..models import JoinDay, Member, MemberCard, MemberImport, OrganizationFigures
from .factories import fresh_id_number, make_member, submit

pytestmark = pytest.mark.django_db


def _full_count() -> tuple[dict[int, tuple[int, int, int]], Counter[tuple[int, date]]]:
    """Per organisation (active, suspended, cards in use) and joins per (organisation, day), counted
    from the roll itself."""
    status = Counter(
        {
            (o, s): n
            for o, s, n in Member.objects.order_by()
            .values_list("organization_id", "status")
            .annotate(n=Count("pk"))
        }
    )
    cards = Counter(
        MemberCard.objects.filter(status="active").values_list("member__organization_id", flat=True)
    )
    orgs = {o for o, _s in status} | set(cards)
    totals = {o: (status[(o, "active")], status[(o, "suspended")], cards[o]) for o in orgs}
    joins = Counter(
        {
            (o, d): n
            for o, d, n in Member.objects.order_by()
            .values_list("organization_id", "joined_on")
            .annotate(n=Count("pk"))
        }
    )
    return totals, joins


def _aggregates() -> tuple[dict[int, tuple[int, int, int]], Counter[tuple[int, date]]]:
    totals = {
        f.organization_id: (f.active, f.suspended, f.cards)
        for f in OrganizationFigures.objects.all()
        if (f.active, f.suspended, f.cards) != (0, 0, 0)
    }
    joins = Counter({(j.organization_id, j.day): j.joins for j in JoinDay.objects.all() if j.joins})
    return totals, joins


def _import(org: Organization, rows: list[str]) -> MemberImport:
    text = "\n".join(["姓名,身份证号码,性别,出生日期,手机号码,工作单位,入会日期", *rows])
    job = MemberImport(organization=org, original_name="roll.csv", created_by=clerk())
    job.file.save("roll.csv", ContentFile(text.encode()), save=True)
    return actions.member_import_run(job=job)


def test_aggregates_equal_a_full_count_after_a_mix_of_changes(scope: Scope) -> None:
    branch = make_org("t-branch", parent=scope.home)
    # joins: approved applications, members made directly, with and without cards
    approved = [
        actions.join_application_approve(application=submit(scope.home), acting_user=clerk())
        for _ in range(3)
    ]
    direct = [make_member(branch), make_member(branch, with_card=False), make_member(scope.other)]
    # an import, with joining days of its own; then the same people again with another day
    numbers = [fresh_id_number() for _ in range(4)]
    rows = [f"职工{i},{n},,,,,2025-03-0{i + 1}" for i, n in enumerate(numbers)]
    assert _import(branch, rows).created_count == 4
    assert _import(branch, [row.replace("2025-03-0", "2025-04-0") for row in rows[:2]]).updated_count == 2
    # cards in bulk for the imported members
    imported = list(Member.objects.filter(organization=branch, source="import"))
    assert actions.cards_issue_bulk(members=imported, acting_user=clerk()) == 4
    # transfers: a member with a card moves, with its card and its joining day
    transfer = actions.transfer_request(member=approved[0], to_organization=scope.other, acting_user=clerk())
    actions.transfer_accept(transfer=transfer, acting_user=clerk())
    moved = actions.transfer_request(member=imported[0], to_organization=scope.home, acting_user=clerk())
    actions.transfer_accept(transfer=moved, acting_user=clerk())
    # status changes
    actions.member_set_status(member=approved[1], status="suspended", acting_user=clerk(), reason="会员申请")
    actions.member_set_status(member=direct[0], status="left", acting_user=clerk(), reason="会员申请")
    actions.member_set_status(member=imported[1], status="deceased", acting_user=clerk(), reason="会员申请")
    actions.member_set_status(member=direct[1], status="suspended", acting_user=clerk(), reason="会员申请")
    actions.member_set_status(member=direct[1], status="active", acting_user=clerk())
    # cards lost, replaced, suspended, resumed
    lost = selectors.active_card(approved[2])
    assert lost is not None
    actions.card_report_lost(card=lost, acting_user=clerk(), reason="会员来电")
    actions.card_replace(card=lost, acting_user=clerk(), reason="会员来电")
    held = selectors.active_card(direct[2])
    assert held is not None
    actions.card_suspend(card=held, acting_user=clerk(), reason="会员来电")
    suspended = selectors.active_card(imported[2])
    assert suspended is not None
    actions.card_report_lost(card=suspended, acting_user=clerk(), reason="会员来电")
    actions.card_issue(member=direct[1], acting_user=clerk())

    assert _aggregates() == _full_count()
    totals, joins = _full_count()
    assert totals[branch.pk] == (3, 0, 4)  # a card stays in use when its member leaves or dies
    assert sum(n for (org, _day), n in joins.items() if org == branch.pk) == 5  # one moved away
    # and a rebuild from the roll changes nothing
    call_command("figures", "rebuild", stdout=io.StringIO())
    assert _aggregates() == _full_count()


def test_an_organisation_without_figures_is_counted_on_its_first_change(scope: Scope) -> None:
    make_member(scope.home)
    OrganizationFigures.objects.all().delete()
    JoinDay.objects.all().delete()
    make_member(scope.home)  # the first change after: a recount, which includes it
    assert _aggregates() == _full_count()


def test_the_figures_page_reads_the_aggregates_over_each_subtree(
    scope: Scope, django_assert_max_num_queries: Any
) -> None:
    branch = make_org("t-branch2", parent=scope.home)
    for org in (scope.home, branch, branch):
        make_member(org)
    make_member(branch, with_card=False)
    make_member(scope.other)
    officer = make_user("figures", perms=["membership.view_member"], organization=scope.root)
    data = selectors.figures(user=officer)
    rows = {row["organization"].code: (row["members"], row["cards"]) for row in data["rows"]}
    assert rows == {scope.root.code: (5, 4), scope.home.code: (4, 3), scope.other.code: (1, 1)}
    assert data["updated_at"] is not None
    assert sum(count for _week, count in data["joins"]) == 0 or data["joins"]
    Member.objects.update(status="left")  # behind the actions' back: the page does not count the roll
    assert selectors.figures(user=officer)["rows"][0]["members"] == 5
    response = client_for(officer).get(reverse("membership:figures"))
    assert response.status_code == 200


def test_cards_in_bulk_for_more_members_than_a_query_takes_parameters(scope: Scope) -> None:
    """``xietong demo --scale 1000000`` failed here: the members already holding a card were asked
    with one parameter per member (the SQLite here takes 250,000)."""
    members = [Member(pk=pk, organization=scope.home, status="left") for pk in range(1, 260_001)]
    assert actions.cards_issue_bulk(members=members, acting_user=clerk()) == 0

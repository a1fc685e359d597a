"""Scoped permissions: subtree reach, node-wide grants, dual management, moving an organisation."""

from __future__ import annotations

import pytest

from xietong.core.models import Affiliation, Organization, Person
from xietong.core.testing import Scope, make_org, make_user

from .factories import make_person

pytestmark = pytest.mark.django_db


def test_role_reaches_the_subtree_only(scope: Scope) -> None:
    deep = make_org("t-deep", parent=scope.home)
    inside, outside = make_person(deep), make_person(scope.other)
    user = make_user("u", perms=["core.view_person"], organization=scope.home)
    visible = set(Person.objects.restrict(user, "view"))
    assert inside in visible and outside not in visible
    assert not Person.objects.restrict(user, "change").exists()  # no change permission at all


def test_node_wide_grant_sees_everything(scope: Scope) -> None:
    make_person(scope.home), make_person(scope.other)
    user = make_user("u", perms=["core.view_person"], node_wide=True)
    assert Person.objects.restrict(user, "view").count() == 2


def test_dual_management_extends_reach(scope: Scope) -> None:
    sector = make_org("t-sector", parent=scope.root, kind="sector_federation")
    member_union = make_org("t-union", parent=sector, kind="grassroots_union")
    person = make_person(member_union)
    district_officer = make_user("d", perms=["core.view_person"], organization=scope.other)
    assert person not in Person.objects.restrict(district_officer, "view")
    Affiliation.objects.create(organization=member_union, parent=scope.other)
    district_officer = make_user("d2", perms=["core.view_person"], organization=scope.other)
    assert person in Person.objects.restrict(district_officer, "view")


def test_moving_an_organisation_moves_its_subtree(scope: Scope) -> None:
    child = make_org("t-child", parent=scope.home)
    grandchild = make_org("t-grandchild", parent=child)
    child.parent = scope.other
    child.save()
    grandchild.refresh_from_db()
    assert grandchild.path.startswith(scope.other.path)
    assert grandchild.depth == 3
    assert {o.code for o in grandchild.ancestors()} == {"t-root", "t-other", "t-child"}


def test_anonymous_and_inactive_see_nothing(scope: Scope) -> None:
    from django.contrib.auth.models import AnonymousUser

    make_person(scope.home)
    assert not Person.objects.restrict(AnonymousUser(), "view").exists()
    user = make_user("u", perms=["core.view_person"], node_wide=True)
    user.is_active = False
    assert not Person.objects.restrict(user, "view").exists()
    assert Organization.objects.restrict(None, "view").count() == 0

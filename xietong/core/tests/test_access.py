"""The access layer (ARCHITECTURE.md §3 rule 9): ``access_<thing>`` answers the same 404 for a
missing record, a malformed key and a record outside the user's scope for the action asked."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from xietong.core import selectors
from xietong.core.models import User
from xietong.core.testing import Scope, grant, make_user

from .factories import EmployerFactory, make_person

pytestmark = pytest.mark.django_db


def cases(scope: Scope) -> list[tuple[Any, Any, str]]:
    """(selector, record at scope.home, permission) for each core access selector."""
    account = User.objects.create_user(username="acc", password="x-test-password-1", organization=scope.home)
    return [
        (selectors.access_person, make_person(scope.home), "core.{}_person"),
        (selectors.access_employer, EmployerFactory.create(organization=scope.home), "core.{}_employer"),
        (selectors.access_organization, scope.home, "core.{}_organization"),
        (selectors.access_user, account, "core.manage_accounts"),
    ]


def test_missing_malformed_and_out_of_scope_are_the_same_404(scope: Scope) -> None:
    for access, record, perm in cases(scope):
        perms = {perm.format("view"), perm.format("change")}
        insider = make_user(f"in-{access.__name__}", perms=perms, organization=scope.home)
        outsider = make_user(f"out-{access.__name__}", perms=perms, organization=scope.other)
        assert access(user=insider, pk=record.pk, action="change") == record
        assert access(user=insider, pk=str(record.pk)) == record
        messages = set()
        for user, pk in ((outsider, record.pk), (insider, 10**9), (insider, "abc"), (insider, None)):
            with pytest.raises(Http404) as caught:
                access(user=user, pk=pk, action="change")
            messages.add(str(caught.value))
        assert len(messages) == 1, access.__name__


def test_view_rights_everywhere_do_not_open_a_change(scope: Scope) -> None:
    person = make_person(scope.home)
    user = make_user("viewer", perms=["core.view_person"], organization=None, node_wide=True)
    grant(user, ["core.change_person", "core.reveal_person"], scope.other)
    assert selectors.access_person(user=user, pk=person.pk) == person
    for action in ("change", "reveal"):
        with pytest.raises(Http404):
            selectors.access_person(user=user, pk=person.pk, action=action)

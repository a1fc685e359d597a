"""The member roll must not rebuild masked ID numbers (issue 11, defect 3): without
``core.reveal_person`` its pages, API and Excel export show the birth year only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from xietong.core.testing import Scope, assert_not_rebuildable, client_for, make_user, rows_of

from .factories import make_member

pytestmark = pytest.mark.django_db


def test_no_member_surface_rebuilds_an_id_number_without_reveal(scope: Scope) -> None:
    members = [make_member(scope.home, with_card=False) for _ in range(3)]
    viewer = make_user(
        "viewer", perms=["membership.view_member", "core.view_person"], organization=scope.home
    )
    client = client_for(viewer)
    api = APIClient()
    api.force_authenticate(viewer)
    surfaces = {
        "api list": api.get(reverse("member-list")),
        "list page": client.get(reverse("membership:member_list")),
        "detail page": client.get(reverse("membership:member_detail", args=[members[0].pk])),
        "export": client.get(reverse("membership:member_list"), {"export": "xlsx"}),
    }
    people = [member.person for member in members]
    for name, response in surfaces.items():
        assert response.status_code == 200, name
        assert_not_rebuildable(rows_of(response), people, where=name)

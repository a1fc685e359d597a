"""A masked ID number plus the birth date shown beside it must not rebuild the number (issue 11,
defect 3): without ``core.reveal_person`` every page, API answer and export shows the birth year only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from xietong.core.testing import Scope, assert_not_rebuildable, client_for, make_user, rows_of

from .factories import make_person

pytestmark = pytest.mark.django_db


def test_no_surface_rebuilds_an_id_number_without_reveal(scope: Scope) -> None:
    people = [make_person(scope.home, name=f"测试{n}") for n in range(3)]
    viewer = make_user(
        "viewer", perms=["core.view_person", "core.view_organization"], organization=scope.home
    )
    client = client_for(viewer)
    api = APIClient()
    api.force_authenticate(viewer)
    surfaces = {
        "api list": api.get(reverse("person-list")),
        "api detail": api.get(reverse("person-detail", args=[people[0].pk])),
        "list page": client.get(reverse("core:person_list")),
        "detail page": client.get(reverse("core:person_detail", args=[people[0].pk])),
        "organisation page": client.get(reverse("core:organization_detail", args=[scope.home.pk])),
        "export": client.get(reverse("core:person_list"), {"export": "xlsx"}),
    }
    for name, response in surfaces.items():
        assert response.status_code == 200, name
        assert_not_rebuildable(rows_of(response), people, where=name)


def test_with_reveal_permission_the_full_birth_date_is_shown(scope: Scope) -> None:
    person = make_person(scope.home)
    officer = make_user("officer", perms=["core.view_person", "core.reveal_person"], organization=scope.home)
    api = APIClient()
    api.force_authenticate(officer)
    row = api.get(reverse("person-detail", args=[person.pk])).json()
    assert row["birth_date"] == person.birth_date.isoformat()
    assert row["birth_year"] == person.birth_date.year
    page = client_for(officer).get(reverse("core:person_detail", args=[person.pk])).content.decode()
    assert person.birth_date.isoformat() in page

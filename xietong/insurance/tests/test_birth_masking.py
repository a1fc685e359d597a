"""A masked ID number and a birth date shown beside it must not rebuild the number (issue 11, defect
3), on the insurance app's pages, API answers and exports too: without ``core.reveal_person`` the
roster and finding pages show the birth year only."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from xietong.core.testing import Scope, assert_not_rebuildable, client_for, make_user, rows_of

from ..models import RosterEntry
from .test_scoping import make_run, make_transfer

pytestmark = pytest.mark.django_db

READS = [
    "insurance.view_benefitroster",
    "insurance.view_eligibilitycheck",
    "insurance.view_certificationfinding",
    "insurance.view_insurancetransfer",
]


def test_no_insurance_surface_rebuilds_an_id_number_without_reveal(scope: Scope) -> None:
    run = make_run(scope.home)
    finding = run.findings.order_by("pk").first()
    assert finding is not None
    transfer = make_transfer(scope.home)
    viewer = make_user("viewer", perms=READS, organization=scope.home)
    client = client_for(viewer)
    api = APIClient()
    api.force_authenticate(viewer)
    surfaces: dict[str, Any] = {
        "roster page": client.get(reverse("insurance:roster_detail", args=[run.roster_id])),
        "run page": client.get(reverse("insurance:run_detail", args=[run.pk])),
        "findings export": client.get(
            reverse("insurance:run_detail", args=[run.pk]), {"export": "xlsx"}, follow=True
        ),
        "finding page": client.get(reverse("insurance:finding_detail", args=[finding.pk])),
        "findings api": api.get(reverse("certification-finding-list")),
        "finding api": api.get(reverse("certification-finding-detail", args=[finding.pk])),
        "run api": api.get(reverse("certification-run-detail", args=[run.pk])),
        "transfer list": client.get(reverse("insurance:transfer_list")),
        "transfer export": client.get(reverse("insurance:transfer_list"), {"export": "xlsx"}),
        "transfer page": client.get(reverse("insurance:transfer_detail", args=[transfer.pk])),
        "transfers api": api.get(reverse("transfer-list")),
    }
    people = [*RosterEntry.objects.filter(roster=run.roster), transfer]
    for name, response in surfaces.items():
        assert response.status_code == 200, name
        assert_not_rebuildable(rows_of(response), people, where=name)
    page = surfaces["roster page"].content.decode()
    assert "1950年" in page and "1950-03-07" not in page


def test_with_reveal_permission_the_roster_shows_the_full_birth_date(scope: Scope) -> None:
    run = make_run(scope.home)
    officer = make_user(
        "officer", perms=["insurance.view_benefitroster", "core.reveal_person"], organization=scope.home
    )
    page = client_for(officer).get(reverse("insurance:roster_detail", args=[run.roster_id])).content.decode()
    assert "1950-03-07" in page

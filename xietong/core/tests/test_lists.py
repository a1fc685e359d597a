"""Lists one way (ADR 012): a list's page and its API read the same filters and sort the same way,
the page links to its first and last page with the total, and the export is what the filters select."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from xietong.core.testing import Scope, client_for, make_org, make_user

from .factories import EmployerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(scope: Scope):
    user = make_user(
        "lister", perms=["core.view_employer", "core.view_organization"], organization=scope.root
    )
    return client_for(user)


def _names(response) -> list[str]:
    return [row.name for row in response.context["object_list"]]


def test_page_and_api_sort_the_same_way(scope: Scope, officer_client) -> None:
    for name in ("乙公司", "甲公司", "丙公司"):
        EmployerFactory(organization=scope.home, name=name)
    url = reverse("core:employer_list")
    ascending = _names(officer_client.get(url, {"sort": "name"}))
    descending = _names(officer_client.get(url, {"sort": "-name"}))
    assert ascending == sorted(ascending)
    assert descending == list(reversed(ascending))
    api = officer_client.get(reverse("employer-list"), {"sort": "-name"}).json()
    assert [row["name"] for row in api["results"]] == descending


def test_sort_headers_link_to_the_other_direction(scope: Scope, officer_client) -> None:
    EmployerFactory(organization=scope.home, name="甲公司")
    html = officer_client.get(reverse("core:employer_list"), {"sort": "name", "q": "公司"}).content.decode()
    assert 'aria-sort="ascending"' in html
    assert "sort=-name" in html and "q=%E5%85%AC%E5%8F%B8" in html


def test_filter_by_organisation_subtree_on_page_and_api(scope: Scope, officer_client) -> None:
    at_home = EmployerFactory(organization=scope.home, name="本组织公司")
    EmployerFactory(organization=scope.other, name="别处公司")
    page = officer_client.get(reverse("core:employer_list"), {"organization": scope.home.pk})
    assert _names(page) == [at_home.name]
    api = officer_client.get(reverse("employer-list"), {"organization": scope.home.pk}).json()
    assert [row["name"] for row in api["results"]] == [at_home.name]


def test_an_invalid_filter_value_is_explained_not_a_crash(scope: Scope) -> None:
    user = make_user("auditor-x", perms=["core.view_auditevent"], node_wide=True)
    response = client_for(user).get(reverse("core:audit_list"), {"since": "2026-13-45"})
    assert response.status_code == 200
    assert "起始日期" in response.content.decode()


def test_export_is_what_the_filters_select(scope: Scope, officer_client) -> None:
    EmployerFactory(organization=scope.home, name="甲公司")
    EmployerFactory(organization=scope.other, name="乙公司")
    response = officer_client.get(reverse("core:employer_list"), {"q": "甲", "export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["甲公司"]


def test_pagination_offers_first_and_last_page_and_the_total(scope: Scope, officer_client) -> None:
    org = make_org("t-many", parent=scope.home)
    for i in range(23):
        EmployerFactory(organization=org, name=f"公司{i:02d}")
    url = reverse("core:employer_list")
    middle = officer_client.get(url, {"per_page": 10, "page": 2, "sort": "name"}).content.decode()
    assert "page=1" in middle and "page=last" in middle and "共 23 条" in middle
    last = officer_client.get(url, {"per_page": 10, "page": "last", "sort": "name"})
    assert _names(last) == ["公司20", "公司21", "公司22"]

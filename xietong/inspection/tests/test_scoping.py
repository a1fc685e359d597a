"""The blacklist's pages and endpoints against the scoping rules (ARCHITECTURE.md §3 rule 9).

The list is shared by design: every holder of the view right sees every listing of the region group.
Removing one is a write of the office that listed it: change rights in another office → 404."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.urls import reverse

from xietong.core.models import Organization
from xietong.core.testing import Scope, ScopedObjectViewTests, SignInRequiredTests, client_for, make_user

from ..models import ArrearsListing

pytestmark = pytest.mark.django_db

CREDIT_CODE = "91110000600037341L"


def make_listing(organization: Organization) -> ArrearsListing:
    """A listing this node made at ``organization`` (still listed)."""
    return ArrearsListing.objects.create(
        uid=uuid.uuid4().hex,
        origin_node="bj",
        organization=organization,
        authority=organization.name,
        credit_code=CREDIT_CODE,
        employer_name=f"欠薪单位{organization.code}",
        amount_owed="1000",
        workers_affected=3,
        decision_no=f"{organization.code}-1",
        listed_on=dt.date(2026, 1, 5),
    )


class TestArrearsScoping(ScopedObjectViewTests):
    model = ArrearsListing
    list_url_name = "inspection:arrears_list"
    detail_url_name = "inspection:arrears_detail"
    api_list_url_name = "arrears-list"
    post_url_names = ("inspection:arrears_remove",)
    change_permissions = ("inspection.change_arrearslisting",)

    def make_object(self, organization: Organization) -> ArrearsListing:
        return make_listing(organization)

    def test_permission_in_another_scope_is_not_found(self, scope: Scope) -> None:
        """Shared by design: a holder of the view right in another office sees the listing (the
        region group's list); only removing it is kept to the listing office (the tests below)."""
        listing = self.make_object(scope.home)
        client = client_for(make_user("outsider", perms=[self.permission], organization=scope.other))
        assert client.get(reverse("inspection:arrears_detail", args=[listing.pk])).status_code == 200
        assert listing.pk in self.listed_pks(client)

    def test_the_removal_form_is_offered_only_to_the_listing_office(self, scope: Scope) -> None:
        listing = self.make_object(scope.home)
        url = reverse("inspection:arrears_detail", args=[listing.pk])
        elsewhere = client_for(self.writer(scope, at=scope.other))
        assert elsewhere.get(url).context["removal_form"] is None
        assert client_for(self.writer(scope, at=scope.home)).get(url).context["removal_form"] is not None

    def post_data(self, obj: Any, url: str) -> dict[str, Any]:
        """A removal that passes the form: only the scope may refuse it."""
        return {"removal_reason": "已支付拖欠工资", "removed_on": "2026-11-21"}


class TestInspectionRoutesNeedARole(SignInRequiredTests):
    """Blacklist pages and endpoints without an object argument."""

    route_names = ("inspection:arrears_create", "inspection:arrears_list", "arrears-check", "arrears-list")

"""Issue 14: the request categories and their time limits are configured on a page (node-wide
reference data, ``services.change_servicecategory``), and benefit providers and items have edit
pages scoped like their create pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from xietong.core.models import AuditEvent
from xietong.core.testing import Scope, SignInRequiredTests, client_for, covers, make_user
from xietong.lib import workdays
from xietong.membership.tests.factories import make_service_point

from ..models import Benefit, BenefitProvider, ServiceCategory
from .factories import category, make_benefit, make_provider, make_request

pytestmark = pytest.mark.django_db

CONFIGURE = ["services.change_servicecategory"]


def _category_data(cat: ServiceCategory, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": cat.name,
        "acknowledge_days": cat.acknowledge_days,
        "answer_days": cat.answer_days,
        "legal_aid": "on" if cat.legal_aid else "",
        "active": "on" if cat.active else "",
        "order": cat.order,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


class TestCategoryPagesNeedTheRight(SignInRequiredTests):
    route_names = ("services:category_list", "services:category_edit")
    route_args = {"services:category_edit": (1,)}


def test_new_limits_give_a_new_request_its_due_dates(scope: Scope) -> None:
    cat = category()
    client = client_for(make_user("configurer", perms=CONFIGURE, organization=scope.home))
    page = client.get(reverse("services:category_list")).content.decode()
    assert cat.name in page and reverse("services:category_edit", args=[cat.pk]) in page
    url = reverse("services:category_edit", args=[cat.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _category_data(cat, acknowledge_days=2, answer_days=10))
    assert response.status_code == 302 and response["Location"] == reverse("services:category_list")
    cat.refresh_from_db()
    assert (cat.acknowledge_days, cat.answer_days) == (2, 10)
    event = AuditEvent.objects.filter(target_type="services.servicecategory", target_id=str(cat.pk)).last()
    assert event is not None
    service_request = make_request(scope.home, category=cat)
    today = timezone.localdate()
    assert service_request.acknowledge_due == workdays.add_working_days(today, 2)
    assert service_request.answer_due == workdays.add_working_days(today, 10)


def test_limits_outside_one_to_thirty_or_crossed_are_refused_in_chinese(scope: Scope) -> None:
    cat = category()
    client = client_for(make_user("configurer", perms=CONFIGURE, organization=scope.home))
    url = reverse("services:category_edit", args=[cat.pk])
    too_long = client.post(url, _category_data(cat, answer_days=31))
    assert too_long.status_code == 200 and too_long.context["form"].errors["answer_days"]
    crossed = client.post(url, _category_data(cat, acknowledge_days=6, answer_days=5))
    assert "签收时限不能长于答复时限" in crossed.content.decode()
    taken = client.post(url, _category_data(cat, name=category("legal_aid").name))
    assert "已有同名的服务类别" in taken.content.decode()
    fresh = ServiceCategory.objects.get(pk=cat.pk)
    limits = (fresh.name, fresh.acknowledge_days, fresh.answer_days)
    assert limits == (cat.name, cat.acknowledge_days, cat.answer_days)


def test_without_the_right_the_category_pages_are_forbidden(scope: Scope) -> None:
    cat = category()
    officer = make_user("officer", perms=["services.view_servicerequest"], organization=scope.home)
    client = client_for(officer)
    assert client.get(reverse("services:category_list")).status_code == 403
    url = reverse("services:category_edit", args=[cat.pk])
    assert client.post(url, _category_data(cat, answer_days=9)).status_code == 403
    assert ServiceCategory.objects.get(pk=cat.pk).answer_days == cat.answer_days


def test_the_service_officer_and_node_admin_roles_configure_categories() -> None:
    from xietong.core.roles import DEFAULT_ROLES

    holders = {spec.code for spec in DEFAULT_ROLES if "services.change_servicecategory" in spec.permissions}
    assert {"node_admin", "service_officer"} <= holders


@covers("services:provider_edit")
def test_a_provider_is_changed_in_scope_and_not_found_outside(scope: Scope) -> None:
    desk = make_service_point(scope.home)
    provider = make_provider(scope.home, desk)
    perms = ["services.change_benefitprovider", "services.view_benefit"]
    outsider = client_for(make_user("outsider", perms=perms, organization=scope.other))
    url = reverse("services:provider_edit", args=[provider.pk])
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"name": "改名", "kind": "hospital"}).status_code == 404
    insider = client_for(make_user("insider", perms=perms, organization=scope.home))
    assert provider.name in insider.get(url).content.decode()
    data: dict[str, Any] = {"name": "门头沟区医院（新院区）", "kind": "hospital", "address": "新址"}
    data["service_points"] = [desk.pk]
    response = insider.post(url, data)
    assert response.status_code == 302
    provider = BenefitProvider.objects.get(pk=provider.pk)
    assert (provider.name, provider.address, provider.active) == ("门头沟区医院（新院区）", "新址", False)
    assert provider.organization == scope.home and list(provider.service_points.all()) == [desk]


def test_a_benefit_item_is_changed_in_scope_and_not_found_outside(scope: Scope) -> None:
    benefit = make_benefit(make_provider(scope.home))
    perms = ["services.change_benefit", "services.view_benefit"]
    outsider = client_for(make_user("outsider", perms=perms, organization=scope.other))
    url = reverse("services:benefit_edit", args=[benefit.pk])
    assert outsider.get(url).status_code == 404
    insider = client_for(make_user("insider", perms=perms, organization=scope.home))
    form = insider.get(url)
    assert form.status_code == 200 and form.context["form"].initial["limit_count"] == 12
    data = {
        "provider": benefit.provider.pk,
        "name": "会员免费挂号",
        "kind": "free_registration",
        "limit_count": 6,
        "limit_period": "year",
        "valid_from": "2020-01-01",
        "active": "on",
    }
    assert insider.post(url, data).status_code == 302
    benefit = Benefit.objects.get(pk=benefit.pk)
    assert benefit.limit_count == 6 and benefit.active
    assert Benefit.objects.count() == 1

"""Pages and API of the blacklist: list, check, create, remove."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from xietong.core.testing import client_for, make_org, make_user
from xietong.exchange.models import ExchangeMessage

from ..models import ArrearsListing
from .conftest import Peer
from .test_actions import list_one

INSPECT = [
    "inspection.view_arrearslisting",
    "inspection.add_arrearslisting",
    "inspection.change_arrearslisting",
]


def form(**changes: Any) -> dict[str, Any]:
    data = {
        "credit_code": "91110108MA01ABCD1E",
        "employer_name": "北京某餐飲管理有限公司",  # traditional characters are accepted
        "amount_owed": "52000",
        "workers_affected": "9",
        "decision_no": "京朝人社监〔2026〕3号",
        "listed_on": "2026-11-20",
    }
    return {**data, **changes}


def test_an_inspector_lists_an_employer_and_it_is_sent_to_the_peers(peer: Peer) -> None:
    authority = make_org("cy-jc", kind="labour_inspection")
    inspector = client_for(make_user("inspector", perms=INSPECT, organization=authority))
    response = inspector.post(reverse("inspection:arrears_create"), form(organization=authority.pk))
    listing = ArrearsListing.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "inspection:arrears_detail", args=[listing.pk]
    )
    assert listing.employer_name == "北京某餐饮管理有限公司" and listing.authority == authority.name
    assert ExchangeMessage.objects.get().receiver == "tj"


def test_a_wrong_credit_code_is_explained_and_nothing_is_saved(peer: Peer) -> None:
    authority = make_org("cy-jc", kind="labour_inspection")
    inspector = client_for(make_user("inspector", perms=INSPECT, organization=authority))
    page = inspector.post(
        reverse("inspection:arrears_create"), form(organization=authority.pk, credit_code="9111010")
    )
    assert page.status_code == 200 and "统一社会信用代码应为18位，实为7位" in page.content.decode()
    assert not ArrearsListing.objects.exists() and not ExchangeMessage.objects.exists()


def test_the_check_form_answers_listed_or_clear(peer: Peer) -> None:
    listing = list_one()
    viewer = client_for(make_user("viewer", perms=["inspection.view_arrearslisting"], node_wide=True))
    url = reverse("inspection:arrears_list")
    listed = viewer.get(url, {"check": "1", "credit_code": listing.credit_code.lower()}).content.decode()
    assert 'data-testid="check-listed"' in listed and "北京某餐饮管理有限公司" in listed
    clear = viewer.get(url, {"check": "1", "name": "某个守法企业"}).content.decode()
    assert 'data-testid="check-clear"' in clear
    empty = viewer.get(url, {"check": "1"}).content.decode()
    assert "请填写统一社会信用代码或用人单位名称" in empty


def test_the_api_check_and_list(peer: Peer) -> None:
    listing = list_one()
    api = client_for(make_user("viewer", perms=["inspection.view_arrearslisting"], node_wide=True))
    answer = api.get(reverse("arrears-check"), {"credit_code": listing.credit_code}).json()
    assert answer["listed"] is True and answer["listings"][0]["uid"] == listing.uid
    assert api.get(reverse("arrears-check"), {"name": "无此单位"}).json() == {"listed": False, "listings": []}
    missing = api.get(reverse("arrears-check"))
    assert missing.status_code == 400 and "credit_code" in missing.json()
    assert api.get(reverse("arrears-list"), {"q": "餐饮"}).json()["count"] == 1
    nobody = client_for(make_user("nobody", organization=make_org("x")))
    assert nobody.get(reverse("arrears-check"), {"name": "x"}).status_code == 403


def test_the_listing_authority_removes_it_and_others_cannot(peer: Peer) -> None:
    listing = list_one()
    authority = listing.organization
    assert authority is not None
    outsider = client_for(make_user("outsider", perms=INSPECT, organization=make_org("other")))
    url = reverse("inspection:arrears_remove", args=[listing.pk])
    assert outsider.post(url, {"removal_reason": "x", "removed_on": "2026-11-24"}).status_code == 404
    inspector = client_for(make_user("inspector", perms=INSPECT, organization=authority))
    inspector.post(url, {"removal_reason": "已全额支付拖欠工资", "removed_on": "2026-11-24"})
    listing.refresh_from_db()
    assert listing.status == "removed"
    assert ExchangeMessage.objects.filter(kind="arrears.removed", receiver="tj").exists()


def test_the_list_page_opens_on_current_listings_and_reads_the_same_filters_as_the_api(peer: Peer) -> None:
    current = list_one()
    removed = list_one(code="91110000802100433B", decision="京人社监〔2026〕4号")
    removed.status, removed.employer_name = "removed", "北京惠佳丰商贸有限公司"
    removed.save()
    viewer = client_for(make_user("viewer", perms=["inspection.view_arrearslisting"], node_wide=True))
    page = viewer.get(reverse("inspection:arrears_list"))
    assert [row.pk for row in page.context["object_list"]] == [current.pk]  # 列入中 by default
    everything = viewer.get(reverse("inspection:arrears_list"), {"status": "", "sort": "employer"})
    api = viewer.get(reverse("arrears-list"), {"sort": "employer"}).json()
    assert [row.pk for row in everything.context["object_list"]] == [removed.pk, current.pk]
    assert [row["uid"] for row in api["results"]] == [removed.uid, current.uid]
    found = viewer.get(reverse("arrears-list"), {"q": "惠佳豐"}).json()  # part of the name, traditional
    assert [row["uid"] for row in found["results"]] == [removed.uid]

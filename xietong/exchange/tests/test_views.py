"""Pages and API of the exchange: the blacklist (list, check, create, remove), the operator page and
the registry the hub serves."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from xietong.core.testing import client_for, make_org, make_user

from .. import envelope
from ..models import ArrearsListing, ExchangeMessage
from .conftest import Peer
from .test_outbox import list_one

INSPECT = ["exchange.view_arrearslisting", "exchange.add_arrearslisting", "exchange.change_arrearslisting"]


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
    response = inspector.post(reverse("exchange:arrears_create"), form(organization=authority.pk))
    listing = ArrearsListing.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "exchange:arrears_detail", args=[listing.pk]
    )
    assert listing.employer_name == "北京某餐饮管理有限公司" and listing.authority == authority.name
    assert ExchangeMessage.objects.get().receiver == "tj"


def test_a_wrong_credit_code_is_explained_and_nothing_is_saved(peer: Peer) -> None:
    authority = make_org("cy-jc", kind="labour_inspection")
    inspector = client_for(make_user("inspector", perms=INSPECT, organization=authority))
    page = inspector.post(
        reverse("exchange:arrears_create"), form(organization=authority.pk, credit_code="9111010")
    )
    assert page.status_code == 200 and "统一社会信用代码应为18位，实为7位" in page.content.decode()
    assert not ArrearsListing.objects.exists() and not ExchangeMessage.objects.exists()


def test_the_check_form_answers_listed_or_clear(peer: Peer) -> None:
    listing = list_one()
    viewer = client_for(make_user("viewer", perms=["exchange.view_arrearslisting"], node_wide=True))
    url = reverse("exchange:arrears_list")
    listed = viewer.get(url, {"check": "1", "credit_code": listing.credit_code.lower()}).content.decode()
    assert 'data-testid="check-listed"' in listed and "北京某餐饮管理有限公司" in listed
    clear = viewer.get(url, {"check": "1", "name": "某个守法企业"}).content.decode()
    assert 'data-testid="check-clear"' in clear
    empty = viewer.get(url, {"check": "1"}).content.decode()
    assert "请填写统一社会信用代码或用人单位名称" in empty


def test_the_api_check_and_list(peer: Peer) -> None:
    listing = list_one()
    api = client_for(make_user("viewer", perms=["exchange.view_arrearslisting"], node_wide=True))
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
    url = reverse("exchange:arrears_remove", args=[listing.pk])
    assert outsider.post(url, {"removal_reason": "x", "removed_on": "2026-11-24"}).status_code == 404
    inspector = client_for(make_user("inspector", perms=INSPECT, organization=authority))
    inspector.post(url, {"removal_reason": "已全额支付拖欠工资", "removed_on": "2026-11-24"})
    listing.refresh_from_db()
    assert listing.status == "removed"
    assert ExchangeMessage.objects.filter(kind="arrears.removed", receiver="tj").exists()


def test_the_operator_page_needs_the_permission(peer: Peer) -> None:
    assert (
        client_for(make_user("clerk", organization=make_org("x")))
        .get(reverse("exchange:operations"))
        .status_code
        == 403
    )
    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert "天津节点" in page and "http://127.0.0.1:8002" in page
    assert operator.get(reverse("exchange:message_list")).status_code == 200


def test_the_registry_is_served_signed_by_the_hub(peer: Peer) -> None:
    from xietong.core import pii

    payload = Client().get(reverse("exchange:registry")).json()
    assert [entry["node_id"] for entry in payload["document"]["nodes"]] == ["bj", "tj"]
    assert envelope.verify_document(pii.node_public_key(), payload["document"], payload["signature"])
    assert Client().get(reverse("exchange:inbox")).status_code == 405


def test_the_hub_operator_registers_and_revokes_nodes_on_the_page(peer: Peer) -> None:
    import json

    from xietong.lib import crypto

    from ..models import ExchangeNode, NodeRegistry

    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    url = reverse("exchange:operations")
    bad = operator.post(url, {"entry": "{not json"}).content.decode()
    assert "不是有效的 JSON" in bad
    entry = {
        "node_id": "hb",
        "name": "河北节点",
        "endpoint": "http://127.0.0.1:8003",
        "region_code": "130000",
        "public_key": crypto.generate_signing_key()[1],
    }
    version = NodeRegistry.objects.order_by("-version").first().version  # type: ignore[union-attr]
    assert operator.post(url, {"entry": json.dumps(entry)}).status_code == 302
    assert ExchangeNode.objects.get(node_id="hb").is_trusted()
    assert NodeRegistry.objects.order_by("-version").first().version == version + 1  # type: ignore[union-attr]
    operator.post(reverse("exchange:node_revoke", args=["hb"]))
    assert not ExchangeNode.objects.get(node_id="hb").is_trusted()


def test_a_node_that_is_not_the_hub_cannot_register_or_revoke(peer: Peer, settings: Any) -> None:
    from ..models import ExchangeNode

    settings.XIETONG_HUB_NODE_ID = "tj"
    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert "登记并签发新版名册" not in page
    answer = operator.post(reverse("exchange:node_revoke", args=["tj"]), follow=True).content.decode()
    assert "只有枢纽节点可以吊销节点" in answer and ExchangeNode.objects.get(node_id="tj").is_trusted()

"""Pages of the exchange: the operator page and the registry the hub serves."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from xietong.core.testing import client_for, covers, make_org, make_user

from .. import envelope
from .conftest import Peer

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


@covers("exchange:node_revoke")
def test_revoking_a_node_needs_the_operator_right(peer: Peer) -> None:
    """The operator right is node-wide (the registry is the region group's): anonymous → log-in
    page, an account with roles but not the operator's → 403, nothing revoked; GET → 405."""
    from ..models import ExchangeNode

    url = reverse("exchange:node_revoke", args=["tj"])
    assert Client().post(url)["Location"].startswith(reverse("login"))
    officer = make_user("officer", perms=["core.view_organization", "core.manage_accounts"], node_wide=True)
    assert client_for(officer).post(url).status_code == 403
    assert ExchangeNode.objects.get(node_id="tj").is_trusted()
    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    assert operator.get(url).status_code == 405


def test_a_node_that_is_not_the_hub_cannot_register_or_revoke(peer: Peer, settings: Any) -> None:
    from ..models import ExchangeNode

    settings.XIETONG_HUB_NODE_ID = "tj"
    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert "登记并签发新版名册" not in page
    answer = operator.post(reverse("exchange:node_revoke", args=["tj"]), follow=True).content.decode()
    assert "只有枢纽节点可以吊销节点" in answer and ExchangeNode.objects.get(node_id="tj").is_trusted()


def test_the_operator_page_shows_local_times_a_failing_peer_and_its_recovery(peer: Peer) -> None:
    """Issue 17, defect 7: local times, a peer failing since its first failure, then recovered."""
    import datetime as dt

    from django.utils import timezone

    from .. import actions, selectors
    from ..models import ExchangeMessage, ExchangeNode
    from .test_outbox import acking, list_one

    (message,) = list_one()
    queued = timezone.now() - dt.timedelta(hours=2)
    ExchangeMessage.objects.filter(pk=message.pk).update(created=queued.astimezone(dt.UTC).isoformat())
    local = timezone.localtime(queued).strftime("%Y-%m-%d %H:%M:%S")

    def down(url: str, body: bytes) -> tuple[int, bytes]:
        raise ConnectionRefusedError("Connection refused")

    actions.deliver_due(post=down)
    first_failure = ExchangeNode.objects.get(node_id="tj").last_error_at
    ExchangeMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    actions.deliver_due(post=down)  # a second failure: the streak still started at the first
    tj = ExchangeNode.objects.get(node_id="tj")
    assert first_failure is not None and tj.last_error_at is not None
    assert tj.failing_since == first_failure and tj.last_error_at > first_failure
    assert [state.node.node_id for state in selectors.stale_queues()] == ["tj"]
    assert selectors.stale_queues(threshold=dt.timedelta(hours=3)) == []

    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert local in page and "+00:00" not in page
    since = timezone.localtime(first_failure).strftime("%Y-%m-%d %H:%M:%S")
    assert "投递失败" in page and since in page and "队列积压" in page
    log = operator.get(reverse("exchange:message_list")).content.decode()
    assert local in log and "+00:00" not in log

    ExchangeMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert actions.deliver_due(post=acking(peer)).delivered == 1
    tj.refresh_from_db()
    assert tj.failing_since is None
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert "可达" in page and "已恢复于" in page and "投递失败" not in page and "队列积压" not in page

"""Two real nodes (``xietong.exchange.localnodes``): a 12351 hotline call logged on 北京 is handed
to the 河北 node (a 廊坊 worker calling Beijing's line, issue 14 §2), taken on and answered by 廊坊's
union there, and the acknowledgement and the answer travel back to 北京's request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xietong.exchange.localnodes import LocalNode, region_group, wait_for

pytestmark = pytest.mark.nodes

UNION = """
from xietong.core.models import Organization, Region, User
Organization.objects.get_or_create(code="{code}", defaults=dict(name="{name}", kind="federation",
    region=Region.objects.get(code="{region}")))
User.objects.filter(username="{user}").exists() or User.objects.create_user("{user}",
    password="x-test-password-1")
"""

CALL = """
from xietong.core.models import Organization, User
from xietong.services import actions
from xietong.services.models import ServiceCategory
operator = User.objects.get(username="hotline_bj")
call = actions.request_file(channel="hotline", category=ServiceCategory.objects.get(name="法律援助"),
    subject="在廊坊打工被拖欠工资", description="在廊坊某建筑工地打工，拖欠两个月工资。",
    requester_name="王建国", requester_phone="13912345678",
    received_by=Organization.objects.get(code="bj-fed"), call_taken_by=operator, call_seconds=240,
    acting_user=operator)
actions.request_handover(service_request=call, to_node="hb", union_code="hebei-lf",
    note="职工在廊坊工作", acting_user=operator)
print(call.uid)
"""

ANSWER = """
from xietong.core.models import User
from xietong.services import actions
from xietong.services.models import ServiceRequest
officer = User.objects.get(username="services_lf")
handed = ServiceRequest.objects.get(uid="{uid}")
actions.request_acknowledge(service_request=handed, acting_user=officer)
actions.request_reply(service_request=handed, text="已联系用工单位，拖欠工资将于本周内发放。", final=True,
    acting_user=officer)
"""


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, LocalNode]]:
    base: Path = tmp_path_factory.mktemp("nodes")
    fast = {"XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2", "XIETONG_EXCHANGE_REGISTRY_SECONDS": "2"}
    bj, hb = region_group(base, ids=("bj", "hb"), extra_env=fast)
    try:
        bj.start()
        hb.start()
        yield bj, hb
    finally:
        bj.stop()
        hb.stop()


def request_on(node: LocalNode, uid: str) -> list[tuple[Any, ...]]:
    return node.query(
        "SELECT r.status, o.code, r.origin_node, r.handled_by, r.acknowledged_at IS NOT NULL, r.answer "
        "FROM services_servicerequest r JOIN core_organization o ON o.id = r.organization_id WHERE r.uid = ?",
        (uid,),
    )


def test_a_hotline_call_handed_to_hebei_is_answered_there_and_the_answer_travels_back(
    nodes: tuple[LocalNode, LocalNode],
) -> None:
    bj, hb = nodes
    wait_for(lambda: hb.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    bj.shell(UNION.format(code="bj-fed", name="北京市总工会", region="110000", user="hotline_bj"))
    hb.shell(UNION.format(code="hebei-lf", name="廊坊市总工会", region="131000", user="services_lf"))
    uid = bj.shell(CALL)
    assert request_on(bj, uid) == [("handed_over", "bj-fed", "", "hb", 0, "")]
    received = wait_for(lambda: request_on(hb, uid))
    assert received == [("new", "hebei-lf", "bj", "", 0, "")]  # 廊坊's union has it
    assert hb.query("SELECT requester_phone_masked FROM services_servicerequest WHERE uid = ?", (uid,)) == [
        ("139****5678",)
    ]
    hb.shell(ANSWER.format(uid=uid))
    back = wait_for(lambda: request_on(bj, uid)[0][0] == "answered" and request_on(bj, uid))
    assert back == [("answered", "bj-fed", "", "hb", 1, "已联系用工单位，拖欠工资将于本周内发放。")]
    events = bj.query(
        "SELECT e.text FROM services_requestentry e JOIN services_servicerequest r ON r.id = e.request_id "
        "WHERE r.uid = ? AND e.kind = 'event' ORDER BY e.id",
        (uid,),
    )
    assert [text for (text,) in events][-2:] == ["河北节点已签收", "廊坊市总工会（河北节点）已答复"]

"""Two real nodes on loopback (issue 15 §3, ADR 019): 天津 rotates its signing key while its messages
flow to 北京; the hub registers the new key from 天津's request, everything arrives once and in order
in both directions, and both message logs verify across the switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..localnodes import LocalNode, region_group, wait_for

pytestmark = pytest.mark.nodes

LIST_SOME = """
import datetime
from xietong.core.models import Organization, Region
from xietong.inspection import actions
org, _ = Organization.objects.get_or_create(code="{code}", defaults=dict(
    name="{authority}", kind="labour_inspection", region=Region.objects.get(code="{region}")))
for i in range({first}, {first} + {count}):
    actions.arrears_list(organization=org, credit_code="{credit}",
        employer_name=f"{employer}{{i}}", amount_owed="8000", workers_affected=2,
        decision_no=f"{decision}{{i}}号", listed_on=datetime.date(2026, 11, 20), acting_user=None)
"""

TJ = dict(
    code="tj-bh-jc", authority="天津市滨海新区劳动保障监察支队", region="120116",
    credit="91120116MA05J0X10Y", employer="天津某建筑劳务有限公司", decision="津滨人社监〔2026〕",
)  # fmt: skip
BJ = dict(
    code="bj-xc-jc", authority="北京市西城区劳动保障监察大队", region="110102",
    credit="91110102MA01ABCG31", employer="北京某商贸公司", decision="京西人社监〔2026〕",
)  # fmt: skip

PUBLIC_KEY = "from xietong.core import pii; print(pii.node_public_key())"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, LocalNode]]:
    base: Path = tmp_path_factory.mktemp("keynodes")
    fast = {"XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2", "XIETONG_EXCHANGE_REGISTRY_SECONDS": "2"}
    bj, tj = region_group(base, count=2, extra_env=fast)
    try:
        bj.start()
        tj.start()
        yield bj, tj
    finally:
        bj.stop()
        tj.stop()


def listed_at(node: LocalNode, origin: str) -> int:
    query = "SELECT count(*) FROM exchange_arrearslisting WHERE origin_node = ?"
    return int(node.query(query, (origin,))[0][0])


def test_a_node_rotates_its_key_while_messages_flow(nodes: tuple[LocalNode, LocalNode]) -> None:
    bj, tj = nodes
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    old_key = tj.shell(PUBLIC_KEY)
    tj.shell(LIST_SOME.format(first=0, count=15, **TJ))
    rotated = tj.run("node", "rotate-key")
    tj.shell(LIST_SOME.format(first=15, count=15, **TJ))  # signed with the new key
    new_key = tj.shell(PUBLIC_KEY)
    assert new_key != old_key and new_key in rotated.stdout
    registered = "SELECT public_key, earlier_keys FROM exchange_exchangenode WHERE node_id = 'tj'"
    wait_for(lambda: bj.query(registered)[0][0] == new_key, seconds=90)
    assert old_key in bj.query(registered)[0][1]
    wait_for(lambda: listed_at(bj, "tj") == 30, seconds=120)
    # The hub's registry carries the new key back to 天津; messages the other way still arrive.
    wait_for(lambda: tj.query(registered)[0][0] == new_key, seconds=60)
    bj.shell(LIST_SOME.format(first=0, count=5, **BJ))
    wait_for(lambda: listed_at(tj, "bj") == 5, seconds=90)
    received = bj.query(
        "SELECT count(*), count(DISTINCT message_id) FROM exchange_exchangemessage "
        "WHERE direction = 'in' AND sender = 'tj' AND kind = 'arrears.listed'"
    )
    assert received == [(30, 30)]  # each once
    for node in nodes:
        result = node.run("exchange", "verify", check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "哈希链和签名均有效" in result.stdout

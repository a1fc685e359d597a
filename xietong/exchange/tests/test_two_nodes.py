"""Two real nodes (two processes, two databases: SQLite, or PostgreSQL when the suite runs on it) on
loopback: the registry, a blacklist listing and its removal carried end to end in both directions, a
node that is down for a while, a transfer, a certification run, a decision carried across two runs,
the operator page showing a stopped peer as failing and then recovered, and logs that verify on both
sides afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from ..localnodes import LocalNode, region_group, wait_for

pytestmark = pytest.mark.nodes

BJ_CODE = "91110108MA01ABCD1E"
TJ_CODE = "91120116MA05J0X10Y"

LIST = """
import datetime
from xietong.core.models import Organization, Region
from xietong.inspection import actions
org, _ = Organization.objects.get_or_create(code="{code}", defaults=dict(name="{authority}",
    kind="labour_inspection", region=Region.objects.get(code="{region}")))
listing = actions.arrears_list(organization=org, credit_code="{credit}", employer_name="{employer}",
    amount_owed="{amount}", workers_affected={workers}, decision_no="{decision}",
    listed_on=datetime.date(2026, 11, 20), acting_user=None)
print(listing.uid)
"""

REMOVE = """
import datetime
from xietong.inspection import actions
from xietong.inspection.models import ArrearsListing
actions.arrears_remove(listing=ArrearsListing.objects.get(uid="{uid}"), reason="已全额支付拖欠工资",
    removed_on=datetime.date(2026, 11, 24), acting_user=None)
"""


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, LocalNode]]:
    base: Path = tmp_path_factory.mktemp("nodes")
    fast = {
        "XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2",
        "XIETONG_EXCHANGE_REGISTRY_SECONDS": "2",
        "XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES": "0",  # a queue is "stalled" as soon as a message waits
    }
    bj, tj = region_group(base, count=2, extra_env=fast)
    try:
        bj.start()
        tj.start()
        yield bj, tj
    finally:
        bj.stop()
        tj.stop()


def listing_on(node: LocalNode, uid: str) -> list[tuple[Any, ...]]:
    return node.query(
        "SELECT employer_name, status, origin_node FROM exchange_arrearslisting WHERE uid = ?", (uid,)
    )


def test_each_node_has_a_database_of_the_suites_kind(nodes: tuple[LocalNode, LocalNode]) -> None:
    """On PostgreSQL each node has a database of its own on the suite's server; on SQLite its file."""
    bj, tj = nodes
    on_postgres = connection.vendor == "postgresql"
    assert bool(bj.database_url) == on_postgres and bool(tj.database_url) == on_postgres
    assert (bj.var_dir / "xietong.sqlite3").exists() != on_postgres
    if on_postgres:
        assert bj.database_url != tj.database_url
        assert bj.query("SELECT current_database()")[0][0] == bj.database_url.rsplit("/", 1)[1]


def test_the_registry_reaches_the_other_node(nodes: tuple[LocalNode, LocalNode]) -> None:
    _bj, tj = nodes
    known = wait_for(lambda: tj.query("SELECT node_id FROM exchange_exchangenode ORDER BY node_id"))
    assert [row[0] for row in known] == ["bj", "tj"]


def test_a_listing_and_its_removal_reach_the_other_node_in_both_directions(
    nodes: tuple[LocalNode, LocalNode],
) -> None:
    bj, tj = nodes
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    uid = bj.shell(
        LIST.format(
            code="bj-cy-jc",
            authority="北京市朝阳区劳动保障监察大队",
            region="110105",
            credit=BJ_CODE,
            employer="北京某餐饮管理有限公司",
            amount="52000",
            workers=9,
            decision="京朝人社监〔2026〕3号",
        )
    )
    assert wait_for(lambda: listing_on(tj, uid)) == [("北京某餐饮管理有限公司", "listed", "bj")]
    bj.shell(REMOVE.format(uid=uid))
    wait_for(lambda: listing_on(tj, uid)[0][1] == "removed")
    back = tj.shell(
        LIST.format(
            code="tj-bh-jc",
            authority="天津市滨海新区劳动保障监察支队",
            region="120116",
            credit=TJ_CODE,
            employer="天津某建筑劳务有限公司",
            amount="386500",
            workers=42,
            decision="津滨人社监〔2026〕17号",
        )
    )
    assert wait_for(lambda: listing_on(bj, back)) == [("天津某建筑劳务有限公司", "listed", "tj")]


LIST_SOME = """
import datetime
from xietong.core.models import Organization, Region
from xietong.inspection import actions
org, _ = Organization.objects.get_or_create(code="bj-xc-jc", defaults=dict(
    name="北京市西城区劳动保障监察大队", kind="labour_inspection", region=Region.objects.get(code="110102")))
for i in range({first}, {first} + {count}):
    actions.arrears_list(organization=org, credit_code="91110102MA01ABCG31",
        employer_name=f"北京某商贸公司{{i}}", amount_owed="8000", workers_affected=2,
        decision_no=f"京西人社监〔2026〕{{i}}号", listed_on=datetime.date(2026, 11, 20), acting_user=None)
"""

ALERT = """
from django.test import Client
from django.urls import reverse
from xietong.core.models import User
user = User.objects.filter(username="ops-page").first() or User.objects.create_superuser("ops-page",
    password="x-test-password-1")
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(user)
html = client.get(reverse("exchange:operations")).content.decode()
alert = html.partition('data-testid="stale-queues"')[2].partition("</div>")[0]
print("队列积压" in alert and "天津节点" in alert)
"""


def test_a_node_that_was_down_gets_everything_once_and_in_order(nodes: tuple[LocalNode, LocalNode]) -> None:
    """Issue 15 §5, a peer stopped under load: bj keeps queuing while tj is down (retrying with
    back-off, the queue alert on its exchange page), then tj returns and the queue drains in order,
    nothing lost and nothing applied twice."""
    bj, tj = nodes
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    before = bj.query("SELECT out_seq FROM exchange_exchangenode WHERE node_id = 'tj'")[0][0]
    tj.stop()
    uid = bj.shell(
        LIST.format(
            code="bj-hd-jc",
            authority="北京市海淀区劳动保障监察大队",
            region="110108",
            credit="91110108MA01ABCE1F",
            employer="北京某物业服务有限公司",
            amount="120000",
            workers=15,
            decision="京海人社监〔2026〕8号",
        )
    )
    bj.shell(REMOVE.format(uid=uid))
    waiting = wait_for(
        lambda: (
            bj.query(
                "SELECT count(*), max(attempts) FROM exchange_exchangemessage "
                "WHERE direction = 'out' AND receiver = 'tj' AND status = 'pending' AND attempts > 0"
            )[0][0]
            and bj.query("SELECT last_error FROM exchange_exchangenode WHERE node_id = 'tj'")[0][0]
        )
    )
    assert waiting  # bj keeps the messages and records why they wait
    for first in (0, 20, 40):  # work goes on at bj while tj is away: the queue grows
        bj.shell(LIST_SOME.format(first=first, count=20))
    queued = bj.query(
        "SELECT seq, message_id FROM exchange_exchangemessage WHERE direction = 'out' AND receiver = 'tj' "
        "AND seq > ? ORDER BY seq",
        (before,),
    )
    assert len(queued) == 62
    tries = "SELECT max(attempts) FROM exchange_exchangemessage WHERE direction = 'out' AND receiver = 'tj'"
    wait_for(lambda: bj.query(tries)[0][0] >= 3)  # tried again and again (back-off: 2 s here, 300 s in use)
    assert bj.shell(ALERT) == "True"  # the exchange page warns of tj's stalled queue
    tj.start()
    wait_for(lambda: listing_on(tj, uid) and listing_on(tj, uid)[0][1] == "removed")
    received = tj.query(
        # (the body as text: a JSON column on PostgreSQL, text on SQLite)
        "SELECT kind FROM exchange_exchangemessage "
        "WHERE direction = 'in' AND CAST(body AS TEXT) LIKE ? ORDER BY seq",
        (f"%{uid}%",),
    )
    assert [row[0] for row in received] == ["arrears.listed", "arrears.removed"]  # once each, in order
    wait_for(
        lambda: (
            not bj.query(
                "SELECT 1 FROM exchange_exchangemessage WHERE direction = 'out' AND status = 'pending'"
            )
        )
    )
    # Every message of the queue arrived once, and tj applied them in bj's order (its rows' ids follow
    # the sequence numbers).
    arrived = tj.query(
        "SELECT seq, message_id FROM exchange_exchangemessage WHERE direction = 'in' AND sender = 'bj' "
        "AND seq > ? ORDER BY id",
        (before,),
    )
    assert arrived == queued
    # … and applies them in its exchange worker, after acknowledging them (ADR 016).
    wait_for(
        lambda: (
            tj.query(
                "SELECT count(*) FROM exchange_arrearslisting WHERE employer_name LIKE '北京某商贸公司%'"
            )
            == [(60,)]
        )
    )
    assert bj.shell(ALERT) == "False"


TRANSFER = """
import datetime
from xietong.core.models import Organization, Region
from xietong.insurance import actions
org, _ = Organization.objects.get_or_create(code="bj-rsj", defaults=dict(name="北京市人力资源和社会保障局",
    kind="hrss_bureau", region=Region.objects.get(code="110000")))
applied = datetime.date.today() - datetime.timedelta(days=100)  # the worker applied long ago
print(actions.transfer_request(organization=org, name="张三", id_number="{id_number}", sending_node="tj",
    applied_on=applied, acting_user=None).uid)
"""

BUREAU = """
from xietong.core.models import Organization, Region
Organization.objects.get_or_create(code="tj-rsj", defaults=dict(name="天津市人力资源和社会保障局",
    kind="hrss_bureau", region=Region.objects.get(code="120000")))
"""

ANSWER = """
from decimal import Decimal
from django.core.exceptions import ValidationError
from xietong.insurance import actions
from xietong.insurance.models import InsuranceTransfer
try:
    actions.transfer_answer(transfer=InsuranceTransfer.objects.get(uid="{uid}"),
        periods={periods!r}, personal_account=Decimal("48000"), acting_user=None)
except ValidationError as exc:
    print("\\n".join(exc.message_dict["periods"]))
"""

COMPLETE = """
from xietong.insurance import actions
from xietong.insurance.models import InsuranceTransfer
actions.transfer_complete(transfer=InsuranceTransfer.objects.get(uid="{uid}"), acting_user=None)
"""


def test_an_insurance_transfer_runs_between_the_two_regions(nodes: tuple[LocalNode, LocalNode]) -> None:
    from xietong.lib import idnumber

    bj, tj = nodes
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    body = "12010119800101123"
    tj.shell(BUREAU)  # the sending region's bureau, which incoming requests go to
    uid = bj.shell(TRANSFER.format(id_number=body + idnumber.check_digit(body)))

    def state(node: LocalNode) -> list[tuple[Any, ...]]:
        return node.query(
            "SELECT side, status, fund_transfer_amount FROM exchange_insurancetransfer WHERE uid = ?", (uid,)
        )

    def dates(node: LocalNode) -> tuple[Any, ...]:
        return node.query(
            "SELECT letter_received_on, peer_office, step_late FROM exchange_insurancetransfer WHERE uid = ?",
            (uid,),
        )[0]

    assert wait_for(lambda: state(tj)) == [("sending", "requested", None)]
    # Applied 100 days ago, the letter left late: both regions see the transfer overdue; tj's receipt
    # tells bj the day its limit runs from and the office that took it.
    assert dates(tj)[2] == 1
    received = wait_for(lambda: dates(bj)[0] and dates(bj))
    assert received[1:] == ("天津市人力资源和社会保障局", 1)
    refused = tj.shell(ANSWER.format(uid=uid, periods="2010-01,2015-12,5000\n2014-01,2019-12,5000"))
    assert refused.startswith("第2行（2014-01至2019-12）：与第1行（2010-01至2015-12）重叠")
    assert "共24个月" in refused
    assert state(tj)[0][1] == "requested"
    assert tj.shell(ANSWER.format(uid=uid, periods="2010-01,2019-12,5000")) == ""
    # 120 months × 5000 × 12 % = 72000 pooled, plus the personal account 48000
    assert wait_for(lambda: state(bj)[0][1] == "answered" and state(bj))[0][2] in (
        120000,
        "120000",
        "120000.00",
    )
    bj.shell(COMPLETE.format(uid=uid))
    wait_for(lambda: state(tj)[0][1] == "completed")


ROSTER = """
from django.core.files.uploadedfile import SimpleUploadedFile
from xietong.core.models import Organization, Region
from xietong.insurance import actions
org, _ = Organization.objects.get_or_create(code="{code}", defaults=dict(name="{name}", kind="hrss_bureau",
    region=Region.objects.get(code="{region}")))
print(actions.roster_import_start(organization=org, kind="{kind}", title="{kind}", mapping={{}},
    acting_user=None, uploaded=SimpleUploadedFile("roster.csv", {text!r}.encode())).pk)
"""

RUN = """
from xietong.insurance import actions
from xietong.insurance.models import BenefitRoster
roster = BenefitRoster.objects.get(pk={pk})
print(actions.certification_run_start(roster=roster, partners=["tj"],
    checks=["fraud_suspected", "duplicate"], acting_user=None).uid)
"""


def test_a_certification_run_reaches_a_partner_that_was_down_and_comes_back_with_findings(
    nodes: tuple[LocalNode, LocalNode],
) -> None:
    from xietong.lib import idnumber

    bj, tj = nodes
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    bodies = ("11010519480307002", "11010119600101004", "11010219501111005", "12010419400505006")
    wang, li, zhao, chen = (body + idnumber.check_digit(body) for body in bodies)
    deaths = tj.shell(
        ROSTER.format(
            code="tj-rsj", name="天津市人力资源和社会保障局", region="120000", kind="death",
            text=f"人员编号,姓名,身份证号码,死亡日期\nT1,王秀英,{wang},2025-03-02\nT2,陈桂兰,{chen},2024-01-09\n",
        )
    )  # fmt: skip
    pensions = bj.shell(
        ROSTER.format(
            code="bj-rsj", name="北京市人力资源和社会保障局", region="110000", kind="pension",
            text=f"人员编号,姓名,身份证号码\nP1,王秀英,{wang}\nP2,李娜,{li}\nP3,赵凤兰,{zhao}\n",
        )
    )  # fmt: skip

    def status(node: LocalNode, pk: str) -> str:
        return node.query("SELECT status FROM exchange_benefitroster WHERE id = ?", (int(pk),))[0][0]

    wait_for(lambda: status(tj, deaths) == "done" and status(bj, pensions) == "done")
    tj.stop()
    uid = bj.shell(RUN.format(pk=pensions))
    wait_for(
        lambda: bj.query(
            "SELECT 1 FROM exchange_exchangemessage WHERE kind = 'certification.request' "
            "AND status = 'pending' AND attempts > 0"
        )
    )
    tj.start()

    def run() -> list[tuple[Any, ...]]:
        return bj.query("SELECT id, stage, records FROM exchange_eligibilitycheck WHERE uid = ?", (uid,))

    # The run's job ended once its requests were in the outbox; its stage completes with tj's answer.
    assert wait_for(lambda: run() and run()[0][1] == "complete" and run())[0][2] == 3
    found = bj.query(
        "SELECT e.name, f.kind, f.partner FROM exchange_certificationfinding f "
        "JOIN exchange_rosterentry e ON e.id = f.entry_id WHERE f.run_id = ?",
        (run()[0][0],),
    )
    assert found == [("王秀英", "fraud_suspected", "tj")]
    assert tj.query("SELECT requester, checked, findings, status FROM exchange_certificationassistance") == [
        ("bj", 3, 1, "done")
    ]
    sent = bj.query("SELECT body FROM exchange_exchangemessage WHERE kind = 'certification.request'")
    assert all(secret not in sent[0][0] for secret in (wang, "王秀英", "李娜"))


DECIDE = """
from django.core.exceptions import ValidationError
from xietong.insurance import actions
from xietong.insurance.models import CertificationFinding
finding = CertificationFinding.objects.get(run__uid="{uid}", entry__name="{name}")
try:
    actions.finding_{decision}(finding=finding, note="{note}", acting_user=None)
    print("decided")
except ValidationError as exc:
    print("refused:", "；".join(exc.messages))
"""


def test_a_decision_in_one_run_carries_to_the_other_run(nodes: tuple[LocalNode, LocalNode]) -> None:
    """Issue 17, defect 4: two runs of the same roster both find 周琪 dead in 天津; dismissing her in
    run 2 dismisses her in run 1 too (who and where shown), and confirming her there is refused."""
    from xietong.lib import idnumber

    bj, tj = nodes
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    zhou = "12010219550606007" + idnumber.check_digit("12010219550606007")
    deaths = tj.shell(
        ROSTER.format(
            code="tj-rsj", name="天津市人力资源和社会保障局", region="120000", kind="death",
            text=f"人员编号,姓名,身份证号码,死亡日期\nT9,周琪,{zhou},2025-06-01\n",
        )
    )  # fmt: skip
    pensions = bj.shell(
        ROSTER.format(
            code="bj-rsj", name="北京市人力资源和社会保障局", region="110000", kind="pension",
            text=f"人员编号,姓名,身份证号码\nP9,周琪,{zhou}\n",
        )
    )  # fmt: skip

    def done(node: LocalNode, pk: str) -> bool:
        return (
            node.query("SELECT status FROM exchange_benefitroster WHERE id = ?", (int(pk),))[0][0] == "done"
        )

    wait_for(lambda: done(tj, deaths) and done(bj, pensions))
    first, second = (bj.shell(RUN.format(pk=pensions)) for _ in range(2))

    def finding(uid: str) -> list[tuple[Any, ...]]:
        return bj.query(
            "SELECT f.status, d.uid FROM exchange_certificationfinding f "
            "JOIN exchange_eligibilitycheck r ON r.id = f.run_id "
            "LEFT JOIN exchange_eligibilitycheck d ON d.id = f.decided_in_id WHERE r.uid = ?",
            (uid,),
        )

    wait_for(lambda: finding(first) and finding(second))
    assert bj.shell(DECIDE.format(uid=second, name="周琪", decision="dismiss", note="本人已到窗口认证")) == (
        "decided"
    )
    assert finding(first) == [("dismissed", second)]  # decided in run 2, shown in run 1
    refused = bj.shell(DECIDE.format(uid=first, name="周琪", decision="confirm", note=""))
    assert refused.startswith("refused:") and "改判" in refused
    assert bj.query("SELECT suspended_at FROM exchange_rosterentry WHERE record_id = 'P9'") == [(None,)]


PAGE = """
from django.test import Client
from django.urls import reverse
from xietong.core.models import User
user = User.objects.filter(username="ops-page").first() or User.objects.create_superuser("ops-page",
    password="x-test-password-1")
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(user)
html = client.get(reverse("exchange:operations")).content.decode()
head, _, alert = html.partition('data-testid="stale-queues"')  # the queue alert says "可达" too
html = head + alert.partition("</div>")[2]
print("failing" if "投递失败" in html else "", "recovered" if "已恢复于" in html else "",
    "reachable" if "可达" in html else "", "raw-utc" if "+00:00" in html else "")
"""


def test_the_exchange_page_shows_a_stopped_peer_failing_then_recovered(
    nodes: tuple[LocalNode, LocalNode],
) -> None:
    """Issue 17, defect 7: the operator page of bj while tj is down, then after it is back."""
    bj, tj = nodes
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    tj.stop()
    bj.shell(
        LIST.format(
            code="bj-cy-jc", authority="北京市朝阳区劳动保障监察大队", region="110105",
            credit="91110105MA01ABCF28", employer="北京某保洁服务有限公司", amount="30000", workers=4,
            decision="京朝人社监〔2026〕12号",
        )
    )  # fmt: skip
    wait_for(lambda: bj.query("SELECT failing_since FROM exchange_exchangenode WHERE node_id = 'tj'")[0][0])
    assert bj.shell(PAGE).split() == ["failing"]
    tj.start()
    wait_for(
        lambda: (
            not bj.query(
                "SELECT 1 FROM exchange_exchangemessage WHERE direction = 'out' AND status = 'pending'"
            )
        )
    )
    assert bj.shell(PAGE).split() == ["recovered", "reachable"]


def test_both_logs_verify_afterwards(nodes: tuple[LocalNode, LocalNode]) -> None:
    for node in nodes:
        result = node.run("exchange", "verify", check=False)
        assert result.returncode == 0, result.stderr
        assert "哈希链和签名均有效" in result.stdout

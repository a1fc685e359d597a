"""PostgreSQL restarted under a node's exchange worker while it delivers a queue (issue 15 §5): the
sender (北京, on PostgreSQL) keeps running, its deliveries resume once the server is back, the
receiver (天津) applies every message exactly once and in order, and both logs verify."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from xietong.exchange.localnodes import LocalNode, region_group, wait_for

from .conftest import Server

pytestmark = pytest.mark.nodes

COUNT = 120

LIST_MANY = """
import datetime
from xietong.core.models import Organization, Region
from xietong.inspection import actions
org, _ = Organization.objects.get_or_create(code="bj-cy-jc", defaults=dict(
    name="北京市朝阳区劳动保障监察大队", kind="labour_inspection", region=Region.objects.get(code="110105")))
for i in range({count}):
    actions.arrears_list(organization=org, credit_code="91110108MA01ABCD1E",
        employer_name="北京某餐饮管理有限公司", amount_owed="52000", workers_affected=9,
        decision_no=f"京朝人社监〔2026〕{{i}}号", listed_on=datetime.date(2026, 11, 20), acting_user=None)
"""


@pytest.fixture
def group(tmp_path: Path, postgres: Server) -> Iterator[tuple[LocalNode, LocalNode]]:
    fast = {
        "XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2",
        "XIETONG_EXCHANGE_REGISTRY_SECONDS": "2",
        "XIETONG_EXCHANGE_BATCH": "1",  # many small deliveries: the restart falls among them
    }
    bj, tj = region_group(
        tmp_path, count=2, extra_env=fast, node_env={"bj": {"DATABASE_URL": postgres.create("bj")}}
    )
    try:
        bj.start(tmp_path / "bj.log")
        tj.start(tmp_path / "tj.log")
        yield bj, tj
    finally:
        bj.stop()
        tj.stop()


def web_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def children(node: LocalNode) -> str:
    """The command lines of the node's processes (``xietong serve`` and what it started)."""
    assert node.server is not None
    lines = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[2]) == node.server.pid:
                lines.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return "\n".join(lines)


def test_deliveries_resume_after_postgresql_restarts_and_nothing_is_applied_twice(
    group: tuple[LocalNode, LocalNode], postgres: Server, tmp_path: Path
) -> None:
    bj, tj = group
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"), seconds=40)

    def applied() -> int:
        return int(tj.query("SELECT count(*) FROM exchange_arrearslisting WHERE origin_node = 'bj'")[0][0])

    def pending() -> int:
        return int(
            bj.query(
                "SELECT count(*) FROM exchange_exchangemessage WHERE direction = 'out' AND status = 'pending'"
            )[0][0]
        )

    tj.stop()  # a queue to deliver: bj's work while tj was away
    bj.shell(LIST_MANY.format(count=COUNT))
    assert pending() == COUNT
    tj.start(tmp_path / "tj.log")
    # Deliveries under way (the peer stores and acknowledges at once and applies in its own worker,
    # so the sender's queue is the clock to watch):
    wait_for(lambda: pending() <= COUNT - 5, seconds=40, every=0.05)
    waiting = pending()
    postgres.restart()  # while bj's exchange worker is in the middle of the queue
    assert waiting > 0, "the queue had drained before the restart: nothing was tested"
    wait_for(lambda: applied() == COUNT and pending() == 0, seconds=60, every=0.5)

    received = tj.query(
        "SELECT seq, kind FROM exchange_exchangemessage WHERE direction = 'in' AND sender = 'bj' "
        "AND kind = 'arrears.listed' ORDER BY seq"
    )
    assert len(received) == COUNT  # once each
    seqs = [row[0] for row in received]
    assert seqs == sorted(set(seqs))  # in order, no gap filled twice
    assert bj.run("exchange", "verify", check=False).returncode == 0
    assert tj.run("exchange", "verify", check=False).returncode == 0
    running = children(bj)
    for process in ("xietong.cli worker", "exchange deliver --loop"):
        assert process in running, f"{process} ended with the database:\n{running}"
    # … and not by dying and being restarted by the supervisor: each outlived the outage.
    restarts = dict(bj.query("SELECT name, restarts FROM core_processstate"))
    assert restarts.get("worker", 0) == 0 and restarts.get("exchange", 0) == 0, restarts
    # The web server answers pages that read the database again (its pool reconnects).
    wait_for(lambda: web_answers(bj.endpoint + "/exchange/registry/"), seconds=20)
    log = (tmp_path / "bj.log").read_text(encoding="utf-8", errors="replace")
    assert "数据库不可用" in log  # it noticed, waited and carried on

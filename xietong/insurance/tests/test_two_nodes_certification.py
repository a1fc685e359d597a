"""Certification between real nodes (issue 13), on SQLite and, in the PostgreSQL suite, with each
node on a PostgreSQL database of its own.

- At scale, two nodes: 北京 pays 100,000 pensions; 天津 pays 100,000 and keeps a death register of
  20,000, with 2 % of 北京's recipients dead in 天津 (a tenth under a mistyped ID digit) and 1 % paid
  by both. 北京 opens a run with both checks; 天津 is killed (SIGKILL, every process) while 北京's
  encoded roll is on its way, and started again. The run completes, the planted cases are found,
  nothing is applied twice, both logs verify.
- Three nodes: a run to 天津 and 河北 at once; 河北 is down when it starts, 天津's answer arrives and
  counts while 北京 still waits for 河北, and the run completes once 河北 is back.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xietong.demo.rosters import certification_rosters, roster_imported, run_started
from xietong.exchange.localnodes import LocalNode, region_group, wait_for

pytestmark = pytest.mark.nodes

RECIPIENTS = int(os.environ.get("XIETONG_TEST_CERT_RECIPIENTS", "100000"))


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, LocalNode, LocalNode]]:
    base: Path = tmp_path_factory.mktemp("certification")
    env = {
        "XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2",
        "XIETONG_EXCHANGE_REGISTRY_SECONDS": "2",
        "XIETONG_EXCHANGE_CHUNK_MB": "1",  # the roll travels in many chunks: room to stop it half-way
    }
    bj, tj, hb = region_group(base, count=3, extra_env=env)
    try:
        for node in (bj, tj, hb):
            node.start(base / f"{node.node_id}.log")
        yield bj, tj, hb
    finally:
        for node in (bj, tj, hb):
            node.stop()


def test_a_run_of_100000_recipients_survives_the_partner_killed_mid_transfer(
    nodes: tuple[LocalNode, LocalNode, LocalNode], tmp_path: Path
) -> None:
    bj, tj, _hb = nodes
    files, died, twice = certification_rosters(tmp_path, RECIPIENTS)
    roll, _seconds = roster_imported(bj, files["a_pension"], "pension", "bj-rsj", "110000")
    roster_imported(tj, files["b_pension"], "pension", "tj-rsj", "120000")
    roster_imported(tj, files["b_death"], "death", "tj-rsj", "120000")
    wait_for(lambda: bj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'tj'"), seconds=30)
    run = run_started(bj, roll)

    def sending() -> list[tuple[Any, ...]]:
        return [
            (received, size)
            for received, size in bj.query(
                "SELECT f.received, f.size FROM exchange_messagefile f JOIN exchange_exchangemessage m "
                "ON m.id = f.message_id WHERE m.direction = 'out' AND m.kind LIKE 'certification.%'"
            )
            if 0 < received < size
        ]

    halfway = wait_for(sending, seconds=300, every=0.05)
    assert tj.server is not None
    os.killpg(tj.server.pid, signal.SIGKILL)  # the partner dies with part of the roll received
    tj.server.wait()
    tj.server = None
    time.sleep(2)
    tj.start()

    wait_for(lambda: finished(bj, run), seconds=900, every=1)
    assert halfway  # the kill did land in the middle of the transfer
    for kind, planted in (("fraud_suspected", died), ("duplicate", twice)):
        found = found_by(bj, run, kind)
        hits = len(found & planted)
        assert hits / len(found) >= 0.99 and hits / len(planted) >= 0.99, (
            kind,
            len(found),
            hits,
            len(planted),
        )
    # Nothing applied twice: each finding once, each comparison once, each message received once.
    assert not bj.query(
        "SELECT entry_id, kind FROM exchange_certificationfinding WHERE run_id = ? "
        "GROUP BY entry_id, kind HAVING count(*) > 1",
        (run,),
    )
    assert not tj.query(
        "SELECT run_uid, chunk, attempt FROM exchange_certificationassistance"
        " GROUP BY run_uid, chunk, attempt HAVING count(*) > 1"
    )
    assert not tj.query(
        "SELECT message_id FROM exchange_exchangemessage WHERE direction = 'in' "
        "GROUP BY message_id HAVING count(*) > 1"
    )
    assert bj.run("exchange", "verify", check=False).returncode == 0
    assert tj.run("exchange", "verify", check=False).returncode == 0


def finished(node: LocalNode, run: int) -> bool:
    """Whether the run is complete (every partner answered); a failed run fails the test."""
    stage, status, message = node.query(
        "SELECT stage, status, message FROM exchange_eligibilitycheck WHERE id = ?", (run,)
    )[0]
    assert status != "failed", message
    return bool(stage == "complete")


def found_by(node: LocalNode, run: int, kind: str, partner: str = "") -> set[str]:
    """The record numbers of the run's findings of ``kind`` at or above the threshold (from one
    ``partner``, or any)."""
    rows = node.query(
        "SELECT e.record_id FROM exchange_certificationfinding f JOIN exchange_rosterentry e "
        "ON e.id = f.entry_id WHERE f.run_id = ? AND f.kind = ? AND f.score >= 0.99 AND f.partner LIKE ?",
        (run, kind, partner or "%"),
    )
    return {row[0] for row in rows}


def test_a_run_to_two_partners_goes_on_while_one_is_down_and_completes_when_it_is_back(
    nodes: tuple[LocalNode, LocalNode, LocalNode], tmp_path: Path
) -> None:
    bj, tj, hb = nodes
    files, died, twice = certification_rosters(tmp_path, 2000)
    roll, _seconds = roster_imported(bj, files["a_pension"], "pension", "bj-rsj", "110000")
    roster_imported(tj, files["b_pension"], "pension", "tj-rsj", "120000")
    roster_imported(hb, files["b_death"], "death", "hb-rsj", "130000")  # the deaths are 河北's here
    wait_for(lambda: len(bj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id IN ('tj', 'hb')")) == 2)
    hb.stop()  # 河北 is down when the run starts
    run = run_started(bj, roll, ("tj", "hb"))

    def request(partner: str) -> str:
        rows = bj.query(
            "SELECT status FROM exchange_certificationrequest WHERE run_id = ? AND partner = ?",
            (run, partner),
        )
        return str(rows[0][0])

    wait_for(lambda: request("tj") == "answered", seconds=300, every=0.5)
    stage = bj.query("SELECT stage FROM exchange_eligibilitycheck WHERE id = ?", (run,))[0][0]
    assert (request("hb"), stage) == ("waiting", "waiting")  # 北京 waits for 河北
    assert found_by(bj, run, "duplicate", "tj") >= twice  # 天津's findings are in while 河北 is away
    hb.start()
    wait_for(lambda: finished(bj, run), seconds=300, every=0.5)
    from_hebei = found_by(bj, run, "fraud_suspected", "hb")
    assert len(from_hebei & died) / len(died) >= 0.99 and len(from_hebei & died) / len(from_hebei) >= 0.99
    assert not bj.query(
        "SELECT entry_id, kind, partner FROM exchange_certificationfinding WHERE run_id = ? "
        "GROUP BY entry_id, kind, partner HAVING count(*) > 1",
        (run,),
    )
    for node in (bj, tj, hb):
        assert node.run("exchange", "verify", check=False).returncode == 0

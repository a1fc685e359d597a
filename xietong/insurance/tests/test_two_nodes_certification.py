"""Certification at scale between two real nodes (issue 13): 北京 pays 100,000 pensions; 天津 pays
100,000 and keeps a death register of 20,000, with 2 % of 北京's recipients dead in 天津 (a tenth
under a mistyped ID digit) and 1 % paid by both. 北京 opens a run with both checks; 天津 is killed
(SIGKILL, every process) while 北京's encoded roll is on its way, and started again. The run completes,
the planted cases are found, nothing is applied twice, both logs verify. Runs on SQLite and, in the
PostgreSQL suite, with each node on a PostgreSQL database of its own."""

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
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, LocalNode]]:
    base: Path = tmp_path_factory.mktemp("certification")
    env = {
        "XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2",
        "XIETONG_EXCHANGE_REGISTRY_SECONDS": "2",
        "XIETONG_EXCHANGE_CHUNK_MB": "1",  # the roll travels in many chunks: room to stop it half-way
    }
    bj, tj = region_group(base, count=2, extra_env=env)
    try:
        bj.start(base / "bj.log")
        tj.start(base / "tj.log")
        yield bj, tj
    finally:
        bj.stop()
        tj.stop()


def test_a_run_of_100000_recipients_survives_the_partner_killed_mid_transfer(
    nodes: tuple[LocalNode, LocalNode], tmp_path: Path
) -> None:
    bj, tj = nodes
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

    def finished() -> bool:
        stage, status, message = bj.query(
            "SELECT stage, status, message FROM exchange_eligibilitycheck WHERE id = ?", (run,)
        )[0]
        assert status != "failed", message
        return bool(stage == "complete")

    wait_for(finished, seconds=900, every=1)
    assert halfway  # the kill did land in the middle of the transfer
    for kind, planted in (("fraud_suspected", died), ("duplicate", twice)):
        found = {
            row[0]
            for row in bj.query(
                "SELECT e.record_id FROM exchange_certificationfinding f JOIN exchange_rosterentry e "
                "ON e.id = f.entry_id WHERE f.run_id = ? AND f.kind = ? AND f.score >= 0.99",
                (run, kind),
            )
        }
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

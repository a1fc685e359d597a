"""The embedded supervisor on a real node (``xietong serve`` as ``make demo`` runs it): the task
worker killed is logged with its exit, restarted, and ``/health/`` reports it (issue 15 §1)."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..localnodes import LocalNode, region_group, wait_for

pytestmark = pytest.mark.nodes


def health(node: LocalNode, path: str = "/health/") -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(node.endpoint + path, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, Path]]:
    base: Path = tmp_path_factory.mktemp("supervised")
    (bj,) = region_group(base, ids=("bj",), extra_env={"XIETONG_HEARTBEAT_SECONDS": "1"})
    log = base / "serve.log"
    try:
        bj.start(log)
        yield bj, log
    finally:
        bj.stop()


def test_a_killed_worker_is_logged_restarted_and_reported(node: tuple[LocalNode, Path]) -> None:
    bj, log = node
    _status, body = wait_for(lambda: (answer := health(bj))[0] == 200 and answer)
    assert set(body["processes"]) == {"worker", "exchange"}
    (pid,) = bj.query("SELECT pid FROM core_processstate WHERE name = 'worker'")[0]
    os.kill(pid, signal.SIGKILL)
    seen = wait_for(
        lambda: (answer := health(bj, "/health/worker/"))[0] == 503 and answer, seconds=10, every=0.1
    )
    assert seen[1]["failing"] == ["worker"] and seen[1]["processes"]["worker"]["state"] == "restarting"

    def worker_row() -> tuple[Any, ...]:
        return bj.query("SELECT pid, restarts, last_exit FROM core_processstate WHERE name = 'worker'")[0]

    wait_for(lambda: worker_row()[1] == 1 and worker_row()[0] != pid)
    assert worker_row()[2] == "信号 SIGKILL"
    # The new worker beats: the node is healthy again, the restart counted.
    _status, body = wait_for(lambda: (answer := health(bj))[0] == 200 and answer)
    assert body["processes"]["worker"]["restarts"] == 1
    assert "子进程 worker 已退出（信号 SIGKILL）" in log.read_text(encoding="utf-8")

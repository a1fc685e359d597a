"""The region group launcher (``make demo``) with real processes: a node whose server is killed is
reported and restarted while the others keep answering; Ctrl-C stops everything (issue 17, defect 11)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from xietong.exchange.localnodes import wait_for

pytestmark = pytest.mark.nodes


def two_free_ports() -> int:
    """A port p with p and p + 1 both free on loopback."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two adjacent free ports")


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def test_a_killed_node_is_reported_and_restarted_while_the_other_answers(tmp_path: Path) -> None:
    port = two_free_ports()
    out = tmp_path / "launcher.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XIETONG_", "DATABASE_URL"))}
    with out.open("wb") as handle:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "xietong.demo.regiongroup", "--base", str(tmp_path / "nodes"),
             "--port", str(port), "--count", "2", "--no-demo"],
            stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    text = lambda: out.read_text(encoding="utf-8", errors="replace")  # noqa: E731
    try:
        wait_for(lambda: "区域组已启动" in text() and answers(port) and answers(port + 1), seconds=300)
        assert f"http://127.0.0.1:{port}/" in text() and "hrss_tj" in text()
        tj_server = int((tmp_path / "nodes" / "tj" / "server.pid").read_text())
        os.kill(tj_server, signal.SIGKILL)  # the node's server dies; its gunicorn is left orphaned
        wait_for(lambda: "天津节点（tj）已停止" in text(), seconds=30)
        assert "被信号 9 终止" in text()
        assert answers(port), "北京节点 must keep running"
        assert launcher.poll() is None
        wait_for(lambda: "天津节点（tj）已恢复" in text(), seconds=120)
        assert answers(port + 1) and answers(port)
    finally:
        if launcher.poll() is None:
            os.kill(launcher.pid, signal.SIGINT)  # Ctrl-C
        code = launcher.wait(timeout=60)
    assert code == 0, text()
    assert not answers(port) and not answers(port + 1)

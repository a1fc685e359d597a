"""Several Xietong nodes on one machine, each a real process with its own folder and SQLite database,
talking over loopback: the three-node demo (京、津、冀, ``make demo-nodes``) and the two-node tests.

    python -m xietong.exchange.localnodes [--base var/nodes] [--port 8001] [--demo]

Each node gets ``XIETONG_VAR_DIR=<base>/<id>``; ``xietong node init`` writes its identity there, the
hub (the first node) registers every node, and ``xietong serve`` runs its web server, task worker
and exchange worker.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION_GROUP = (("bj", "北京节点", "110000"), ("tj", "天津节点", "120000"), ("hb", "河北节点", "130000"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalNode:
    """One node: its id, port and folder; ``run`` runs an ``xietong`` command as this node."""

    node_id: str
    name: str
    region: str
    port: int
    var_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("XIETONG_", "DATABASE_URL"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="xietong.settings.base",
            XIETONG_VAR_DIR=str(self.var_dir),
            XIETONG_ALLOWED_HOSTS="127.0.0.1,localhost",
            **self.extra_env,
        )
        return env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``xietong ARGS`` as this node and wait."""
        return subprocess.run(
            [sys.executable, "-m", "xietong.cli", *args],
            env=self.env(),
            check=check,
            capture_output=True,
            text=True,
        )

    def shell(self, code: str) -> str:
        """Run Python in this node's Django (``xietong shell -c``) and return what it printed."""
        return self.run("shell", "--no-imports", "-c", code).stdout.strip()

    def init(self, hub: LocalNode | None) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        args = ["node", "init", "--id", self.node_id, "--name", self.name, "--endpoint", self.endpoint]
        args += ["--region", self.region]
        if hub is not None:
            args += ["--hub-entry", str(hub.var_dir / "node-entry.json")]
            args += ["--group-key-file", str(hub.var_dir / "keys" / "group-match.key")]
        self.run(*args)

    def start(self) -> None:
        """Start ``xietong serve`` (web, task worker, exchange worker) and wait until it answers."""
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xietong.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
            ],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.endpoint + "/healthz", timeout=1) as answer:  # noqa: S310 - loopback
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"节点 {self.node_id} 未能在 60 秒内启动")

    def stop(self) -> None:
        """Stop the node's processes (the whole process group), as a crash or a shutdown would."""
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.server = None

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read this node's own database directly (the test's view of what the node holds)."""
        with sqlite3.connect(f"file:{self.var_dir / 'xietong.sqlite3'}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql, params).fetchall()


def region_group(
    base: Path, *, first_port: int = 0, count: int = 3, extra_env: dict[str, str] | None = None
) -> list[LocalNode]:
    """Set up ``count`` nodes of 京津冀 under ``base`` (the first is the hub): keys, settings,
    databases, and the hub's registry of all of them. Nothing is started."""
    nodes = [
        LocalNode(node_id, name, region, first_port + i if first_port else free_port(), base / node_id,
                  dict(extra_env or {}))
        for i, (node_id, name, region) in enumerate(REGION_GROUP[:count])
    ]  # fmt: skip
    hub = nodes[0]
    for node in nodes:
        node.init(None if node is hub else hub)
    migrations = [
        subprocess.Popen([sys.executable, "-m", "xietong.cli", "migrate", "--no-input"], env=node.env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for node in nodes
    ]  # fmt: skip
    for node, process in zip(nodes, migrations, strict=True):
        _, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"节点 {node.node_id} 数据库迁移失败：{err.decode()[-2000:]}")
    hub.run("exchange", "register", *(str(node.var_dir / "node-entry.json") for node in nodes))
    return nodes


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="在本机启动京、津、冀三个节点（演示）")
    parser.add_argument("--base", default="var/nodes")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--demo", action="store_true", help="每个节点建演示数据（xietong demo）")
    args = parser.parse_args(argv)
    base = Path(args.base).resolve()
    fresh = not (base / "bj" / "node-entry.json").exists()
    nodes = (
        region_group(base, first_port=args.port)
        if fresh
        else [LocalNode(i, n, r, args.port + k, base / i) for k, (i, n, r) in enumerate(REGION_GROUP)]
    )
    if fresh and args.demo:
        for node in nodes:
            node.run("demo", "--no-serve", check=False)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for node in nodes:
            node.start()
            print(f"{node.name}（{node.node_id}）：{node.endpoint}/", flush=True)
        print(json.dumps({node.node_id: node.endpoint for node in nodes}, ensure_ascii=False), flush=True)
        print("按 Ctrl+C 停止全部节点。", flush=True)
        while all(node.server is not None and node.server.poll() is None for node in nodes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for node in nodes:
            node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

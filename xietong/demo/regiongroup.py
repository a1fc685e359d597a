"""``make demo``: the region group of the seeds (北京, 天津, 河北) on one machine, one command.

    python -m xietong.demo.regiongroup [--base var/nodes] [--port 8000] [--count 3] [--no-demo]

北京 (the hub) listens on ``--port``, 天津 and 河北 on the next ports. The first run sets each node up
(keys, settings with its own HRSS bureau, database, the hub's registry) and builds its region's demo
world (``xietong demo --no-serve --node ID``); later runs start what is there. Each node's server
writes to ``<base>/<id>/server.log``. A node that stops is reported (exit code, the last lines of its
log) and restarted with back-off while the others keep running; Ctrl-C stops them all.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xietong.exchange.localnodes import REGION_GROUP, LocalNode, region_group

from .accounts import DEMO_PASSWORD, NODE_OFFICES, ROLE_HINTS, accounts_for

BACKOFF_FIRST = 1.0  # seconds before the first restart of a stopped node; doubles up to BACKOFF_MAX
BACKOFF_MAX = 60.0
STABLE_SECONDS = 60.0  # a node up this long has its back-off reset
LOG_LINES = 8


def say(text: str) -> None:
    print(text, flush=True)


def log_path(node: LocalNode) -> Path:
    return node.var_dir / "server.log"


def log_tail(node: LocalNode, lines: int = LOG_LINES) -> list[str]:
    """The last lines of a node's server log (what it said before it stopped)."""
    try:
        text = log_path(node).read_bytes()[-16384:].decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def set_up(base: Path, first_port: int, count: int, *, demo: bool) -> list[LocalNode]:
    """Set up a fresh region group under ``base``: identities, each node's own HRSS bureau
    (``XIETONG_HRSS_OFFICE`` in its ``node.env``), databases, the hub's registry, and the demo world
    of each node's region (built on the three nodes at once)."""
    say(f"首次启动：在 {base} 下建立 {count} 个节点（密钥、设置、数据库、节点名册）……")
    nodes = region_group(base, first_port=first_port, count=count)
    for node in nodes:
        with (node.var_dir / "node.env").open("a", encoding="utf-8") as handle:
            handle.write(f"XIETONG_HRSS_OFFICE={NODE_OFFICES[node.node_id]}\n")
    if demo:
        say("为每个节点建立本地区的演示数据……")
        builds = [
            (node, subprocess.Popen(
                [sys.executable, "-m", "xietong.cli", "demo", "--no-serve", "--node", node.node_id],
                env=node.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            ))
            for node in nodes
        ]  # fmt: skip
        for node, process in builds:
            _, err = process.communicate()
            if process.returncode:
                raise RuntimeError(f"{node.name}演示数据建立失败：{err.decode(errors='replace')[-2000:]}")
    return nodes


def existing(base: Path, first_port: int, count: int) -> list[LocalNode]:
    """The nodes set up by an earlier run; refuses when they were set up for other ports (the hub's
    registry names each node's address)."""
    nodes = [
        LocalNode(node_id, name, region, first_port + k, base / node_id)
        for k, (node_id, name, region) in enumerate(REGION_GROUP[:count])
    ]
    for node in nodes:
        entry_file = node.var_dir / "node-entry.json"
        if not entry_file.exists():
            raise SystemExit(f"{base} 中缺少{node.name}：删除 {base} 后重新运行以重建区域组")
        endpoint = json.loads(entry_file.read_text(encoding="utf-8"))["endpoint"]
        if endpoint != node.endpoint:
            raise SystemExit(
                f"{base} 中的{node.name}建立时的地址是 {endpoint}，不是 {node.endpoint}："
                f"用原来的端口（--port）运行，或删除 {base} 后重新运行以重建区域组"
            )
    return nodes


def summary(nodes: list[LocalNode]) -> str:
    """Where each node is and which accounts to use on it."""
    lines = [f"区域组已启动（演示账号密码均为 {DEMO_PASSWORD}）："]
    for node in nodes:
        lines.append(f"  {node.name}（{node.node_id}）  {node.endpoint}/")
        for account in accounts_for(node.node_id):
            if account.role in ROLE_HINTS:
                hint = ROLE_HINTS[account.role]
                who = account.place or account.display_name
                lines.append(f"      {account.username:<18} {who}：{hint}")
        lines.append("      admin              节点管理员（跨区域交换、工作日历）；auditor 审计员")
    lines.append(
        f"  掌上工会（会员用手机号登录）：{nodes[0].endpoint}/portal/ ；演示短信（验证码）写入 "
        f"{nodes[0].var_dir.parent}/<节点>/sms/outbox.log"
    )
    lines.append(f"  日志：{nodes[0].var_dir.parent}/<节点>/server.log。按 Ctrl+C 停止全部节点。")
    return "\n".join(lines)


@dataclass
class Watch:
    """The launcher's view of one node: when it was started, and when to restart it if it stopped."""

    node: LocalNode
    started_at: float = 0.0
    backoff: float = BACKOFF_FIRST
    restart_at: float | None = None
    announced: bool = True  # whether "answers again" has been said since the last start

    def start(self) -> None:
        self.node.spawn(log_path(self.node))
        (self.node.var_dir / "server.pid").write_text(f"{self.node.server.pid}\n")  # type: ignore[union-attr]
        self.started_at = time.monotonic()
        self.restart_at = None

    def check(self, now: float) -> None:
        """Report a stopped node and restart it when its back-off has passed."""
        node = self.node
        if self.restart_at is not None:
            if now >= self.restart_at:
                say(f"正在重新启动{node.name}（{node.node_id}）……")
                self.start()
                self.announced = False
            return
        code = node.server.poll() if node.server is not None else -1
        if code is None:
            if not self.announced and node.answers():
                say(f"{node.name}（{node.node_id}）已恢复：{node.endpoint}/")
                self.announced = True
            if now - self.started_at > STABLE_SECONDS:
                self.backoff = BACKOFF_FIRST
            return
        node.stop()  # what is left of its process group (a worker still holding the port)
        reason = f"被信号 {-code} 终止" if code < 0 else f"退出码 {code}"
        say(f"{node.name}（{node.node_id}）已停止：{reason}；其他节点继续运行。日志最后几行：")
        for line in log_tail(node):
            say(f"    {line}")
        say(
            f"{self.backoff:.0f} 秒后重新启动{node.name}"
            f"（手动启动：XIETONG_VAR_DIR={node.var_dir} xietong serve --bind 127.0.0.1:{node.port}）"
        )
        self.restart_at = now + self.backoff
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="在本机启动京、津、冀区域组（北京节点为枢纽），每个节点有本地区的演示数据"
    )
    add = parser.add_argument
    add("--base", default="var/nodes", help="各节点的文件夹所在目录（默认 var/nodes）")
    add("--port", type=int, default=8000, help="北京节点的端口，天津、河北依次加一（默认 8000）")
    add("--count", type=int, choices=(1, 2, 3), default=3, help="节点数（默认 3：京、津、冀）")
    add("--no-demo", dest="demo", action="store_false", help="首次建立时不建演示数据")
    add("--demo", action="store_true", default=True, help=argparse.SUPPRESS)  # the old flag
    args = parser.parse_args(argv)
    base = Path(args.base).resolve()
    signal.signal(signal.SIGTERM, _interrupt)
    watches: list[Watch] = []
    try:
        fresh = not (base / REGION_GROUP[0][0] / "node-entry.json").exists()
        if fresh:
            nodes = set_up(base, args.port, args.count, demo=args.demo)
        else:
            nodes = existing(base, args.port, args.count)
        watches = [Watch(node) for node in nodes]
        for watch in watches:
            watch.start()
        deadline = time.monotonic() + 120
        while not all(node.answers() for node in nodes) and time.monotonic() < deadline:
            time.sleep(0.3)
        say(summary(nodes))
        say(json.dumps({node.node_id: node.endpoint for node in nodes}, ensure_ascii=False))
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            for watch in watches:
                watch.check(now)
    except KeyboardInterrupt:
        say("正在停止全部节点……")
    finally:
        for watch in watches:
            watch.node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

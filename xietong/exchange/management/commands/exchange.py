"""``xietong exchange …``: register and revoke nodes (hub), fetch the registry, deliver the outbox and
apply the messages received (``deliver --loop`` is the exchange worker that ``xietong serve``
starts: both halves on each pass; it also prunes the log once a day), verify the logs, prune them
(retention)."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from xietong.core import processes
from xietong.core.outage import DATABASE_DOWN, Backoff, close_connections
from xietong.exchange import actions, selectors
from xietong.exchange.envelope import Refused
from xietong.exchange.models import ExchangeNode

# The exchange worker prunes the message log at start and then once a day (retention, issue 13 §5).
PRUNE_EVERY_SECONDS = 24 * 3600


class Command(BaseCommand):
    _pruned_at = 0.0  # when the exchange worker last pruned the log (monotonic seconds)
    help = "跨区域交换工具：register/revoke（枢纽）、registry、deliver、verify、prune、status"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        register = sub.add_parser("register", help="在枢纽登记节点（node init 写出的 node-entry.json）")
        register.add_argument("entries", nargs="+")
        revoke = sub.add_parser("revoke", help="在枢纽吊销节点")
        revoke.add_argument("node_id")
        sub.add_parser("registry", help="从枢纽获取节点名册（非枢纽节点）")
        deliver = sub.add_parser("deliver", help="投递发件箱；--loop 持续运行（交换进程）")
        deliver.add_argument("--loop", action="store_true")
        deliver.add_argument("--interval", type=float, default=1.0)
        sub.add_parser("apply", help="处理已接收的消息（交换进程每轮都做）")
        sub.add_parser("verify", help="校验收发消息日志（哈希链、签名）")
        prune = sub.add_parser("prune", help="清除完成超过保留期的消息内容和文件（保留摘要和签名）")
        prune.add_argument(
            "--days", type=float, default=None, help="保留天数（默认 XIETONG_EXCHANGE_RETENTION_DAYS）"
        )
        sub.add_parser("status", help="各节点的待投递消息和最近错误")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        try:
            getattr(self, f"_{subcommand}")(**options)
        except (ValidationError, Refused) as exc:
            message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(message) from None

    def _register(self, entries: list[str], **_options: Any) -> None:
        for path in entries:
            entry = json.loads(Path(path).read_text(encoding="utf-8"))
            node = actions.node_register(
                node_id=entry["node_id"],
                name=entry["name"],
                endpoint=entry["endpoint"],
                public_key=entry["public_key"],
                region_code=entry.get("region_code", ""),
                acting_user=None,
            )
            self.stdout.write(f"已登记：{node}")

    def _revoke(self, node_id: str, **_options: Any) -> None:
        node = ExchangeNode.objects.filter(node_id=node_id).first()
        if node is None:
            raise CommandError(f"名册中没有节点 {node_id}")
        actions.node_revoke(node=node, acting_user=None)
        self.stdout.write(f"已吊销：{node}")

    def _registry(self, **_options: Any) -> None:
        changed = actions.registry_fetch()
        current = selectors.registry()
        self.stdout.write(
            f"节点名册第 {current.version if current else 0} 版{'（已更新）' if changed else ''}"
        )

    def _deliver(self, loop: bool, interval: float, **_options: Any) -> None:
        """One delivery pass, or (``--loop``) the exchange worker: a pass every ``interval`` seconds
        and the registry now and then. A database that goes away does not end the loop: it drops
        its connections, waits and tries again (a message whose acknowledgement was not yet stored
        goes again, and the peer answers it with the same acknowledgement: nothing applies twice)."""
        fetched_at = 0.0
        self._pruned_at = 0.0
        if loop:
            processes.set_name(processes.EXCHANGE)
        backoff = Backoff()
        while True:
            try:
                fetched_at = self._deliver_pass(loop, fetched_at)
            except DATABASE_DOWN as exc:
                if not loop:
                    raise
                delay = backoff.next()
                self.stderr.write(f"数据库不可用（{str(exc).strip()}），{delay:.0f} 秒后重试")
                close_connections()
                time.sleep(delay)
                continue
            backoff.reset()
            if not loop:
                return
            time.sleep(interval)

    def _deliver_pass(self, loop: bool, fetched_at: float) -> float:
        """Fetch the registry if it is time to (``--loop``), deliver what is due, apply what was
        received (ADR 016), expire files that never came; say what came of it; returns when the
        registry was last fetched."""
        if loop:  # the exchange worker is alive: one beat a pass (at most every few seconds)
            processes.heartbeat(processes.EXCHANGE)
        if loop and time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS:
            self._pruned_at = time.monotonic()
            pruned = actions.messages_prune()
            if pruned:
                self.stdout.write(f"已按保留期清除 {pruned} 条消息的内容和文件")
        if loop and time.monotonic() - fetched_at > settings.XIETONG_EXCHANGE_REGISTRY_SECONDS:
            fetched_at = time.monotonic()
            try:
                actions.registry_fetch()
            except (OSError, ValueError, Refused) as exc:
                self.stderr.write(f"获取节点名册失败：{exc}")
        # A pass carrying large files may take minutes: beat from a thread meanwhile.
        with processes.Ticker(processes.EXCHANGE) if loop else contextlib.nullcontext():
            report = actions.deliver_due()
        if report.delivered or report.refused or report.failed or not loop:
            self.stdout.write(
                f"已送达 {report.delivered}，对方拒绝 {report.refused}，失败 {report.failed}，"
                f"文件 {report.files}"
                + "".join(f"；{peer}：{error}" for peer, error in report.errors.items())
            )
        self._apply(quiet=loop)
        expired = actions.files_expire()
        if expired:
            self.stdout.write(f"{expired} 条消息的文件未按时到达，已拒绝")
        return fetched_at

    def _apply(self, quiet: bool = False, **_options: Any) -> None:
        report = actions.apply_due()
        if report.applied or report.rejected or report.failed or not quiet:
            self.stdout.write(
                f"已处理 {report.applied}，已拒绝 {report.rejected}，处理失败 {report.failed}"
                + "".join(f"；{peer}：{error}" for peer, error in report.errors.items())
            )

    def _verify(self, **_options: Any) -> None:
        result = selectors.check_log()
        checked, problems = result.checked, result.problems
        pruned = (
            f"其中 {result.pruned} 条的内容已按保留期清除，只校验了哈希链和签名，无法重算内容摘要"
            if result.pruned
            else ""
        )
        if not problems:
            self.stdout.write(
                self.style.SUCCESS(
                    f"消息日志完整：已校验 {checked} 条消息，哈希链和签名均有效"
                    + (f"（{pruned}）。" if pruned else "。")
                )
            )
            return
        for problem in problems:
            self.stderr.write(problem)
        where = f"共 {checked} 条，{pruned}" if pruned else f"共 {checked} 条"
        self.stderr.write(f"消息日志有 {len(problems)} 处问题（{where}）。")
        sys.exit(1)

    def _prune(self, days: float | None, **_options: Any) -> None:
        pruned = actions.messages_prune(days=days)
        retention = settings.XIETONG_EXCHANGE_RETENTION_DAYS if days is None else days
        self.stdout.write(f"已清除 {pruned} 条完成超过 {retention:g} 天的消息的内容和文件（摘要和签名保留）")

    def _status(self, **_options: Any) -> None:
        for peer in selectors.peer_states():
            if peer.node.revoked_at:
                state = "已吊销"
            elif peer.failing:
                state = f"投递失败（自 {timezone.localtime(peer.node.failing_since):%Y-%m-%d %H:%M:%S} 起）"
            else:
                state = "可达" if peer.node.last_success_at else "尚未投递"
            oldest = f"（最早 {timezone.localtime(peer.oldest):%Y-%m-%d %H:%M:%S}）" if peer.oldest else ""
            self.stdout.write(
                f"{peer.node.node_id}\t{state}\t待投递 {peer.pending}{oldest}\t对方拒绝 {peer.refused}\t"
                f"最近错误：{peer.node.last_error or '—'}"
            )

"""``xietong keys export --to DIR`` / ``keys import --from DIR``: the node's keys, kept apart from
backups (PII key and its rotations, node signing key, group comparison key, backup key).
``xietong keys rotate-pii [--resume]``: make a new PII key current and queue the re-encryption job
(operator guide 密钥轮换)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xietong.core import actions, backup


class Command(BaseCommand):
    help = (
        "密钥工具：export 把本节点的全部密钥导出到指定目录（备份文件中没有密钥）；import 导回；"
        "rotate-pii 启用新的个人信息加密密钥并在后台重新加密已有数据"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        export = sub.add_parser("export", help="导出全部密钥（目录须为空且不在节点数据目录内）")
        export.add_argument("--to", dest="folder", required=True, type=Path)
        load = sub.add_parser("import", help="导入 export 导出的密钥（不覆盖本节点已有的不同密钥）")
        load.add_argument("--from", dest="folder", required=True, type=Path)
        rotate = sub.add_parser("rotate-pii", help="启用新的个人信息加密密钥，后台任务重新加密、重建索引")
        rotate.add_argument("--resume", action="store_true", help="继续未完成的轮换（任务进程中断后）")

    def handle(self, *args: Any, subcommand: str, folder: Path | None = None, **options: Any) -> None:
        if subcommand == "rotate-pii":
            self._rotate(resume=options["resume"])
            return
        assert folder is not None
        try:
            if subcommand == "export":
                lines = backup.keys_export(target=folder)
            else:
                lines = backup.keys_import(source=folder)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        for line in lines:
            self.stdout.write(line)

    def _rotate(self, *, resume: bool) -> None:
        """Start (or resume) a PII key rotation; the task worker does the re-encryption."""
        if resume:
            job = actions.pii_key_rotation_resume(acting_user=None)
            if job is None:
                self.stdout.write("没有未完成的密钥轮换")
                return
            self.stdout.write(f"已重新排队密钥轮换（{job.key_id}），将从已处理的 {job.done_rows} 行之后继续")
            return
        try:
            job = actions.pii_key_rotate(acting_user=None)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(
            f"新密钥 {job.key_id} 已启用：新数据立即用它加密；已有数据由任务进程在后台重新加密"
            f"（进度见运维页面）。请立即导出密钥备份：xietong keys export --to 目录"
        )

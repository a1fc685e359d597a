"""``xietong restore --from FILE``: restore an archive of ``xietong backup`` into an empty node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xietong.core import backup


class Command(BaseCommand):
    help = (
        "把 xietong backup 的备份恢复到空节点（先运行 xietong keys import 导入密钥）；"
        "先解密并逐项校验，密钥不对或文件损坏时不改动任何东西"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, type=Path, help="备份文件")
        parser.add_argument(
            "--key-file", type=Path, default=None, help="备份密钥文件（省略：密钥目录中的 backup.key）"
        )

    def handle(self, *args: Any, source: Path, key_file: Path | None, **options: Any) -> None:
        if not source.is_file():
            raise CommandError(f"找不到备份文件 {source}")
        try:
            key, _path, _created = backup.load_backup_key(key_file, create=False)
            summary = backup.restore(source=source, key=key)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        for line in summary.lines:
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS("恢复完成：请运行 xietong audit verify 和 xietong exchange verify 核对。")
        )

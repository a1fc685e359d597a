"""``xietong backup --to FILE``: one consistent, encrypted archive of this node (keys kept apart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xietong.core import backup


class Command(BaseCommand):
    help = (
        "备份本节点：数据库、上传文件、交换文件和节点设置写入一个加密备份文件；"
        "密钥不在其中，请用 xietong keys export 另行导出"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", required=True, type=Path, help="备份文件，如 /srv/backup/bj-2026-01-01.xtbackup"
        )
        parser.add_argument(
            "--key-file",
            type=Path,
            default=None,
            help="备份密钥文件（省略：密钥目录中的 backup.key，首次使用时生成）",
        )

    def handle(self, *args: Any, to: Path, key_file: Path | None, **options: Any) -> None:
        try:
            key, key_path, created = backup.load_backup_key(key_file, create=True)
            summary = backup.backup_create(target=to, key=key)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        if created:
            self.stdout.write(
                f"已生成备份密钥 {key_path}：恢复时需要它。"
                "请立即运行 xietong keys export --to 离线介质上的目录，并与备份文件分开保管。"
            )
        for line in summary.lines:
            self.stdout.write(line)

"""``xietong keys export --to DIR`` / ``keys import --from DIR``: the node's keys, kept apart from
backups (PII key and its rotations, node signing key, group comparison key, backup key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xietong.core import backup


class Command(BaseCommand):
    help = "密钥工具：export 把本节点的全部密钥导出到指定目录（备份文件中没有密钥）；import 导回"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        export = sub.add_parser("export", help="导出全部密钥（目录须为空且不在节点数据目录内）")
        export.add_argument("--to", dest="folder", required=True, type=Path)
        load = sub.add_parser("import", help="导入 export 导出的密钥（不覆盖本节点已有的不同密钥）")
        load.add_argument("--from", dest="folder", required=True, type=Path)

    def handle(self, *args: Any, subcommand: str, folder: Path, **options: Any) -> None:
        try:
            if subcommand == "export":
                lines = backup.keys_export(target=folder)
            else:
                lines = backup.keys_import(source=folder)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        for line in lines:
            self.stdout.write(line)

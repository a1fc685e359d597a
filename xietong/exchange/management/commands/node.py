"""``xietong node init``: give this node its identity and keys, and write its registry entry.
``xietong node rotate-key``: make a new signing key current and have the hub register it (ADR 019)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xietong.core import pii
from xietong.lib import crypto


class Command(BaseCommand):
    help = (
        "节点工具：init 生成本节点的签名密钥和设置（var/node.env），并写出供枢纽登记的名册条目；"
        "rotate-key 更换本节点的签名密钥（经枢纽登记并发布到区域组）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["init", "rotate-key"])
        parser.add_argument("--id", default="", help="节点编号，如 bj、tj、hb（init 必填）")
        parser.add_argument("--name", default="", help="节点名称，如 天津节点（init 必填）")
        parser.add_argument(
            "--endpoint", default="", help="其他节点访问本节点的地址，如 http://127.0.0.1:8002（init 必填）"
        )
        parser.add_argument("--region", default="", help="行政区划代码，如 120000")
        parser.add_argument("--hub-id", default="", help="枢纽节点编号（省略：本节点即枢纽）")
        parser.add_argument("--hub-endpoint", default="")
        parser.add_argument("--hub-public-key", default="", help="枢纽节点的签名公钥（或 --hub-entry 文件）")
        parser.add_argument("--hub-entry", default="", help="枢纽节点 node init 写出的 node-entry.json")
        parser.add_argument(
            "--group-key-file",
            default="",
            help="区域组比对密钥文件（资格认证用，组内各节点相同；枢纽省略时自动生成）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "rotate-key":
            self._rotate_key()
            return
        missing = [f"--{name}" for name in ("id", "name", "endpoint") if not options[name]]
        if missing:
            raise CommandError(f"node init 需要参数：{'、'.join(missing)}")
        hub_id, hub_endpoint, hub_key = options["hub_id"], options["hub_endpoint"], options["hub_public_key"]
        if options["hub_entry"]:
            entry = json.loads(Path(options["hub_entry"]).read_text(encoding="utf-8"))
            hub_id, hub_endpoint, hub_key = entry["node_id"], entry["endpoint"], entry["public_key"]
        hub_id = hub_id or options["id"]
        if hub_id != options["id"] and not (hub_endpoint and hub_key):
            raise CommandError(
                "非枢纽节点需要枢纽的地址和公钥：--hub-entry 文件，或 --hub-endpoint 与 --hub-public-key"
            )
        if not options["endpoint"].startswith(("http://", "https://")):
            raise CommandError("--endpoint 应以 http:// 或 https:// 开头")
        var = settings.VAR_DIR
        var.mkdir(parents=True, exist_ok=True)
        public_key = pii.node_public_key()  # creates var/keys/node-signing.key when missing
        values = {
            "XIETONG_NODE_ID": options["id"],
            "XIETONG_NODE_NAME": options["name"],
            "XIETONG_NODE_ENDPOINT": options["endpoint"].rstrip("/"),
            "XIETONG_REGION_CODE": options["region"],
            "XIETONG_HUB_NODE_ID": hub_id,
            "XIETONG_HUB_ENDPOINT": hub_endpoint.rstrip("/"),
            "XIETONG_HUB_PUBLIC_KEY": hub_key if hub_id != options["id"] else public_key,
        }
        (var / "node.env").write_text(
            "".join(f"{key}={value}\n" for key, value in values.items()), encoding="utf-8"
        )
        key_note = self._group_key(options["group_key_file"], is_hub=hub_id == options["id"])
        entry = {
            "node_id": options["id"],
            "name": options["name"],
            "region_code": options["region"],
            "endpoint": values["XIETONG_NODE_ENDPOINT"],
            "public_key": public_key,
        }
        crypto.canonical_json(entry)  # only JSON types
        (var / "node-entry.json").write_text(
            json.dumps(entry, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        self.stdout.write(
            f"节点 {options['id']} 已初始化：设置 {var / 'node.env'}，名册条目 {var / 'node-entry.json'}"
        )
        self.stdout.write(f"签名公钥：{public_key}")
        self.stdout.write(key_note)
        if hub_id == options["id"]:
            self.stdout.write(
                "本节点是枢纽：迁移数据库后运行 xietong exchange register <各节点的 node-entry.json>"
            )
        else:
            self.stdout.write(
                f"请在枢纽节点 {hub_id} 上运行：xietong exchange register {var / 'node-entry.json'}"
            )

    def _rotate_key(self) -> None:
        """Switch to a new signing key; the hub learns it from a request signed with the old one."""
        from xietong.exchange import actions, selectors

        try:
            key = actions.node_key_rotate(acting_user=None)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(
            f"新签名公钥：{key.public_key}（自 {key.valid_from:%Y-%m-%d %H:%M:%S %Z} 起用于签名）"
        )
        if selectors.is_hub():
            self.stdout.write(
                "本节点是枢纽：已用新密钥签发节点名册（同时附旧密钥的交接签名），各节点下次获取名册时改用新公钥；"
                "请把各节点的 XIETONG_HUB_PUBLIC_KEY 改为新公钥"
            )
        else:
            self.stdout.write("已向枢纽发出换钥请求（用旧密钥签名），交换进程投递后枢纽登记新公钥并发布名册")
        self.stdout.write(
            f"旧密钥保留在 {settings.KEY_DIR}：请立即导出密钥备份：xietong keys export --to 目录"
        )

    def _group_key(self, source: str, *, is_hub: bool) -> str:
        """Install the region group's comparison key (ADR 009) as a key file; the hub makes one."""
        target = Path(settings.XIETONG_GROUP_KEY_FILE)
        if source:
            try:
                text = Path(source).read_text(encoding="utf-8").strip()
                crypto.load_key(text)
            except (OSError, ValueError) as exc:
                raise CommandError(f"区域组比对密钥文件无法读取：{exc}") from exc
        elif target.exists():
            return f"区域组比对密钥：{target}（已有）"
        elif is_hub:
            text = crypto.generate_key()
        else:
            return "尚无区域组比对密钥：资格认证前请用 --group-key-file 装入枢纽的 keys/group-match.key"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")
        pii.reset_caches()
        return f"区域组比对密钥：{target}（请通过安全渠道交给组内其他节点，勿放入节点名册）"

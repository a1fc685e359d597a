"""Whether this machine's node is set up to act in the region group, read without Django and without
creating anything: settings would create the data folder and SQLite the database file on first use,
so a command that needs the node's identity asks here first (``xietong/cli.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

INIT_HINT = (
    "xietong node init --id 节点编号 --name 节点名称 --endpoint 本节点地址"
    "（如 --id tj --name 天津节点 --endpoint http://127.0.0.1:8001；"
    "非枢纽节点加 --hub-entry 枢纽的 node-entry.json）"
)


def var_dir(environ: Mapping[str, str], default: Path) -> Path:
    """The node's data folder, as the settings read it."""
    return Path(environ.get("XIETONG_VAR_DIR", default))


def node_setup_problem(environ: Mapping[str, str], default_var_dir: Path) -> str | None:
    """What is missing before a command may act as this node (a Chinese sentence with the command that
    fixes it), or None when the node has its identity and its database."""
    folder = var_dir(environ, default_var_dir)
    node_env = folder / "node.env"
    saved = {k: v or "" for k, v in dotenv_values(node_env).items()} if node_env.is_file() else {}
    if not environ.get("XIETONG_NODE_ID") and not saved.get("XIETONG_NODE_ID"):
        return (
            f"本节点尚未初始化：{node_env} 不存在，也未设置 XIETONG_NODE_ID。\n"
            f"请先初始化节点：XIETONG_VAR_DIR={folder} {INIT_HINT}\n"
            "然后运行 xietong migrate 建立数据库（枢纽节点再运行 xietong exchange register 登记各节点）。"
        )
    database = environ.get("DATABASE_URL") or saved.get("DATABASE_URL")
    if not database and not (folder / "xietong.sqlite3").is_file():
        return (
            f"本节点已初始化，但数据库尚未建立（{folder / 'xietong.sqlite3'} 不存在）。\n"
            f"请先运行：XIETONG_VAR_DIR={folder} xietong migrate"
        )
    return None

"""A command that needs the node's identity, run on a node that is not set up, says so in Chinese and
how to set it up, exits non-zero and creates nothing (issue 17, defect 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def xietong(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XIETONG_", "DATABASE_URL", "DJANGO_"))}
    env["XIETONG_VAR_DIR"] = str(var)
    return subprocess.run(
        [sys.executable, "-m", "xietong.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("args", [("exchange", "verify"), ("exchange", "status"), ("exchange", "deliver")])
def test_an_uninitialised_node_is_told_how_to_initialise(tmp_path: Path, args: tuple[str, ...]) -> None:
    var = tmp_path / "var"
    result = xietong(var, *args)
    assert result.returncode != 0
    assert "本节点尚未初始化" in result.stderr and "xietong node init" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not var.exists()  # no folder, no database file


def test_an_initialised_node_without_database_is_told_to_migrate(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    (var / "node.env").write_text("XIETONG_NODE_ID=tj\nXIETONG_NODE_NAME=天津节点\n", encoding="utf-8")
    result = xietong(var, "exchange", "verify")
    assert result.returncode != 0
    assert "数据库尚未建立" in result.stderr and "xietong migrate" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in var.iterdir()) == ["node.env"]

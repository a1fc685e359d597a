"""The databases of local nodes on PostgreSQL (issue 13 §6): when the suite runs on PostgreSQL each
node gets a database of its own on the same server, read by the tests as SQLite would be, and dropped
at the end. Skipped on SQLite, where each node has its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from .. import localnodes
from ..localnodes import LocalNode


def test_a_node_database_is_created_read_and_dropped(tmp_path: Path) -> None:
    server = localnodes.nodes_database_server()
    if not server:
        pytest.skip("the suite runs on SQLite: nodes use their SQLite files")
    before = localnodes.node_databases(server)
    url = localnodes.create_database(server, "bj")
    node = LocalNode("bj", "北京节点", "110000", 0, tmp_path / "bj", database_url=url)
    assert node.env()["DATABASE_URL"] == url and url.rsplit("/", 1)[1].startswith("xtnode_")
    # "?" placeholders as on SQLite; JSON as text, as SQLite gives it.
    assert node.query("SELECT ?::int, '{\"a\": 1}'::jsonb", (7,)) == [(7, '{"a": 1}')]
    assert localnodes.drop_databases(server, keep=before) == 1
    assert localnodes.node_databases(server) == before


def test_nodes_use_sqlite_without_a_server(tmp_path: Path) -> None:
    node = LocalNode("bj", "北京节点", "110000", 0, tmp_path / "bj")
    assert "DATABASE_URL" not in node.env()

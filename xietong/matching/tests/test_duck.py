"""The engine's DuckDB connections are bounded in memory (``XIETONG_MATCH_MEMORY``, ADR 020)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pytest

from xietong.matching import duck
from xietong.matching.errors import RosterError


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def _as_duckdb_says(setting: str) -> str:
    reference = duckdb.connect()
    reference.execute(f"SET memory_limit = '{setting}'")
    return _limit(reference)


def test_a_connection_takes_the_configured_limit_and_two_gigabytes_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XIETONG_MATCH_MEMORY", raising=False)
    assert _limit(duck.connect()) == _as_duckdb_says("2GB")
    monkeypatch.setenv("XIETONG_MATCH_MEMORY", "512MB")
    assert _limit(duck.connect()) == _as_duckdb_says("512MB")
    monkeypatch.setenv("XIETONG_MATCH_MEMORY", "0")  # DuckDB's own default
    assert _limit(duck.connect()) == _limit(duckdb.connect())


def test_a_limit_duckdb_cannot_read_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIETONG_MATCH_MEMORY", "lots")
    with pytest.raises(RosterError, match="内存上限设置无效"):
        duck.connect()


def test_work_above_the_limit_spills_into_a_folder_of_its_own_removed_on_close(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("XIETONG_MATCH_MEMORY", "64MB")
    con = duck.connect()
    con.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(5000000)")
    assert con.execute("SELECT count(DISTINCT h) FROM t").fetchall()[0][0] == 5_000_000
    spilled = [path for path in tmp_path.iterdir() if path.name.startswith("xietong-duckdb-")]
    assert len(spilled) == 1 and any(spilled[0].iterdir())
    con.close()
    assert not spilled[0].exists()

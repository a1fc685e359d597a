"""The DuckDB connections the engine and the nodes' imports work in, bounded in memory.

DuckDB's own default takes up to 80 % of the machine's memory; on a node that shares its machine
with the web server and PostgreSQL that is too much, so every connection is opened with the limit
``XIETONG_MATCH_MEMORY`` (default ``2GB``; ``0`` keeps DuckDB's default) and a spill folder of its
own under the temporary directory, which DuckDB creates when it first spills and removes on close.
Above the limit DuckDB writes to that folder instead of growing: a million-row comparison then
peaks near the limit and takes a little longer (``docs/operator-guide.md`` §11 has the figures).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_MEMORY = "2GB"
_count = itertools.count()


def memory_limit() -> str:
    """The configured limit, as DuckDB reads it ('' for DuckDB's own default)."""
    value = os.environ.get("XIETONG_MATCH_MEMORY", DEFAULT_MEMORY).strip()
    return "" if value in ("", "0") else value


def connect() -> Any:
    """A new in-memory DuckDB connection with the memory limit and a spill folder of its own."""
    import duckdb

    spill = os.path.join(tempfile.gettempdir(), f"xietong-duckdb-{os.getpid()}-{next(_count)}")
    config: dict[str, str | bool | int | float | list[str]] = {"temp_directory": spill}
    limit = memory_limit()
    if limit:
        config["memory_limit"] = limit
    try:
        return duckdb.connect(config=config)
    except duckdb.Error as exc:
        from .errors import RosterError

        raise RosterError(Path("XIETONG_MATCH_MEMORY"), f"内存上限设置无效（如 2GB、512MB）：{exc}") from None

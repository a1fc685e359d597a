"""Rosters for the comparison engine: ``load`` reads one into DuckDB under the standard column names.

The file is read by ``reader.read``, the one reader of roster files (member rolls and benefit
rosters read through it too); ``load`` maps its headers (``columns.resolve_columns``), registers the
Arrow table in DuckDB and checks the record ids. Every problem is a ``RosterError`` naming the file,
the line and what is wrong; nothing is written until both rosters have been read.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..columns import STANDARD_COLUMNS, resolve_columns
from ..errors import RosterError
from .reader import FORMATS, HeaderMap, RosterTable, read

__all__ = ["FORMATS", "HeaderMap", "RosterError", "RosterTable", "load", "make_workdir", "read"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load(con: Any, path: Path, table: str, mapping: dict[str, str], workdir: Path) -> int:
    """Read one roster into DuckDB table ``table`` with the standard columns (all text) plus ``line``.

    Returns the number of rows. Raises ``RosterError`` for a missing, empty, header-less,
    unmappable, mixed-encoding or truncated file (see ``reader.read``), or for a missing or
    duplicate record id. ``workdir`` is the run's scratch folder (no longer needed for reading).
    """
    rows = read(path)
    columns = resolve_columns(path, rows.headers, mapping)
    index = {header: str(position) for position, header in reversed(list(enumerate(rows.headers)))}
    select = ", ".join(
        f"NULLIF(trim({_quote(index[columns[c]])}), '') AS {c}" if c in columns else f"NULL::VARCHAR AS {c}"
        for c in STANDARD_COLUMNS
    )
    view = f"{table}_file"
    con.register(view, _with_lines(rows))
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {select}, line FROM {view}")
    finally:
        con.unregister(view)
    count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    missing = con.execute(f"SELECT min(line) FROM {table} WHERE record_id IS NULL").fetchall()[0][0]
    if missing is not None:
        raise RosterError(path, "记录号为空", line=int(missing))
    duplicate = con.execute(
        f"SELECT record_id, line FROM (SELECT record_id, line, row_number() OVER (PARTITION BY record_id ORDER BY line) AS n "
        f"FROM {table}) WHERE n = 2 ORDER BY line LIMIT 1"
    ).fetchall()
    if duplicate:
        raise RosterError(path, f"记录号“{duplicate[0][0]}”重复", line=int(duplicate[0][1]))
    return int(count)


def _with_lines(rows: RosterTable) -> Any:
    """The file's Arrow table with each row's line beside its cells."""
    import pyarrow as pa

    return rows.table.append_column("line", pa.array(rows.lines, pa.int64()))


def make_workdir() -> tempfile.TemporaryDirectory[str]:
    """A scratch folder for a run (the backends' spill files); removed when the run ends."""
    return tempfile.TemporaryDirectory(prefix="xietong-match-")

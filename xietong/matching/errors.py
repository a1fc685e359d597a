"""Errors of the comparison engine: each names the file, the line where known, and the problem in Chinese."""

from __future__ import annotations

from pathlib import Path


class RosterError(Exception):
    """A roster that cannot be read or compared. ``str()`` is a Chinese sentence for the clerk."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path.name} 第{line}行" if line is not None else self.path.name
        super().__init__(f"{where}：{problem}")

"""Excel export shared by every list: one sheet, Chinese headers, no formula injection."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (CSV/formula injection): prefix a quote.
    Control characters an .xlsx cannot hold (stored before the input validator, or received from
    another node) become U+FFFD, so an export never fails on what is stored."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def write_workbook(
    target: str | Path | BinaryIO,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Sheet1",
    progress: Callable[[int], None] | None = None,
    every: int = 5000,
) -> int:
    """Write an .xlsx of ``rows`` to ``target`` (a path or a binary file) in openpyxl's write-only
    mode: rows go to a temporary file as they come, so memory stays constant however many there are.
    ``progress(written)`` is called every ``every`` rows. Returns the number of rows written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(header) * 2 + 4)
    sheet.append(list(headers))
    written = 0
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
        written += 1
        if progress is not None and written % every == 0:
            progress(written)
    book.save(target)
    return written


def workbook_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Sheet1") -> bytes:
    """Build an .xlsx file in memory (small exports; large ones go through ``write_workbook``)."""
    buffer = io.BytesIO()
    write_workbook(buffer, headers, rows, title=title)
    return buffer.getvalue()


def xlsx_response(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, filename: str) -> HttpResponse:
    """An HTTP download of the rows as ``filename`` (a Chinese name is encoded per RFC 6266)."""
    response = HttpResponse(
        workbook_bytes(headers, rows, title=filename.rsplit(".", 1)[0]), content_type=XLSX_MIME
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response

"""Excel export shared by every list: one sheet, Chinese headers, no formula injection."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any
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


def workbook_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Sheet1") -> bytes:
    """Build an .xlsx file (write-only mode, so large exports stay small in memory)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(header) * 2 + 4)
    sheet.append(list(headers))
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, filename: str) -> HttpResponse:
    """An HTTP download of the rows as ``filename`` (a Chinese name is encoded per RFC 6266)."""
    response = HttpResponse(
        workbook_bytes(headers, rows, title=filename.rsplit(".", 1)[0]), content_type=XLSX_MIME
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response

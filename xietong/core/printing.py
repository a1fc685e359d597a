"""PDF documents in Chinese (fpdf2 with Debian's Noto Sans CJK): the one place that sets up the fonts,
shared by the card print sheets and the letters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FONT_PATHS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
)
SIMPLIFIED_CHINESE = 2  # index of "Noto Sans CJK SC" in the collection


def cjk_pdf(title: str) -> Any:
    """An A4 ``FPDF`` (millimetres) with the font ``noto`` (regular and bold) registered."""
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_title(title)
    pdf.add_font("noto", fname=str(FONT_PATHS[0]), collection_font_number=SIMPLIFIED_CHINESE)
    pdf.add_font("noto", style="B", fname=str(FONT_PATHS[1]), collection_font_number=SIMPLIFIED_CHINESE)
    return pdf

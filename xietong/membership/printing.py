"""Print sheets of physical member cards: A4 pages of ID-1 sized cards (85.6 × 54 mm), each with the
union, the member's name, the card number and a QR code of the card's signed credential, set in
Noto Sans CJK (Debian's fonts-noto-cjk)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xietong.core.printing import cjk_pdf

CARD_W, CARD_H = 85.6, 54.0
COLUMNS, ROWS = 2, 5
MARGIN_X, MARGIN_Y, GAP = 14.0, 12.0, 4.0


@dataclass(frozen=True)
class PrintedCard:
    """What one printed card shows."""

    union: str
    name: str
    number: str
    credential: str


def card_sheet(cards: Iterable[PrintedCard], *, title: str) -> bytes:
    """The PDF of a print batch, ten cards to an A4 page, with cutting outlines."""
    import segno

    pdf = cjk_pdf(title)
    pdf.set_auto_page_break(False)
    for index, card in enumerate(cards):
        slot = index % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
        x = MARGIN_X + (slot % COLUMNS) * (CARD_W + GAP)
        y = MARGIN_Y + (slot // COLUMNS) * (CARD_H + GAP)
        pdf.set_draw_color(180, 180, 180)
        pdf.rect(x, y, CARD_W, CARD_H)
        pdf.set_fill_color(200, 30, 45)
        pdf.rect(x, y, CARD_W, 9, style="F")
        pdf.set_text_color(255, 255, 255)
        pdf.set_font("noto", style="B", size=10)
        pdf.set_xy(x + 3, y + 1.5)
        pdf.cell(CARD_W - 6, 6, "工会会员互助服务卡")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("noto", size=8)
        pdf.set_xy(x + 3, y + 12)
        pdf.multi_cell(CARD_W - 40, 4, card.union)
        pdf.set_font("noto", style="B", size=13)
        pdf.set_xy(x + 3, y + 26)
        pdf.cell(CARD_W - 40, 7, card.name)
        pdf.set_font("noto", size=9)
        pdf.set_xy(x + 3, y + 44)
        pdf.cell(CARD_W - 6, 5, " ".join(card.number[i : i + 4] for i in range(0, len(card.number), 4)))
        qr = segno.make(card.credential, error="m")
        size = 32.0
        module = size / len(qr.matrix)
        qx, qy = x + CARD_W - size - 3, y + 11
        for r, row in enumerate(qr.matrix):
            for c, dark in enumerate(row):
                if dark:
                    pdf.rect(qx + c * module, qy + r * module, module, module, style="F")
    return bytes(pdf.output())

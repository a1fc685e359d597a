"""The letter to a benefit recipient whose payment is suspended after a confirmed certification
finding (待遇暂停发放告知书): what was found, from which region, and how to be certified again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xietong.core.printing import cjk_pdf


@dataclass(frozen=True)
class SuspensionLetter:
    """What one letter says."""

    office: str
    name: str
    id_masked: str
    benefit: str
    partner: str  # the partner region's HRSS authority, never a node
    reason: str
    suspended_on: dt.date
    letter_no: str


def letter_text(letter: SuspensionLetter) -> str:
    """The letter's body. ``partner`` is the partner region's HRSS authority (e.g.
    河北省人力资源和社会保障厅, ``selectors.hrss_authority``): a citizen never reads a node's name."""
    masked = f"（身份证号码 {letter.id_masked}）" if letter.id_masked else ""
    return (
        f"{letter.name}{masked}：\n\n"
        f"　　根据跨地区社会保险待遇领取资格认证合作机制，经与{letter.partner}信息比对，"
        f"发现您领取的{letter.benefit}存在以下情况：{letter.reason}。\n\n"
        f"　　经核实，自{letter.suspended_on:%Y年%m月%d日}起暂停发放您的{letter.benefit}。"
        "如您对上述情况有异议，或本人仍符合领取条件，请持本人有效身份证件到我单位经办窗口"
        "（或通过人社部门认可的其他方式）办理待遇领取资格认证；经认证符合条件的，"
        "自暂停之月起补发暂停期间的待遇。\n\n"
        "　　特此告知。"
    )


def suspension_letter(letter: SuspensionLetter) -> bytes:
    """One A4 page, set in Noto Sans CJK."""
    pdf = cjk_pdf("待遇暂停发放告知书")
    pdf.add_page()
    pdf.set_margins(25, 25, 25)
    pdf.set_xy(25, 30)
    pdf.set_font("noto", style="B", size=18)
    pdf.cell(0, 12, "待遇暂停发放告知书", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", size=10)
    pdf.cell(0, 8, f"编号：{letter.letter_no}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("noto", size=12)
    body = letter_text(letter)
    pdf.multi_cell(0, 8, body)
    pdf.ln(16)
    pdf.cell(0, 8, letter.office, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"{letter.suspended_on:%Y年%m月%d日}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())

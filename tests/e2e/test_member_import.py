"""An officer imports a 10,000-row roll with a few bad rows in a real browser, reads the report,
then imports the good rows with a card for each new member."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from xietong.core.tests.factories import valid_id_number
from xietong.demo.world import DEMO_PASSWORD
from xietong.membership.models import Member, MemberCard

from .conftest import login

pytestmark = [pytest.mark.e2e]


def _roll(path: Path, rows: int) -> list[int]:
    """A roll of ``rows`` people with a bad check digit on every 2,500th row; returns the bad lines."""
    lines, bad = ["姓名,身份证号码,手机号码"], []
    for i in range(rows):
        number = valid_id_number(
            region="110105", birth=date(1960 + i % 40, 1 + i % 12, 1 + i % 28), sequence=i % 1000
        )
        if i % 2500 == 7:
            number = number[:17] + ("0" if number[17] != "0" else "1")
            bad.append(i + 2)
        lines.append(f"职工{i},{number},139{i:08d}")
    path.write_text("\n".join(lines), encoding="utf-8")
    return bad


def test_import_with_errors_then_skip_them(page: Any, demo_world: dict[str, int], tmp_path: Path) -> None:
    roll = tmp_path / "政法卫生文化工会会员.csv"
    bad_lines = _roll(roll, 10_000)
    before = Member.objects.count()
    login(page, "zfws_officer", DEMO_PASSWORD)
    page.goto("/membership/members/")
    page.get_by_role("link", name="批量导入").click()
    page.get_by_label("导入到工会").select_option(label="北京市政法卫生文化工会")
    page.get_by_label("名册文件（.xlsx 或 .csv，UTF-8 或 GBK）").set_input_files(str(roll))
    page.get_by_role("button", name="上传并导入").click()
    assert "未导入任何数据" in page.get_by_test_id("job-message").inner_text()
    with page.expect_download() as download:
        page.get_by_test_id("job-result").click()
    report = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    rows = list(report.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == bad_lines
    assert all("校验码" in row[-1] for row in rows[1:])
    assert Member.objects.count() == before

    page.get_by_role("link", name="再导入一个文件").click()
    page.get_by_label("导入到工会").select_option(label="北京市政法卫生文化工会")
    page.get_by_label("名册文件（.xlsx 或 .csv，UTF-8 或 GBK）").set_input_files(str(roll))
    page.get_by_label("跳过有误的行，只导入无误的行").check()
    page.get_by_label("为新增会员发放互助服务卡").check()
    page.get_by_role("button", name="上传并导入").click()
    assert f"新增{10_000 - len(bad_lines)}名会员" in page.get_by_test_id("job-message").inner_text()
    assert Member.objects.count() == before + 10_000 - len(bad_lines)

    # Each imported member has a card (issue 12 §3): the member's page shows it.
    imported = Member.objects.filter(person__name="职工9999").get()
    card = MemberCard.objects.get(member=imported, status="active")
    page.goto(f"/membership/members/{imported.pk}/")
    assert page.get_by_test_id("card-status").first.inner_text() == "正常"
    assert card.number in page.get_by_test_id("card-row").first.inner_text()

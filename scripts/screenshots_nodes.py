"""Take the user guide's screenshots of the exchange from running nodes (``make demo`` first):
an inspector lists an employer on the Beijing node, the listing is found on the Tianjin node, the
operator page, a social-insurance transfer at the Beijing counter, and an eligibility certification
run of the Beijing pension roster with Tianjin and Hebei.

Usage: .venv/bin/python scripts/screenshots_nodes.py [BJ_URL TJ_URL]   (default ports 8000, 8001)
Writes PNG files to docs/img/.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

BJ = sys.argv[1] if len(sys.argv) > 2 else "http://127.0.0.1:8000"
TJ = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8001"
OUT = Path(__file__).resolve().parent.parent / "docs" / "img"
PASSWORD = "Xietong-demo-2026"


def login(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        size = {"width": 1280, "height": 860}
        bj = browser.new_page(base_url=BJ, viewport=size, locale="zh-CN")
        login(bj, "inspector_bj")
        bj.goto("/exchange/arrears/new/")
        bj.get_by_label("作出决定的劳动保障监察机构").select_option(index=1)
        bj.get_by_label("统一社会信用代码").fill("91110108MA01ABCD1E")
        bj.get_by_label("用人单位名称").fill("北京某餐饮管理有限公司")
        bj.get_by_label("拖欠工资金额（元）").fill("52000")
        bj.get_by_label("涉及劳动者人数").fill("9")
        bj.get_by_label("决定书文号").fill("京人社监〔2026〕3号")
        bj.screenshot(path=OUT / "arrears-new.png")
        bj.get_by_role("button", name="保存").click()
        time.sleep(3)  # the exchange worker delivers within a second or two
        tj = browser.new_page(base_url=TJ, viewport=size, locale="zh-CN")
        login(tj, "admin")
        tj.goto("/exchange/arrears/?check=1&credit_code=91110108MA01ABCD1E")
        tj.screenshot(path=OUT / "arrears-check.png")
        admin = browser.new_page(base_url=BJ, viewport=size, locale="zh-CN")
        login(admin, "admin")
        admin.goto("/exchange/")
        admin.screenshot(path=OUT / "exchange-operations.png")
        hrss = browser.new_page(base_url=BJ, viewport=size, locale="zh-CN")
        login(hrss, "hrss_bj")
        hrss.goto("/exchange/transfers/new/")
        office = hrss.locator("select[name=organization]")
        if office.count():  # offered only when the account acts for more than one office
            office.select_option(index=1)
        hrss.get_by_label("姓名").fill("张三")
        hrss.get_by_label("身份证号码").fill("120101198001011234")
        hrss.locator("select[name=sending_node]").select_option("tj")
        hrss.get_by_role("button", name="保存").click()
        hrss.screenshot(path=OUT / "transfer-detail.png", full_page=True)
        time.sleep(3)
        sending = browser.new_page(base_url=TJ, viewport=size, locale="zh-CN")
        login(sending, "hrss_tj")  # each demo node has its own region's accounts
        sending.goto("/exchange/transfers/")
        sending.get_by_role("link", name="张三").first.click()
        sending.get_by_label("缴费记录").fill("2010-01,2019-12,5000\n2020-01,2026-10,6800")
        sending.get_by_label("个人账户储存额（元）").fill("68500")
        sending.screenshot(path=OUT / "transfer-answer.png", full_page=True)
        certification_screens(hrss)
        browser.close()


def certification_screens(hrss: Any) -> None:
    """Rosters, a run with two partners, its findings, one finding, the figures."""
    hrss.goto("/exchange/rosters/")
    hrss.screenshot(path=OUT / "certification-rosters.png")
    hrss.goto("/exchange/certification/new/")
    hrss.get_by_label("天津节点").check()
    hrss.get_by_label("河北节点").check()
    hrss.screenshot(path=OUT / "certification-new.png")
    hrss.get_by_role("button", name="保存").click()
    hrss.get_by_test_id("job-status").get_by_text("比对完成").wait_for(timeout=120_000)
    hrss.reload()
    hrss.screenshot(path=OUT / "certification-run.png", full_page=True)
    hrss.goto(hrss.url + "?kind=fraud_suspected")
    hrss.get_by_test_id("findings").get_by_role("link").first.click()
    hrss.get_by_label("核实说明").fill("社区和家属证实已去世")
    hrss.screenshot(path=OUT / "certification-finding.png")
    hrss.goto("/exchange/certification/figures/")
    hrss.wait_for_timeout(1500)
    hrss.screenshot(path=OUT / "certification-figures.png")


if __name__ == "__main__":
    main()

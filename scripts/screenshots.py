"""Take the user guide's screenshots from a running demo node (``make demo`` first).

Usage: .venv/bin/python scripts/screenshots.py [BASE_URL]   (default http://127.0.0.1:8000)
Writes PNG files to docs/img/.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "img"
PASSWORD = "Xietong-demo-2026"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(base_url=BASE, viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.goto("/accounts/login/")
        page.screenshot(path=OUT / "login.png")
        page.get_by_label("账号").fill("bj_officer")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/")
        page.screenshot(path=OUT / "home.png")
        page.goto("/orgs/")
        page.screenshot(path=OUT / "org-tree.png", full_page=False)
        page.goto("/orgs/?q=政法")
        page.screenshot(path=OUT / "org-search.png")
        page.get_by_role("link", name="北京市政法卫生文化工会").first.click()
        page.screenshot(path=OUT / "org-detail.png")
        page.goto("/people/")
        page.screenshot(path=OUT / "people.png")
        page.goto("/people/?q=李健")
        page.get_by_role("link", name="李健").click()
        page.screenshot(path=OUT / "person-masked.png")
        page.get_by_test_id("reveal").click()
        page.get_by_text("完整信息已显示").wait_for()
        page.screenshot(path=OUT / "person-revealed.png")
        page.goto("/audit/")
        page.screenshot(path=OUT / "audit.png")
        page.goto("/employers/")
        page.screenshot(path=OUT / "employers.png")
        page.goto("/api/docs/")
        page.wait_for_timeout(1500)
        page.screenshot(path=OUT / "api-docs.png")
        phone = browser.new_page(base_url=BASE, viewport={"width": 390, "height": 844}, locale="zh-CN")
        phone.context.add_cookies(page.context.cookies())
        phone.goto("/orgs/")
        phone.screenshot(path=OUT / "phone-tree.png")
        membership_screens(browser, page)
        browser.close()


def membership_screens(browser: Any, officer: Any) -> None:
    """Join on a phone, review, the e-card, and the hospital desk's verification."""
    worker = browser.new_page(base_url=BASE, viewport={"width": 390, "height": 844}, locale="zh-CN")
    officer.goto("/membership/events/")
    officer.locator("table tbody a").first.click()
    join_url = officer.locator("a[href*='/join/e/']").first.get_attribute("href")
    worker.goto(join_url)
    worker.get_by_label("姓名").fill("林晓燕")
    worker.get_by_label("身份证号码").fill(screenshot_id())
    worker.get_by_label("手机号码").fill("13911112222")
    worker.get_by_label("工作单位").fill("快手集团")
    worker.get_by_label("我已阅读并同意上述个人信息处理规则").check()
    worker.screenshot(path=OUT / "join-phone.png")
    worker.get_by_role("button", name="提交入会申请").click()
    worker.get_by_test_id("status-link").click()
    status_url = worker.url
    officer.goto("/membership/applications/")
    officer.screenshot(path=OUT / "join-review.png")
    officer.get_by_test_id("application-row").filter(has_text="林晓燕").get_by_role(
        "button", name="通过", exact=True
    ).click()
    worker.goto(status_url)
    worker.locator("[name=phone_number]").fill("13911112222")
    worker.locator("main form button[type=submit]").click()
    worker.get_by_role("link", name="打开会员电子卡").click()
    worker.screenshot(path=OUT / "ecard.png")
    token = worker.get_by_test_id("ecard-qr").get_attribute("data-token")
    desk = browser.new_page(base_url=BASE, viewport={"width": 1280, "height": 800}, locale="zh-CN")
    desk.goto("/accounts/login/")
    desk.get_by_label("账号").fill("hospital_desk")
    desk.get_by_label("密码").fill(PASSWORD)
    desk.get_by_role("button", name="登录").click()
    desk.goto("/membership/verify/")
    desk.get_by_label("会员卡二维码").fill(token or "")
    desk.get_by_role("button", name="核验").click()
    desk.get_by_test_id("verify-ok").wait_for()
    desk.screenshot(path=OUT / "verify.png")


def screenshot_id() -> str:
    """A valid, fresh ID number (110108 海淀, 1990-05-17) so the script can run again."""
    import random

    from xietong.lib import idnumber

    body = f"11010819900517{random.randrange(100, 999)}"
    return body + idnumber.check_digit(body)


if __name__ == "__main__":
    main()

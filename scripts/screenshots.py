"""Take the user guide's screenshots from a running demo node (``make demo`` first).

Usage: .venv/bin/python scripts/screenshots.py [BASE_URL]   (default http://127.0.0.1:8000)
Writes PNG files to docs/img/.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

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
        browser.close()


if __name__ == "__main__":
    main()

"""Browser tests: Playwright driving Debian's Chromium against a live server with the demo world."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("XIETONG_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def demo_world(transactional_db: Any) -> dict[str, int]:
    """The demo world, small: the seed organisations and accounts, two people per union."""
    from xietong.core import actions
    from xietong.core.models import Region
    from xietong.demo import world

    if not Region.objects.exists():  # transactional tests flush tables, regions included
        actions.regions_load()
    return world.build(people_per_org=2)


@pytest.fixture
def tianjin(demo_world: dict[str, int]) -> Any:
    """A registered peer node 天津节点 ("tj") that nothing is delivered to (its port is closed)."""
    from django.utils import timezone

    from xietong.exchange.models import ExchangeNode
    from xietong.lib import crypto

    return ExchangeNode.objects.create(
        node_id="tj",
        name="天津节点",
        endpoint="http://127.0.0.1:9",
        public_key=crypto.generate_signing_key()[1],
        valid_from=timezone.now(),
    )


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def login(page: Any, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")

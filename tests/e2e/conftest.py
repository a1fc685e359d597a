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


#: The languages each key journey is walked in (issue 12 Done-when): the pages' text is asserted
#: through the catalogue (``tr``), the rest on test ids, URLs and numbers.
LANGUAGES = ("zh-hans", "en")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """The one Playwright of the session: a second ``sync_playwright`` inside it fails, so a test that
    needs its own browser (the desk's fake camera) launches it from this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def lang(request: pytest.FixtureRequest) -> str:
    """The language of the test's pages: Chinese unless the test is parametrised over ``LANGUAGES``
    (``@pytest.mark.parametrize("lang", LANGUAGES, indirect=True)``)."""
    return str(getattr(request, "param", "zh-hans"))


def tr(lang: str, text: str) -> str:
    """``text`` (a Chinese source string) as the catalogue gives it in ``lang``: what the page shows."""
    from django.utils import translation

    with translation.override(lang):
        return translation.gettext(text)


def new_context(browser: Any, live_server: Any, lang: str = "zh-hans", **options: Any) -> Any:
    """A browser context on the live server whose pages are in ``lang``: the browser's locale and the
    language cookie that the language menu (``/i18n/setlang/``) sets."""
    from django.conf import settings

    locale = "zh-CN" if lang.startswith("zh") else "en-GB"
    context = browser.new_context(base_url=live_server.url, locale=locale, **options)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}])
    return context


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
def page(browser: Any, live_server: Any, lang: str) -> Iterator[Any]:
    context = new_context(browser, live_server, lang, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def login(page: Any, username: str, password: str) -> None:
    """Sign in through the form, in whatever language the page is."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/")

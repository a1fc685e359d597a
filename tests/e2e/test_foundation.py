"""A new user's first visit, in a real browser: sign in, browse the tree, look a person up, see the mask,
reveal the number and find the audit entry of that look-up."""

from __future__ import annotations

from typing import Any

import pytest

from xietong.core import pii
from xietong.core.models import Person
from xietong.demo.world import DEMO_PASSWORD

from .conftest import login, tr

pytestmark = [pytest.mark.e2e]


def test_officer_browses_tree_looks_up_person_and_sees_audit(page: Any, demo_world: dict[str, int]) -> None:
    person = Person.objects.get(name="李健")
    number = pii.decrypt(person.id_number_cipher, field="id_number")

    login(page, "dongcheng_officer", DEMO_PASSWORD)
    page.get_by_role("link", name="组织").first.click()
    tree = page.get_by_test_id("org-tree")
    assert "东城区总工会" in tree.inner_text()
    assert "平谷区总工会" not in tree.inner_text()  # another district's federation is outside the scope

    page.get_by_role("link", name="人员").first.click()
    page.get_by_placeholder("18位身份证号码").fill(f"{number[:6]} {number[6:]}")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/people/{person.pk}/")
    id_cell = page.get_by_test_id("id-number")
    assert id_cell.inner_text() == "110104********" + number[-4:]
    assert number not in page.content()

    page.get_by_test_id("reveal").click()
    page.get_by_text("完整信息已显示").wait_for()
    assert page.get_by_test_id("id-number").inner_text() == number

    page.get_by_role("link", name="审计日志").click()
    table = page.get_by_test_id("audit-table").inner_text()
    assert "按身份证号查询" in table and "查看完整个人信息" in table
    assert "dongcheng_officer" in table


def test_wrong_id_number_is_explained(page: Any, demo_world: dict[str, int]) -> None:
    login(page, "bj_officer", DEMO_PASSWORD)
    page.goto("/people/lookup/?id_number=11010519491231002")
    assert "身份证号码应为18位" in page.get_by_test_id("lookup-error").inner_text()


def test_phone_sized_screen_has_a_menu_and_the_language_menu_switches_to_english(
    page: Any, demo_world: dict[str, int]
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "bj_officer", DEMO_PASSWORD)
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name="组织").first.click()
    page.wait_for_url("**/orgs/")
    assert "北京市总工会" in page.get_by_test_id("org-tree").inner_text()

    # The language menu names each language in its own language and posts to /i18n/setlang/.
    menu = page.locator("select[name=language]")
    assert menu.get_attribute("aria-label") == "语言"
    assert menu.locator("option[value=en]").inner_text() == "English"
    with page.expect_navigation():
        menu.select_option("en")
    page.wait_for_url("**/orgs/")  # back on the same page
    assert page.locator("html").get_attribute("lang") == "en"
    assert menu.locator("option[value=zh-hans]").inner_text() == "简体中文"
    assert menu.get_attribute("aria-label") == tr("en", "语言")
    page.get_by_role("button", name=tr("en", "菜单")).click()
    assert page.get_by_role("link", name=tr("en", "组织")).first.is_visible()
    assert "北京市总工会" in page.get_by_test_id("org-tree").inner_text()  # names stay as registered

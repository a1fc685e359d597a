"""The blacklist and a social-insurance transfer in a real browser: an inspector lists an employer
(a mistyped credit code first), the check finds it; an HRSS officer of the sending region answers a
transfer request that arrived from Tianjin and sees the amounts."""

from __future__ import annotations

from typing import Any

import pytest

from xietong.demo.world import DEMO_PASSWORD

from .conftest import LANGUAGES, login, tr

pytestmark = [pytest.mark.e2e]


def test_list_an_employer_then_find_it(page: Any, demo_world: dict[str, int]) -> None:
    login(page, "inspector_bj", DEMO_PASSWORD)
    page.goto("/exchange/arrears/new/")
    page.get_by_label("作出决定的劳动保障监察机构").select_option(index=1)
    page.get_by_label("统一社会信用代码").fill("91110108MA01ABCD1A")  # wrong check character
    page.get_by_label("用人单位名称").fill("北京某餐飲管理有限公司")
    page.get_by_label("拖欠工资金额（元）").fill("52000")
    page.get_by_label("涉及劳动者人数").fill("9")
    page.get_by_label("决定书文号").fill("京人社监〔2026〕3号")
    page.get_by_role("button", name="保存").click()
    assert "第18位校验码应为E，实为A" in page.locator("main form").inner_text()
    page.get_by_label("统一社会信用代码").fill("91110108MA01ABCD1E")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("heading", name="北京某餐饮管理有限公司").is_visible()
    page.goto("/exchange/arrears/")
    page.get_by_label("用人单位名称").fill("北京某餐饮管理有限公司")
    page.get_by_role("button", name="查询是否列入").click()
    assert "已列入欠薪黑名单" in page.get_by_test_id("check-listed").inner_text()


@pytest.mark.parametrize("lang", LANGUAGES, indirect=True)
def test_the_check_refuses_an_invalid_code_and_finds_part_of_a_name(
    page: Any, tianjin: Any, lang: str
) -> None:
    """The blacklist look-up (issue 12 §4): "123" and a wrong check character are errors beside the
    field, never "not listed"; part of a name in traditional characters finds Tianjin's listing,
    named by its node's name."""
    from xietong.exchange import kinds

    kinds.apply(
        "arrears.listed",
        {
            "uid": "d" * 32, "origin_node": "tj", "authority": "天津市劳动保障监察总队",
            "credit_code": "91120116MA05J0X10Y", "employer_name": "天津惠佳丰商贸有限公司",
            "amount_owed": "386500.00", "workers_affected": 42, "decision_no": "津人社监〔2026〕17号",
            "listed_on": "2026-11-02", "expires_on": None, "status": "listed", "removed_on": None,
            "removal_reason": "",
        },
        tianjin,
    )  # fmt: skip
    login(page, "inspector_bj", DEMO_PASSWORD)
    page.goto("/exchange/arrears/")
    assert page.locator("html").get_attribute("lang") == lang
    check = page.get_by_test_id("arrears-check")
    for code in ("123", "91120116MA05J0X10A"):
        check.locator("[name=credit_code]").fill(code)
        check.get_by_role("button", name=tr(lang, "查询是否列入")).click()
        assert check.get_by_test_id("check-code-error").is_visible()
        assert check.get_by_test_id("check-clear").count() == 0
    assert "?" in page.url and "check=1" in page.url
    check.locator("[name=credit_code]").fill("")
    check.locator("[name=name]").fill("惠佳豐")
    check.get_by_role("button", name=tr(lang, "查询是否列入")).click()
    listed = check.get_by_test_id("check-listed").inner_text()
    assert tr(lang, "已列入欠薪黑名单：").strip() in listed and "天津惠佳丰商贸有限公司" in listed
    assert "天津节点" in listed


@pytest.mark.parametrize("lang", LANGUAGES, indirect=True)
def test_the_sending_region_answers_a_transfer(page: Any, tianjin: Any, lang: str) -> None:
    from xietong.core.tests.factories import valid_id_number
    from xietong.exchange import kinds

    body = {
        "uid": "c" * 32,
        "name": "李四",
        "id_number": valid_id_number(region="110105", sequence=31),
        "scheme": "pension",
        "applied_on": "2026-11-23",
        "authority": "天津市人力资源和社会保障局",
        "office": "北京市人力资源和社会保障局",  # the bureau that answers (else the node's top HRSS office)
    }
    kinds.apply("insurance.transfer_requested", body, tianjin)
    login(page, "hrss_bj", DEMO_PASSWORD)
    page.goto("/exchange/transfers/")
    page.get_by_role("link", name="李四").click()
    assert "天津" in page.locator("main").inner_text()  # the region by its name, not "tj"
    answer = page.get_by_role("button", name=tr(lang, "转出并通知转入地"))
    page.locator("[name=periods]").fill("2010-01,2019-12,5000\n2020-01,2020-13,6000")
    page.locator("[name=personal_account]").fill("48000")
    answer.click()
    assert "2" in page.locator('[data-field="periods"]').first.inner_text()  # the line with the bad month
    # the refused answer is shown again as typed (issue 17, defect 6)
    assert page.locator("[name=personal_account]").input_value() == "48000"
    page.locator("[name=periods]").fill("2010-01,2019-12,5000")
    answer.click()
    assert "120000.00" in page.get_by_test_id("amounts").inner_text()
    assert tr(lang, "转出地已转出，待转入地接续") in page.locator("h1").inner_text()

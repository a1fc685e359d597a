"""Eligibility certification in a real browser: an HRSS officer opens a run of the demo pension roster
with Tianjin, Tianjin's findings arrive, and the officer reviews them: one confirmed in bulk, one
dismissed with a reason after a first try without one, and the letter offered for the confirmed one;
in Chinese and in English."""

from __future__ import annotations

from typing import Any

import pytest

from xietong.demo.world import DEMO_PASSWORD

from .conftest import LANGUAGES, login, tr

pytestmark = [pytest.mark.e2e]


@pytest.mark.parametrize("lang", LANGUAGES, indirect=True)
def test_an_officer_reviews_the_findings_of_a_run(page: Any, tianjin: Any, lang: str) -> None:
    from xietong.exchange import kinds
    from xietong.insurance.models import EligibilityCheck

    login(page, "hrss_bj", DEMO_PASSWORD)
    page.goto("/exchange/certification/")
    page.get_by_role("link", name=tr(lang, "发起资格认证")).click()
    page.get_by_label("天津节点").check()  # the partner by its node's name
    page.locator("main form button[type=submit]").click()
    assert tr(lang, "等待对方比对") in page.get_by_test_id("job-status").inner_text()

    run = EligibilityCheck.objects.get()
    first, second = run.roster.entries.order_by("record_id")[:2]
    kinds.apply(
        "certification.findings",
        {
            "run": run.uid, "chunk": 1, "checked": run.records, "error": "",
            "findings": [
                {"ref": str(first.pk), "kind": "fraud_suspected", "score": 1.0,
                 "evidence": "死亡登记：死亡日期 2025-03-02；身份证号一致"},
                {"ref": str(second.pk), "kind": "duplicate", "score": 0.93,
                 "evidence": "正在领取基本养老保险待遇：起始日期 2012-10-01；姓名、出生日期一致"},
            ],
        },
        tianjin,
    )  # fmt: skip
    page.reload()
    assert tr(lang, "比对完成") in page.get_by_test_id("job-status").inner_text()
    findings = page.get_by_test_id("findings")
    assert findings.get_by_role("row").count() == 3  # header and two findings
    findings.get_by_role("row", name=first.name).locator("[name=finding]").check()
    page.locator("[name=decision]").select_option("confirm")
    page.locator("[name=note]").fill("社区证实已去世")
    page.get_by_role("button", name=tr(lang, "批量处理")).click()
    # The flash message (role=alert), not the run's "已发送…" under its progress bar.
    done = tr(lang, "已处理 %(count)d 条发现") % {"count": 1}
    assert done in page.locator(".alert-success[role=alert]").inner_text()
    assert tr(lang, "已确认，暂停发放") in findings.get_by_role("row", name=first.name).inner_text()

    findings.get_by_role("link", name=second.name).click()
    page.locator("[name=decision]").select_option("dismiss")
    page.get_by_role("button", name=tr(lang, "提交核实结果")).click()
    assert tr(lang, "排除须说明理由") in page.locator(".alert-danger").inner_text()
    page.locator("[name=decision]").select_option("dismiss")
    page.locator("[name=note]").fill("本人已到窗口认证")
    page.get_by_role("button", name=tr(lang, "提交核实结果")).click()
    assert page.get_by_test_id("finding-status").inner_text() == tr(lang, "已排除")

    page.goto(f"/exchange/certification/{run.pk}/")
    page.get_by_test_id("findings").get_by_role("link", name=first.name).click()
    assert page.get_by_test_id("letter").is_visible()
    first.refresh_from_db()
    assert first.suspended_at is not None

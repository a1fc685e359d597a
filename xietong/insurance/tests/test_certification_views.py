"""Pages of eligibility certification: scoping of rosters, runs and findings; uploading a roster,
opening a run, deciding findings one by one and in bulk, the letter, the figures."""

from __future__ import annotations

from typing import Any, ClassVar

from django.test import TestCase
from django.urls import reverse

from xietong.core.models import AuditEvent, Organization
from xietong.core.roles import CERTIFICATION_PERMISSIONS
from xietong.core.testing import ScopedObjectViewTests, client_for, make_org, make_user
from xietong.exchange.models import ExchangeMessage

from ..choices import FindingStatus, RequestStatus, RunStage
from ..models import BenefitRoster, CertificationFinding, EligibilityCheck, RosterEntry
from .conftest import Peer
from .test_certification import PENSIONERS, WANG, entry_of, findings_from_tj, import_roster, upload

OFFICER = list(CERTIFICATION_PERMISSIONS)


class TestRosterPages(ScopedObjectViewTests):
    model = BenefitRoster
    list_url_name = "insurance:roster_list"
    detail_url_name = "insurance:roster_detail"

    def make_object(self, organization: Organization) -> Any:
        return import_roster(organization, PENSIONERS)


class TestRunPages(ScopedObjectViewTests):
    model = EligibilityCheck
    list_url_name = "insurance:run_list"
    detail_url_name = "insurance:run_detail"
    fixtures: ClassVar[list[str]] = []

    def make_object(self, organization: Organization) -> Any:
        roster = import_roster(organization, PENSIONERS)
        return EligibilityCheck.objects.create(
            uid="b" * 32, organization=organization, roster=roster, checks=["duplicate"]
        )


def test_an_officer_uploads_a_roster_with_its_own_headers_and_sees_it_masked(db: Any) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    text = PENSIONERS.replace("公民身份号码", "证件号").replace("待遇起始日期", "首次发放年月日")
    with TestCase.captureOnCommitCallbacks(execute=True):  # the import is queued on commit
        response = officer.post(
            reverse("insurance:roster_create"),
            {
                "organization": bureau.pk, "kind": "pension", "title": "养老金领取人员",
                "file": upload(text), "column_id_number": "证件号", "column_event_date": "首次发放年月日",
            },
        )  # fmt: skip
    roster = BenefitRoster.objects.get()
    assert response["Location"] == reverse("insurance:roster_detail", args=[roster.pk])
    page = officer.get(response["Location"]).content.decode()
    assert "导入完成：3人" in page and "110105********" + WANG[-4:] in page and WANG not in page
    assert str(RosterEntry.objects.get(record_id="P001").event_date) == "2008-04-01"


def test_a_wrong_file_type_is_explained_on_the_form(db: Any) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    page = officer.post(
        reverse("insurance:roster_create"),
        {"organization": bureau.pk, "kind": "pension", "file": upload("x", name="a.pdf")},
    )
    assert "请上传 .xlsx、.csv 或 .parquet 文件" in page.content.decode()
    assert not BenefitRoster.objects.exists()


def test_an_officer_opens_a_run_reviews_findings_in_bulk_and_prints_a_letter(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    roster = import_roster(bureau, PENSIONERS)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the sending is queued on commit
        response = officer.post(
            reverse("insurance:run_create"),
            {
                "organization": bureau.pk,
                "roster": roster.pk,
                "partners": ["tj"],
                "checks": ["fraud_suspected", "duplicate"],
            },
        )
    run = EligibilityCheck.objects.get()
    assert response["Location"] == reverse("insurance:run_detail", args=[run.pk])
    assert ExchangeMessage.objects.filter(kind="certification.request", receiver="tj").count() == 1
    items = [
        {
            "ref": str(entry_of(run, "P001").pk),
            "kind": "fraud_suspected",
            "score": 1.0,
            "evidence": "死亡日期 2025-03-02",
        },
        {
            "ref": str(entry_of(run, "P003").pk),
            "kind": "duplicate",
            "score": 0.93,
            "evidence": "正在领取养老金",
        },
    ]
    findings_from_tj(peer, run, 1, items)
    page = officer.get(response["Location"]).content.decode()
    assert "比对完成" in page and "王秀英" in page and "李娜" in page
    wang, li = (CertificationFinding.objects.get(entry__record_id=r) for r in ("P001", "P003"))
    officer.post(
        reverse("insurance:findings_bulk", args=[run.pk]),
        {"finding": [wang.pk], "decision": "confirm", "note": "家属证实"},
    )
    officer.post(reverse("insurance:finding_decide", args=[li.pk]), {"decision": "dismiss", "note": ""})
    li.refresh_from_db()
    assert li.status == FindingStatus.OPEN  # a dismissal needs a reason
    officer.post(
        reverse("insurance:finding_decide", args=[li.pk]), {"decision": "dismiss", "note": "同名不同人"}
    )
    wang.refresh_from_db()
    li.refresh_from_db()
    assert (wang.status, li.status) == (FindingStatus.CONFIRMED, FindingStatus.DISMISSED)
    letter = officer.get(reverse("insurance:finding_letter", args=[wang.pk]))
    assert letter["Content-Type"] == "application/pdf" and letter.content.startswith(b"%PDF")
    assert officer.get(reverse("insurance:finding_letter", args=[li.pk])).status_code == 404
    export = officer.get(response["Location"], {"export": "xlsx"}, follow=True)
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    figures = officer.get(reverse("insurance:certification_figures")).content.decode()
    assert "data-chart" in figures and "天津市" in figures and "天津节点" not in figures


def test_findings_of_another_office_are_not_found(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    roster = import_roster(bureau, PENSIONERS)
    run = EligibilityCheck.objects.create(
        uid="c" * 32, organization=bureau, roster=roster, checks=["duplicate"], records=3
    )
    run.requests.create(partner="tj", partner_name="天津节点", chunks=1)
    findings_from_tj(
        peer,
        run,
        1,
        [{"ref": str(entry_of(run, "P001").pk), "kind": "duplicate", "score": 1, "evidence": "x"}],
    )
    finding = CertificationFinding.objects.get()
    stranger = client_for(
        make_user("stranger", perms=OFFICER, organization=make_org("tj-rs", kind="hrss_bureau"))
    )
    api = f"/api/exchange/certification/findings/{finding.pk}/"
    assert stranger.get(api).status_code == 404
    assert stranger.post(api + "confirm/", {}, content_type="application/json").status_code == 404
    assert stranger.get(reverse("insurance:finding_detail", args=[finding.pk])).status_code == 404
    stranger.post(reverse("insurance:finding_decide", args=[finding.pk]), {"decision": "confirm"})
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_the_api_lists_findings_and_takes_decisions_with_reasons_in_chinese(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    roster = import_roster(bureau, PENSIONERS)
    run = EligibilityCheck.objects.create(
        uid="d" * 32,
        organization=bureau,
        roster=roster,
        checks=["duplicate"],
        records=3,
        status="done",
        stage="waiting",  # as its job leaves it once sent
    )
    run.requests.create(partner="tj", partner_name="天津节点", chunks=1)
    item = {"ref": str(entry_of(run, "P003").pk), "kind": "duplicate", "score": 0.95, "evidence": "同项待遇"}
    findings_from_tj(peer, run, 1, [item])
    api = "/api/exchange/certification/findings/"
    listed = officer.get(api, {"run": str(run.pk), "status": "open"}).json()
    assert [(f["name"], f["partner_name"], f["kind"]) for f in listed["results"]] == [
        ("李娜", "天津节点", "duplicate")
    ]
    url = f"/api/exchange/certification/findings/{listed['results'][0]['id']}/dismiss/"
    refused = officer.post(url, {"note": ""}, content_type="application/json")
    assert refused.status_code == 400 and "排除须说明理由" in refused.content.decode()
    done = officer.post(url, {"note": "已到窗口认证"}, content_type="application/json").json()
    assert done["status"] == "dismissed"
    runs = officer.get("/api/exchange/certification/runs/").json()["results"]
    assert runs[0]["requests"][0]["answered_chunks"] == 1
    answered = (runs[0]["status"], runs[0]["stage"], runs[0]["status_display"])
    assert answered == ("done", "complete", "比对完成")


def test_a_partner_that_refuses_fails_its_request_with_the_reason_and_the_officer_resends(
    peer: Peer,
) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    roster = import_roster(bureau, PENSIONERS)
    with TestCase.captureOnCommitCallbacks(execute=True):
        form = {"roster": roster.pk, "partners": ["tj"], "checks": ["duplicate"]}
        officer.post(reverse("insurance:run_create"), form)
    run = EligibilityCheck.objects.get()
    # What the sender records when tj's signed acknowledgement says it did not apply the message.
    ExchangeMessage.objects.filter(kind="certification.request").update(
        status="refused", reason="比对密钥不一致：双方的区域组比对密钥不同，请核对 XIETONG_GROUP_KEY"
    )
    url = reverse("insurance:run_detail", args=[run.pk])
    page = officer.get(url).content.decode()
    assert "比对密钥不一致" in page and "部分完成" in page and "重新发送" in page
    request = run.requests.get()
    assert (request.status, request.attempt) == (RequestStatus.FAILED, 1)
    assert "hx-get" not in officer.get(url, HTTP_HX_REQUEST="true").content.decode()  # the run has ended
    answer = officer.post(reverse("insurance:run_resend", args=[run.pk]), {"partner": "tj"}, follow=True)
    assert "已重新发送给天津节点" in answer.content.decode()
    request.refresh_from_db()
    run.refresh_from_db()
    assert (request.status, request.attempt, request.error, run.stage) == (
        RequestStatus.WAITING, 2, "", RunStage.WAITING,
    )  # fmt: skip
    keys = list(
        ExchangeMessage.objects.filter(kind="certification.request").values_list("idempotency_key", flat=True)
    )
    assert sorted(keys) == [f"certification.request:{run.uid}:1:1", f"certification.request:{run.uid}:2:1"]
    events = AuditEvent.objects.filter(action="status")
    assert any(e.changes.get("detail", {}).get("resend") == "tj" for e in events)
    # A late answer to the first attempt is ignored; the second attempt's answer completes the run.
    findings_from_tj(peer, run, 1, [], attempt=1)
    assert run.requests.get().status == RequestStatus.WAITING
    findings_from_tj(peer, run, 1, [], attempt=2)
    run.refresh_from_db()
    assert (run.stage, run.requests.get().status) == (RunStage.COMPLETE, RequestStatus.ANSWERED)
    # Only a failed partner can be sent the run again.
    again = officer.post(reverse("insurance:run_resend", args=[run.pk]), {"partner": "tj"}, follow=True)
    assert "只能向失败的对方节点重新发送" in again.content.decode()


def test_the_api_resends_to_a_failed_partner_and_a_partner_error_fails_the_request(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    roster = import_roster(bureau, PENSIONERS)
    with TestCase.captureOnCommitCallbacks(execute=True):
        form = {"roster": roster.pk, "partners": ["tj"], "checks": ["duplicate"]}
        officer.post(reverse("insurance:run_create"), form)
    run = EligibilityCheck.objects.get()
    findings_from_tj(peer, run, 1, [], error="对方比对失败：磁盘已满")
    detail = officer.get(reverse("certification-run-detail", args=[run.pk])).json()
    assert (detail["stage"], detail["status_display"]) == ("partial", "部分完成")
    assert detail["requests"][0]["status"] == "failed" and "磁盘已满" in detail["requests"][0]["error"]
    url = reverse("certification-run-resend", args=[run.pk])
    assert officer.post(url, {"partner": "sh"}, content_type="application/json").status_code == 400
    done = officer.post(url, {"partner": "tj"}, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["stage"] == "waiting" and done.json()["requests"][0]["attempt"] == 2


def test_the_run_page_polls_with_the_shared_partial_until_every_partner_has_answered(peer: Peer) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    roster = import_roster(bureau, PENSIONERS)
    polled = officer.get(reverse("insurance:roster_detail", args=[roster.pk]), HTTP_HX_REQUEST="true")
    assert 'data-testid="job-progress"' in polled.content.decode()
    assert "hx-get" not in polled.content.decode()  # the import is over: no more polling
    with TestCase.captureOnCommitCallbacks(execute=True):
        form = {"roster": roster.pk, "partners": ["tj"], "checks": ["duplicate"]}
        officer.post(reverse("insurance:run_create"), form)
    run = EligibilityCheck.objects.get()
    url = reverse("insurance:run_detail", args=[run.pk])
    waiting = officer.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "等待对方比对" in waiting and "hx-get" in waiting and 'data-testid="run-answers"' in waiting
    assert "对方已答复 0 / 1 个节点" in waiting and "<html" not in waiting
    findings_from_tj(peer, run, 1, [])
    complete = officer.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "比对完成" in complete and "hx-get" not in complete and "刷新页面查看结果" in complete


def test_the_finding_page_shows_the_decision_made_in_another_run_and_asks_for_an_override(
    peer: Peer,
) -> None:
    from .test_certification import two_runs_with_zhang

    bureau = make_org("bj-rs", kind="hrss_bureau")
    user = make_user("officer", perms=OFFICER, organization=bureau)
    user.display_name = "赵敏"
    user.save()
    officer = client_for(user)
    first, second = two_runs_with_zhang(bureau, peer)
    officer.post(
        reverse("insurance:finding_decide", args=[second.pk]), {"decision": "dismiss", "note": "同名不同人"}
    )
    page = officer.get(reverse("insurance:finding_detail", args=[first.pk])).content.decode()
    assert "已排除" in page and "赵敏" in page and second.run.roster.title in page
    run_page = officer.get(reverse("insurance:run_detail", args=[first.run.pk])).content.decode()
    assert "随其他批次" in run_page
    officer.post(reverse("insurance:finding_decide", args=[first.pk]), {"decision": "confirm", "note": ""})
    first.refresh_from_db()
    assert first.status == FindingStatus.DISMISSED  # refused: a contrary decision needs an override
    officer.post(
        reverse("insurance:finding_decide", args=[first.pk]),
        {"decision": "confirm", "note": "", "override": "on", "override_reason": "对方提供新证据"},
    )
    first.refresh_from_db()
    assert (first.status, first.override_reason) == (FindingStatus.CONFIRMED, "对方提供新证据")


def test_the_figures_chart_has_readable_axes_one_panel_per_year_and_its_table_as_excel(peer: Peer) -> None:
    import json
    import re

    from ..models import CertificationStatistic

    bureau = make_org("bj-rs", kind="hrss_bureau")
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    CertificationStatistic.objects.create(region_name="安徽省", year=2019, assisted=1_200_000, source="年报")
    roster = import_roster(bureau, PENSIONERS)
    run = EligibilityCheck.objects.create(
        uid="e" * 32, organization=bureau, roster=roster, checks=["duplicate"]
    )
    run.requests.create(partner="tj", partner_name="天津节点", chunks=1, checked=3)
    page = officer.get(reverse("insurance:certification_figures")).content.decode()
    assert "天津节点" not in page and "天津市" in page
    charts = {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r'<script id="(assisted-\d+)" type="application/json">(.*?)</script>', page)
    }
    this_year = str(run.created_at.year)
    assert set(charts) == {"assisted-2019", f"assisted-{this_year}"}  # each year on its own scale
    chart = charts[f"assisted-{this_year}"]
    assert chart["grid"]["containLabel"] is True
    assert chart["yAxis"]["axisLabel"]["interval"] == 0 and chart["yAxis"]["data"] == ["天津市"]
    assert chart["series"][0]["data"] == [3] and chart["series"][0]["label"]["show"] is True
    assert 'data-chart="assisted-2019"' in page
    export = officer.get(reverse("insurance:certification_figures"), {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_a_runs_findings_export_is_the_findings_list_and_a_long_one_runs_in_the_background(
    peer: Peer, settings: Any
) -> None:
    bureau = make_org("bj-rs", kind="hrss_bureau")
    roster = import_roster(bureau, PENSIONERS)
    run = EligibilityCheck.objects.create(
        uid="c" * 32, organization=bureau, roster=roster, checks=["duplicate"], records=3
    )
    run.requests.create(partner="tj", partner_name="天津节点", chunks=1)
    findings_from_tj(
        peer,
        run,
        1,
        [{"ref": str(entry_of(run, "P001").pk), "kind": "duplicate", "score": 1, "evidence": "x"}],
    )
    officer = client_for(make_user("officer", perms=OFFICER, organization=bureau))
    redirected = officer.get(reverse("insurance:run_detail", args=[run.pk]), {"export": "xlsx", "q": "王"})
    assert redirected.status_code == 302 and f"run={run.pk}" in redirected["Location"]
    assert "q=%E7%8E%8B" in redirected["Location"]  # the run page's filters go along
    listed = officer.get(reverse("insurance:finding_list"), {"run": run.pk})
    assert [f.run_id for f in listed.context["object_list"]] == [run.pk]
    workbook = officer.get(redirected["Location"])
    assert workbook["Content-Type"].startswith("application/vnd.openxmlformats")
    settings.XIETONG_EXPORT_SYNC_ROWS = 0  # every export is long now: a background job
    queued = officer.get(redirected["Location"])
    assert queued.status_code == 302 and queued["Location"].startswith("/exports/")

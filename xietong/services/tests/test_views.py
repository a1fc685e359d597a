"""Pages and endpoints of the services app: the generic scope tests for every list, detail page,
POST and API action (ARCHITECTURE.md §3 rule 7), the routes without an object, the public pages, and
the officer's walk through a request."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from xietong.core.models import Organization
from xietong.core.testing import (
    Scope,
    ScopedObjectViewTests,
    SignInRequiredTests,
    clerk,
    client_for,
    covers,
    make_user,
)

from .. import actions
from ..models import KnowledgeAnswer, Lawyer, LegalAidCase, ServiceRequest, ServiceStation
from .factories import category, make_lawyer, make_request, make_station

pytestmark = pytest.mark.django_db

OFFICER = [
    "services.view_servicerequest",
    "services.add_servicerequest",
    "services.change_servicerequest",
    "services.view_knowledgeanswer",
]


class TestStationViews(ScopedObjectViewTests):
    model = ServiceStation
    list_url_name = "services:station_list"
    detail_url_name = "services:station_detail"
    api_list_url_name = "service-station-list"
    api_detail_url_name = "service-station-detail"
    post_url_names = ("services:station_edit",)
    change_permissions = ("services.change_servicestation",)

    def make_object(self, organization: Organization) -> ServiceStation:
        return make_station(organization)


STEPS = ("acknowledge", "reply", "reassign", "handover", "close", "followup")


class TestRequestViews(ScopedObjectViewTests):
    model = ServiceRequest
    list_url_name = "services:request_list"
    detail_url_name = "services:request_detail"
    api_list_url_name = "service-request-list"
    api_detail_url_name = "service-request-detail"
    post_url_names = ("services:request_step", "services:request_legal_aid")
    api_actions = (("service-request-acknowledge", "post"), ("service-request-reply", "post"))
    change_permissions = ("services.change_servicerequest", "services.add_legalaidcase")

    def make_object(self, organization: Organization) -> ServiceRequest:
        return make_request(organization, category=category("legal_aid"))

    def post_urls(self, obj: Any) -> list[str]:
        steps = [reverse("services:request_step", args=[obj.pk, what]) for what in STEPS]
        return [*steps, reverse("services:request_legal_aid", args=[obj.pk])]


class TestKnowledgeViews(ScopedObjectViewTests):
    model = KnowledgeAnswer
    list_url_name = "services:knowledge_list"
    post_url_names = ("services:knowledge_edit",)
    change_permissions = ("services.change_knowledgeanswer",)

    def make_object(self, organization: Organization) -> KnowledgeAnswer:
        return actions.knowledge_save(
            organization=organization,
            category=category(),
            question="坐席口径",
            text="内部答复口径",
            public=False,
            acting_user=clerk(),
        )


class TestLawyerViews(ScopedObjectViewTests):
    model = Lawyer
    list_url_name = "services:lawyer_list"

    def make_object(self, organization: Organization) -> Any:
        return make_lawyer(organization)


class TestCaseViews(ScopedObjectViewTests):
    model = LegalAidCase
    list_url_name = "services:case_list"
    detail_url_name = "services:case_detail"
    post_url_names = ("services:case_milestone",)
    change_permissions = ("services.change_legalaidcase",)

    def make_object(self, organization: Organization) -> LegalAidCase:
        service_request = make_request(organization, category=category("legal_aid"))
        return actions.legal_aid_open(
            service_request=service_request, lawyer=make_lawyer(organization), acting_user=clerk()
        )


class TestServicesRoutesNeedARole(SignInRequiredTests):
    route_names = (
        "services:station_create",
        "services:request_create",
        "services:knowledge_create",
        "services:lawyer_create",
        "services:figures",
    )


@covers("services:attachment")
def test_an_attachment_is_served_within_the_scope_only(scope: Scope) -> None:
    service_request = make_request(scope.home)
    entry = actions.request_reply(
        service_request=service_request,
        text="工资条",
        kind="note",
        acting_user=clerk(),
        attachment=SimpleUploadedFile("工资条.pdf", b"%PDF-1.4 test"),
    )
    url = reverse("services:attachment", args=[entry.pk])
    assert Client().get(url).status_code == 302
    assert client_for(make_user("nobody", organization=scope.home)).get(url).status_code == 403
    insider = client_for(make_user("insider", perms=OFFICER, organization=scope.home))
    response = insider.get(url)
    assert response.status_code == 200 and response.getvalue() == b"%PDF-1.4 test"
    outsider = client_for(make_user("outsider", perms=OFFICER, organization=scope.other))
    assert outsider.get(url).status_code == 404


def test_the_public_directory_and_station_page_need_no_account(scope: Scope) -> None:
    station = make_station(scope.home, name="门头沟区职工服务中心")
    closed = make_station(scope.other, name="暂停的服务站", active=False)
    page = Client().get(reverse("services:directory"), {"district": "110109", "service": "legal_aid"})
    text = page.content.decode()
    assert page.status_code == 200 and "门头沟区职工服务中心" in text and "暂停的服务站" not in text
    station_page = Client().get(reverse("services:station_page", args=[station.pk])).content.decode()
    assert 'href="tel:010-69800000"' in station_page and "法律援助" in station_page
    assert Client().get(reverse("services:station_page", args=[closed.pk])).status_code == 404


def test_the_public_qa_shows_public_answers_only(scope: Scope) -> None:
    for question, public in (("工伤怎么认定？", True), ("坐席内部口径", False)):
        actions.knowledge_save(
            organization=scope.home,
            category=category(),
            question=question,
            text="答复",
            public=public,
            acting_user=clerk(),
        )
    page = Client().get(reverse("services:qa"), {"q": "工伤"}).content.decode()
    assert "工伤怎么认定？" in page and "坐席内部口径" not in page


def test_an_operator_logs_a_call_and_answers_it_with_a_standard_answer(scope: Scope) -> None:
    operator = client_for(make_user("operator", perms=OFFICER, organization=scope.home))
    data = {
        "channel": "hotline",
        "received_by": scope.home.pk,
        "category": category().pk,
        "subject": "咨询年假",
        "description": "入职满一年能休几天年假？",
        "requester_name": "周敏",
        "requester_phone": "138 0013 8000",
        "call_seconds": "90",
    }
    response = operator.post(reverse("services:request_create"), data)
    service_request = ServiceRequest.objects.get()
    assert response["Location"] == reverse("services:request_detail", args=[service_request.pk])
    assert service_request.call_seconds == 90 and service_request.requester_phone_masked == "138****8000"
    bad = operator.post(
        reverse("services:request_create"), {**data, "requester_phone": "12345"}
    ).content.decode()
    assert "手机号码应为11位" in bad and ServiceRequest.objects.count() == 1
    actions.knowledge_save(
        organization=scope.home,
        category=category(),
        question="年假天数",
        text="累计工作满1年不满10年的，年休假5天。",
        acting_user=clerk(),
    )
    detail = operator.get(reverse("services:request_detail", args=[service_request.pk]), {"kb": "年假"})
    assert "累计工作满1年不满10年的" in detail.content.decode()
    step = reverse("services:request_step", args=[service_request.pk, "reply"])
    operator.post(step, {"kind": "reply", "text": "累计工作满1年不满10年的，年休假5天。", "final": "on"})
    service_request.refresh_from_db()
    assert service_request.status == "answered"
    closed = operator.post(
        reverse("services:request_step", args=[service_request.pk, "close"]),
        {"satisfaction": "1"},
        follow=True,
    )
    assert "已办结" in closed.content.decode()
    service_request.refresh_from_db()
    assert service_request.followup_due
    listed = operator.get(reverse("services:request_list"), {"status": "followup"}).content.decode()
    assert service_request.number in listed


def test_a_refused_attachment_is_said_on_the_page(scope: Scope) -> None:
    service_request = make_request(scope.home)
    operator = client_for(make_user("operator", perms=OFFICER, organization=scope.home))
    upload = SimpleUploadedFile("病毒.exe", b"MZ")
    page = operator.post(
        reverse("services:request_step", args=[service_request.pk, "reply"]),
        {"kind": "note", "text": "附件", "attachment": upload},
        follow=True,
    ).content.decode()
    assert "不接受此类文件（.exe）" in page and not service_request.entries.filter(kind="note").exists()


def test_figures_show_volume_on_time_rate_and_satisfaction_and_export(scope: Scope) -> None:
    service_request = make_request(scope.home)
    actions.request_reply(service_request=service_request, text="已答复", final=True, acting_user=clerk())
    actions.request_close(service_request=service_request, satisfaction=4, acting_user=clerk())
    make_request(scope.home, channel="walk_in", call_taken_by=None, call_seconds=None)
    officer = client_for(make_user("officer", perms=OFFICER, organization=scope.home))
    page = officer.get(reverse("services:figures"))
    assert (
        page.context["total"] == 2
        and page.context["on_time_rate"] == 100.0
        and page.context["satisfaction"] == 4
    )
    assert dict(page.context["by_channel"]) == {"12351热线": 1, "服务站窗口": 1}
    export = officer.get(reverse("services:figures"), {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    outsider = client_for(make_user("outsider", perms=OFFICER, organization=scope.other))
    assert outsider.get(reverse("services:figures")).context["total"] == 0


def test_the_api_acknowledges_and_answers(scope: Scope) -> None:
    service_request = make_request(scope.home)
    api = client_for(make_user("officer", perms=OFFICER, organization=scope.home))
    listed = api.get(reverse("service-request-list")).json()["results"]
    assert listed[0]["requester_phone_masked"] == "139****5678" and "13912345678" not in str(listed)
    api.post(
        reverse("service-request-acknowledge", args=[service_request.pk]), content_type="application/json"
    )
    answered = api.post(
        reverse("service-request-reply", args=[service_request.pk]),
        {"text": "已答复", "final": True},
        content_type="application/json",
    ).json()
    assert answered["status"] == "answered" and answered["answer"] == "已答复"
    again = api.post(
        reverse("service-request-reply", args=[service_request.pk]),
        {"text": "x", "final": True},
        content_type="application/json",
    )
    assert again.status_code == 400 and "已答复或办结" in str(again.json())


def test_the_forms_open_for_a_services_officer(scope: Scope) -> None:
    from xietong.core.roles import SERVICES_PERMISSIONS

    station = make_station(scope.home)
    answer = actions.knowledge_save(
        organization=scope.home, category=category(), question="问", text="答", acting_user=clerk()
    )
    officer = client_for(make_user("officer", perms=SERVICES_PERMISSIONS, organization=scope.home))
    for url in (
        reverse("services:station_create"),
        reverse("services:station_edit", args=[station.pk]),
        reverse("services:request_create"),
        reverse("services:knowledge_create"),
        reverse("services:knowledge_edit", args=[answer.pk]),
        reverse("services:lawyer_create"),
        reverse("services:figures"),
    ):
        assert officer.get(url).status_code == 200, url
    officer.post(
        reverse("services:station_edit", args=[station.pk]),
        {"name": station.name, "level": "district", "district": "110109", "address": "新地址", "active": ""},
    )
    station.refresh_from_db()
    assert station.level == "district" and station.address == "新地址" and not station.active

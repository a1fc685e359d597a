"""The writes of the services app: filing and routing, the thread and its attachments, closure and
follow-up, escalation, the knowledge base and legal aid; each refusal answered in Chinese with
nothing saved."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xietong.core import pii
from xietong.core.models import AuditEvent, Region
from xietong.core.testing import Scope, clerk, make_org, make_user
from xietong.lib import workdays
from xietong.membership.tests.factories import make_member

from .. import actions, selectors
from ..choices import RequestStatus
from ..models import LegalAidCase, RequestEntry, ServiceCategory, ServiceRequest
from .factories import category, make_lawyer, make_request, make_station

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def test_the_nine_default_categories_have_the_default_limits() -> None:
    names = list(ServiceCategory.objects.values_list("name", flat=True))
    assert names == [
        "政策咨询",
        "法律援助",
        "困难帮扶",
        "互助保障",
        "就业创业",
        "技能培训",
        "生活服务",
        "权益投诉",
        "意见建议",
    ]
    assert set(ServiceCategory.objects.values_list("acknowledge_days", "answer_days")) == {(1, 5)}


def test_a_hotline_call_keeps_the_phone_encrypted_and_masked(scope: Scope) -> None:
    service_request = make_request(scope.home)
    assert service_request.requester_phone_masked == "139****5678"
    assert PHONE not in json.dumps(service_request.snapshot(), ensure_ascii=False)
    assert PHONE not in json.dumps(list(AuditEvent.objects.values("changes")), ensure_ascii=False)
    assert actions.requester_phone(service_request) == PHONE
    assert service_request.call_seconds == 185 and service_request.call_taken_by == clerk()
    today = timezone.localdate(service_request.created_at)  # the node's day, as the action counts
    assert service_request.acknowledge_due == workdays.add_working_days(today, 1)
    assert service_request.answer_due == workdays.add_working_days(today, 5)
    assert service_request.number.startswith("12351-")
    assert selectors.search_requests(ServiceRequest.objects.all(), PHONE).get() == service_request


def test_a_category_with_its_own_limits_sets_the_dates(scope: Scope) -> None:
    ServiceCategory.objects.filter(code="complaint").update(acknowledge_days=2, answer_days=10)
    service_request = make_request(scope.home, category=category("complaint"))
    today = timezone.localdate(service_request.created_at)  # the node's day, as the action counts
    assert service_request.answer_due == workdays.add_working_days(today, 10)


def test_a_member_is_routed_to_their_union_by_id_number(scope: Scope) -> None:
    member = make_member(scope.other, with_card=False)
    id_number = pii.decrypt(member.person.id_number_cipher, field="id_number")
    service_request = make_request(scope.home, id_number=id_number)
    assert service_request.organization == scope.other and service_request.member == member


def test_a_non_member_is_routed_by_district(scope: Scope) -> None:
    daxing = make_org("t-daxing", parent=scope.root, region="110115")
    service_request = make_request(scope.home, district=Region.objects.get(code="110115"))
    assert service_request.organization == daxing
    unknown = make_request(scope.home, district=Region.objects.get(code="310101"))
    assert unknown.organization == scope.home  # nobody there: the union that took the call


def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(scope: Scope) -> None:
    with pytest.raises(ValidationError) as caught:
        make_request(scope.home, call_taken_by=None)
    assert caught.value.message_dict["call_taken_by"] == ["热线来电请注明接听话务员"]
    with pytest.raises(ValidationError) as caught:
        make_request(scope.home, requester_phone="1391234")
    assert "11位" in caught.value.message_dict["requester_phone"][0]
    with pytest.raises(ValidationError) as caught:
        make_request(scope.home, id_number="110101199001011234")
    assert "校验码" in caught.value.message_dict["id_number"][0]
    assert not ServiceRequest.objects.exists()


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_attachments_are_checked_for_size_and_type(scope: Scope, settings: object) -> None:
    service_request = make_request(scope.home)
    settings.XIETONG_SERVICES_ATTACHMENT_MAX_MB = 1  # type: ignore[attr-defined]
    reply: dict[str, Any] = {"service_request": service_request, "text": "请补充材料", "acting_user": clerk()}
    too_large = _upload("合同.pdf", b"%PDF" + b"0" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError) as caught:
        actions.request_reply(attachment=too_large, **reply)
    assert caught.value.message_dict["attachment"][0].startswith("附件不能超过 1 MB")
    with pytest.raises(ValidationError) as caught:
        actions.request_reply(attachment=_upload("setup.exe", b"MZ"), **reply)
    assert "不接受此类文件（.exe）" in caught.value.message_dict["attachment"][0]
    with pytest.raises(ValidationError) as caught:
        actions.request_reply(attachment=_upload("工资条.pdf", b"MZ\x90\x00"), **reply)
    assert caught.value.message_dict["attachment"] == ["文件内容与扩展名（.pdf）不符"]
    assert not RequestEntry.objects.filter(kind__in=["reply", "note"]).exists()
    entry = actions.request_reply(attachment=_upload("工资条.pdf", b"%PDF-1.4 test"), kind="note", **reply)
    assert entry.attachment_name == "工资条.pdf" and entry.attachment_size == 13


def test_the_answer_then_a_low_rating_calls_for_a_follow_up(scope: Scope) -> None:
    service_request = make_request(scope.home)
    actions.request_acknowledge(service_request=service_request, acting_user=clerk())
    with pytest.raises(ValidationError, match="答复后才能办结"):
        actions.request_close(service_request=service_request, satisfaction=5, acting_user=clerk())
    actions.request_reply(
        service_request=service_request, text="请携带材料到区总工会", final=True, acting_user=clerk()
    )
    assert service_request.status == RequestStatus.ANSWERED and service_request.answer
    with pytest.raises(ValidationError) as caught:
        actions.request_close(service_request=service_request, satisfaction=7, acting_user=clerk())
    assert caught.value.message_dict["satisfaction"] == ["满意度应为1到5分"]
    actions.request_close(service_request=service_request, satisfaction=2, comment="等太久", acting_user=None)
    assert service_request.status == RequestStatus.CLOSED and service_request.followup_due
    assert list(selectors.requests_in_status(ServiceRequest.objects.all(), "followup")) == [service_request]
    actions.request_followup(
        service_request=service_request, note="已致电解释，职工表示理解", acting_user=clerk()
    )
    assert not service_request.followup_due and service_request.followup_at is not None
    with pytest.raises(ValidationError, match="无需回访"):
        actions.request_followup(service_request=service_request, note="again", acting_user=clerk())


def test_an_overdue_request_escalates_once_to_the_parent_union(scope: Scope) -> None:
    service_request = make_request(scope.home)
    ServiceRequest.objects.filter(pk=service_request.pk).update(
        acknowledge_due=dt.date(2026, 1, 5), answer_due=dt.date(2026, 1, 9)
    )
    assert actions.requests_escalate_overdue(today=dt.date(2026, 1, 6)) != []  # not acknowledged in time
    service_request.refresh_from_db()
    assert service_request.escalated_to == scope.root
    assert actions.requests_escalate_overdue() == []  # once only
    parent_officer = make_user("city", perms=["services.view_servicerequest"], organization=scope.root)
    assert list(selectors.overdue_requests(user=parent_officer)) == [service_request]
    other = make_user("other", perms=["services.view_servicerequest"], organization=scope.other)
    assert not selectors.overdue_requests(user=other).exists()
    assert service_request.entries.filter(kind="event", text__contains="督办").exists()


def test_reassign_only_to_a_union(scope: Scope) -> None:
    service_request = make_request(scope.home)
    bureau = make_org("t-hrss", parent=scope.root, kind="hrss_bureau")
    with pytest.raises(ValidationError) as caught:
        actions.request_reassign(service_request=service_request, organization=bureau, acting_user=clerk())
    assert caught.value.message_dict["organization"] == ["只能交由工会办理"]
    actions.request_reassign(service_request=service_request, organization=scope.other, acting_user=clerk())
    assert service_request.organization == scope.other


def test_legal_aid_with_a_roster_lawyer_and_its_milestones(scope: Scope) -> None:
    service_request = make_request(scope.home, category=category("legal_aid"))
    elsewhere = make_lawyer(scope.other, "外区律师")
    with pytest.raises(ValidationError) as caught:
        actions.legal_aid_open(service_request=service_request, lawyer=elsewhere, acting_user=clerk())
    assert "律师库" in caught.value.message_dict["lawyer"][0]
    above = make_lawyer(scope.root, "市总律师")  # a lawyer of the union above may take it
    case = actions.legal_aid_open(service_request=service_request, lawyer=above, acting_user=clerk())
    with pytest.raises(ValidationError, match="已立案"):
        actions.legal_aid_open(service_request=service_request, lawyer=above, acting_user=clerk())
    day = dt.date(2026, 11, 2)
    actions.legal_aid_milestone(case=case, stage="consultation", happened_on=day, acting_user=clerk())
    with pytest.raises(ValidationError):  # the workflow does not go back
        actions.legal_aid_milestone(case=case, stage="consultation", happened_on=day, acting_user=clerk())
    actions.legal_aid_milestone(case=case, stage="arbitration_filed", happened_on=day, acting_user=clerk())
    with pytest.raises(ValidationError) as caught:
        actions.legal_aid_milestone(case=case, stage="closed", happened_on=day, acting_user=clerk())
    assert caught.value.message_dict["outcome"] == ["结案请选择结果"]
    actions.legal_aid_milestone(
        case=case,
        stage="closed",
        happened_on=day,
        outcome="award_upheld",
        note="支持全部请求",
        acting_user=clerk(),
    )
    case = LegalAidCase.objects.get(pk=case.pk)
    assert case.status == "closed" and case.closed_on == day and case.milestones.count() == 3
    policy = make_request(scope.home)
    with pytest.raises(ValidationError, match="法律援助"):
        actions.legal_aid_open(service_request=policy, lawyer=above, acting_user=clerk())


def test_the_knowledge_base_is_searched_and_public_answers_are_shown(scope: Scope) -> None:
    user = clerk()
    actions.knowledge_save(
        organization=scope.root,
        category=category("legal_aid"),
        question="单位拖欠工资怎么办？",
        text="可向劳动保障监察机构投诉，或申请劳动仲裁；工会提供法律援助。",
        keywords="欠薪 工资",
        acting_user=user,
    )
    actions.knowledge_save(
        organization=scope.home,
        category=category("policy"),
        question="内部口径",
        text="仅供坐席参考",
        public=False,
        acting_user=user,
    )
    assert [a.question for a in selectors.public_answers(q="欠薪")] == ["单位拖欠工资怎么办？"]
    assert not selectors.public_answers(q="内部").exists()
    officer = make_user("officer", perms=["services.view_knowledgeanswer"], organization=scope.home)
    assert {a.question for a in selectors.knowledge(user=officer)} == {"单位拖欠工资怎么办？", "内部口径"}
    outsider = make_user("outsider", perms=["services.view_knowledgeanswer"], organization=scope.other)
    assert {a.question for a in selectors.knowledge(user=outsider)} == {"单位拖欠工资怎么办？"}


def test_stations_belong_to_unions_and_the_directory_filters(scope: Scope) -> None:
    station = make_station(scope.home)
    make_station(scope.other, name="大兴职工服务站", district=Region.objects.get(code="110115"))
    bureau = make_org("t-hrss", parent=scope.root, kind="hrss_bureau")
    with pytest.raises(ValidationError):
        make_station(bureau)
    assert list(selectors.public_stations().filter(district__code="110109")) == [station]
    actions.station_update(station=station, active=False, acting_user=clerk())
    assert not selectors.public_stations().filter(pk=station.pk).exists()

"""Issue 12 §4 on the public pages: a wrong check digit is told without inviting a change of the last
digit, a worker who lost the status link finds the application with ID number and phone (the same
answer whether or not it exists), a bad link offers that look-up; and the figures page's charts
say 暂无数据 when empty, each with its table and an Excel download."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse

from xietong.core import actions as core_actions
from xietong.core.testing import Scope, clerk, client_for, make_org, make_user

from .. import actions
from ..models import Member
from .factories import fresh_id_number, submit

pytestmark = pytest.mark.django_db

PHONE = "13900001111"


def _bad_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def _answer(body: bytes) -> str:
    """The page without what differs on every answer (CSRF tokens) and the ID number typed."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body.decode())
    text = re.sub(r'"X-CSRFToken": "[^"]*"', "", text)
    return re.sub(r'name="id_number" value="[^"]*"', "", text)


def test_the_join_form_says_a_digit_is_wrong_without_naming_the_check_digit() -> None:
    union = make_org("t-union", kind="grassroots_union")
    form = {"name": "张伟", "id_number": _bad_check_digit(fresh_id_number()), "phone_number": PHONE,
            "employer_name": "北京测试科技有限公司", "consent": "on"}  # fmt: skip
    page = Client().post(reverse("membership:join", args=[union.code]), form).content.decode()
    assert "有一位填写有误" in page and "逐位核对" in page
    assert "校验码应为" not in page
    # Officer pages keep the detail.
    with pytest.raises(Exception, match="校验码应为"):
        core_actions.parse_id_number(form["id_number"])


def test_a_lost_link_is_found_with_id_number_and_phone() -> None:
    union = make_org("t-union", kind="grassroots_union")
    number = fresh_id_number()
    submit(union, id_number=number, phone_number=PHONE)
    page = Client().post(reverse("membership:join_find"), {"id_number": number, "phone_number": PHONE})
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="application-status"' in body and "待审核" in body and union.name in body


def test_the_look_up_answers_alike_whether_or_not_the_application_exists() -> None:
    union = make_org("t-union", kind="grassroots_union")
    number = fresh_id_number()
    submit(union, id_number=number, phone_number=PHONE)
    url = reverse("membership:join_find")
    wrong_phone = Client().post(url, {"id_number": number, "phone_number": "13512345678"})
    unknown = Client().post(url, {"id_number": fresh_id_number(), "phone_number": "13512345678"})
    assert wrong_phone.status_code == unknown.status_code == 200
    assert _answer(wrong_phone.content) == _answer(unknown.content)
    assert 'data-testid="find-answer"' in wrong_phone.content.decode()
    assert "待审核" not in wrong_phone.content.decode()


def test_a_member_without_an_application_is_found_too(scope: Scope) -> None:
    from xietong.core.tests.factories import make_person

    from ..choices import MemberSource

    number = fresh_id_number()
    person = make_person(scope.home, id_number=number, phone=PHONE)
    member = actions.member_create(
        person=person, organization=scope.home, joined_on=person.created_at.date(),
        source=MemberSource.MANUAL, acting_user=clerk(),
    )  # fmt: skip
    page = Client().post(reverse("membership:join_find"), {"id_number": number, "phone_number": PHONE})
    assert member.number in page.content.decode()


def test_look_ups_are_rate_limited() -> None:
    url = reverse("membership:join_find")
    client = Client()
    codes = [
        client.post(url, {"id_number": fresh_id_number(), "phone_number": PHONE}).status_code
        for _ in range(21)
    ]
    assert codes[0] == 200 and codes[-1] == 429
    number = fresh_id_number()
    per_number = [
        Client(REMOTE_ADDR=f"10.0.1.{n}").post(url, {"id_number": number, "phone_number": PHONE}).status_code
        for n in range(1, 12)
    ]
    assert per_number[-1] == 429


@pytest.mark.parametrize("route", ["membership:join_status", "membership:ecard"])
def test_a_bad_link_offers_the_look_up(route: str) -> None:
    response = Client().get(reverse(route, args=["not-a-real-token"]))
    body = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="link-invalid"' in body and reverse("membership:join_find") in body
    assert "不在您的管理范围内" not in body


def test_charts_without_data_say_so_and_every_chart_has_its_table_and_excel(scope: Scope) -> None:
    from openpyxl import load_workbook

    officer = client_for(make_user("officer", perms=["membership.view_member"], organization=scope.home))
    page = officer.get(reverse("membership:figures")).content.decode()
    assert page.count('data-testid="no-data"') == 2 and "暂无数据" in page
    for key in ("members", "joins", "uses"):
        assert f'data-testid="export-{key}"' in page
    from django.utils import timezone

    from ..actions.figures import figures_recount
    from .factories import make_member

    Member.objects.filter(pk=make_member(scope.home).pk).update(joined_on=timezone.localdate())
    figures_recount(organization_ids=[scope.home.pk])  # the update above bypassed the actions' figures
    page = officer.get(reverse("membership:figures")).content.decode()
    assert 'data-chart="joins-chart"' in page and page.count('data-testid="no-data"') == 1
    download = officer.get(reverse("membership:figures"), {"export": "joins"})
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(download.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("周（起始日）", "入会人数") and rows[1][1] == 1
    assert officer.get(reverse("membership:figures"), {"export": "nope"}).status_code == 404

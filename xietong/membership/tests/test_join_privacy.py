"""The public join form tells nobody whether an ID number belongs to a member or an applicant
(issue 11, defect 4): the same answer whatever the number's state, the outcome only on the status
page to someone who gives the phone number on record, and rate limits on submissions, status
look-ups and sign-ins."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from xietong.core import pii
from xietong.core.models import Organization
from xietong.core.testing import make_org, make_user

from .factories import fresh_id_number, make_member, submit

pytestmark = pytest.mark.django_db

PHONE = "13900001111"
_RECEIPT = re.compile(r"/join/status/([^/\"'<\s]+)/")


def _form(id_number: str, phone: str = PHONE) -> dict[str, str]:
    return {
        "name": "张伟",
        "id_number": id_number,
        "phone_number": phone,
        "employer_name": "北京测试科技有限公司",
        "consent": "on",
    }


def _union() -> Organization:
    return make_org("t-union", kind="grassroots_union")


def _normalised(body: bytes) -> str:
    """The page without what differs on every answer: CSRF tokens and the per-application link."""
    text = body.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    text = re.sub(r'"X-CSRFToken": "[^"]*"', "", text)
    text = _RECEIPT.sub("/join/status/RECEIPT/", text)
    return re.sub(r'data-testid="receipt-code">[^<]*<', 'data-testid="receipt-code"><', text)


def _receipt(body: bytes) -> str:
    found = _RECEIPT.search(body.decode())
    assert found, "the answer gives a status link"
    return found.group(1)


def test_the_answer_is_the_same_for_an_unknown_number_a_member_and_an_applicant() -> None:
    union = _union()
    member = make_member(union)
    member_number = pii.decrypt(member.person.id_number_cipher, field="id_number")
    pending = fresh_id_number()
    submit(union, id_number=pending)
    url = reverse("membership:join", args=[union.code])
    answers = [Client().post(url, _form(number)) for number in (fresh_id_number(), member_number, pending)]
    assert {response.status_code for response in answers} == {200}
    bodies = {_normalised(response.content) for response in answers}
    assert len(bodies) == 1, "the answer must not depend on the number's state"
    body = bodies.pop()
    assert "已收到" in body
    for telling in ("已是本工会会员", "已提交过入会申请", "待审核"):
        assert telling not in body


def test_the_status_page_tells_the_outcome_only_with_the_phone_on_record() -> None:
    union = _union()
    member = make_member(union)
    member_number = pii.decrypt(member.person.id_number_cipher, field="id_number")
    member_phone = pii.decrypt(member.person.phone_cipher, field="phone")
    pending = fresh_id_number()
    submit(union, id_number=pending, phone_number=PHONE)
    url = reverse("membership:join", args=[union.code])
    as_member = _receipt(Client().post(url, _form(member_number, phone="13700002222")).content)
    as_duplicate = _receipt(Client().post(url, _form(pending, phone="13700002222")).content)
    as_new = _receipt(Client().post(url, _form(fresh_id_number())).content)

    def look_up(token: str, phone: str) -> str:
        status_url = reverse("membership:join_status", args=[token])
        first = Client().get(status_url)
        assert first.status_code == 200 and "手机号码" in first.content.decode()
        for telling in ("您已是会员", "待审核", "已通过"):
            assert telling not in first.content.decode()
        return _normalised(Client().post(status_url, {"phone_number": phone}).content)

    wrong = {look_up(token, "13512345678") for token in (as_member, as_duplicate, as_new)}
    assert len(wrong) == 1, "a wrong phone number learns nothing, whatever the state"
    assert "待审核" not in wrong.pop()
    assert "您已是会员" in look_up(as_member, member_phone)
    assert "待审核" in look_up(as_duplicate, PHONE)
    assert "待审核" in look_up(as_new, PHONE)


def test_the_31st_submission_from_one_address_is_refused_with_429() -> None:
    union = _union()
    url = reverse("membership:join", args=[union.code])
    client = Client()
    for _ in range(30):
        assert client.post(url, _form(fresh_id_number())).status_code == 200
    refused = client.post(url, _form(fresh_id_number()))
    assert refused.status_code == 429
    assert "请求过于频繁" in refused.content.decode()


def test_submissions_for_one_id_number_are_limited_from_any_address(settings: object) -> None:
    union = _union()
    url = reverse("membership:join", args=[union.code])
    number = fresh_id_number()
    codes = [Client(REMOTE_ADDR=f"10.0.0.{n}").post(url, _form(number)).status_code for n in range(1, 12)]
    assert codes[0] == 200 and codes[-1] == 429


def test_status_look_ups_are_limited() -> None:
    union = _union()
    application = submit(union)
    status_url = reverse("membership:join_status", args=[application.access_token])
    client = Client()
    codes = [client.post(status_url, {"phone_number": "13512345678"}).status_code for _ in range(31)]
    assert codes[0] == 200 and codes[-1] == 429


def test_sign_ins_from_one_address_are_limited() -> None:
    make_user("someone")
    client = Client()
    url = reverse("login")
    codes = [
        client.post(url, {"username": f"user{n}", "password": "wrong-password"}).status_code
        for n in range(31)
    ]
    assert codes[0] == 200 and codes[-1] == 429
    assert "请求过于频繁" in client.post(url, {"username": "x", "password": "y"}).content.decode()


def test_an_approved_worker_reaches_the_e_card_through_an_old_link_with_the_phone(scope: object) -> None:
    from xietong.membership import actions

    union = _union()
    application = submit(union, phone_number=PHONE)
    actions.join_application_approve(application=application, acting_user=make_user("officer"))
    status_url = reverse("membership:join_status", args=[application.access_token])
    assert "打开会员电子卡" not in Client().get(status_url).content.decode()
    shown = Client().post(status_url, {"phone_number": PHONE}).content.decode()
    assert "已通过" in shown and reverse("membership:ecard", args=[application.access_token]) in shown


def test_migrate_creates_the_rate_limit_cache_table(settings: object) -> None:
    from django.core.cache import caches

    from xietong.core.ratelimit import create_cache_table

    settings.CACHES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t_rate"},
    }
    create_cache_table(using="default")
    cache = caches["ratelimit"]
    cache.add("k", 0, timeout=60)
    assert cache.incr("k") == 1

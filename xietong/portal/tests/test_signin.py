"""Issue 14 §4: members sign in with their phone and a one-time code sent by SMS. Codes expire,
tries and sends are limited, an unknown number gets the same answer as a member's, and the portal
session is not a staff sign-in."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xietong.core.testing import Scope, client_for, make_user

from .. import sms
from ..models import SignInCode
from .conftest import ask_code, last_code, member_with_phone, signed_in

pytestmark = pytest.mark.django_db

PHONE = "13911112222"


def _ask_code(client: Client, phone: str) -> Any:
    return ask_code(client, phone, follow=True)


def test_a_member_signs_in_with_the_code_from_the_sms_file(scope: Scope, outbox: Path) -> None:
    member_with_phone(scope.home, PHONE, name="李娜")
    client = signed_in(outbox, PHONE)
    page = client.get(reverse("portal:home")).content.decode()
    assert "李娜" in page and "portal-tabs" in page
    # The code is spent: it does not sign in a second time.
    again = Client()
    _ask_code(again, PHONE)
    SignInCode.objects.update(used_at=timezone.now())
    answer = again.post(reverse("portal:code"), {"phone": PHONE, "code": last_code(outbox, PHONE)})
    assert answer.status_code == 200 and "验证码错误或已失效" in answer.content.decode()


def test_an_unknown_number_gets_the_same_page_and_no_sms(scope: Scope, outbox: Path) -> None:
    member_with_phone(scope.home, PHONE)
    known, unknown = Client(), Client()
    known_page = _ask_code(known, PHONE)
    unknown_page = _ask_code(unknown, "13700009999")
    assert known_page.redirect_chain == unknown_page.redirect_chain
    strip = lambda page: page.content.decode().replace("139****2222", "X").replace("137****9999", "X")  # noqa: E731
    import re

    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')
    assert token.sub("", strip(known_page)) == token.sub("", strip(unknown_page))
    assert "13700009999" not in outbox.read_text(encoding="utf-8")
    refused = unknown.post(reverse("portal:code"), {"phone": "13700009999", "code": "123456"})
    wrong = known.post(
        reverse("portal:code"),
        {"phone": PHONE, "code": "000000" if last_code(outbox, PHONE) != "000000" else "111111"},
    )
    assert "验证码错误或已失效" in refused.content.decode() and "验证码错误或已失效" in wrong.content.decode()


def test_an_expired_code_is_refused(scope: Scope, outbox: Path) -> None:
    member_with_phone(scope.home, PHONE)
    client = Client()
    _ask_code(client, PHONE)
    SignInCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    answer = client.post(reverse("portal:code"), {"phone": PHONE, "code": last_code(outbox, PHONE)})
    assert "验证码错误或已失效" in answer.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302


def test_a_code_is_spent_after_five_wrong_tries(scope: Scope, outbox: Path) -> None:
    member_with_phone(scope.home, PHONE)
    client = Client()
    _ask_code(client, PHONE)
    right = last_code(outbox, PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for _try in range(5):
        client.post(reverse("portal:code"), {"phone": PHONE, "code": wrong})
    assert SignInCode.objects.get().attempts == 5
    answer = client.post(reverse("portal:code"), {"phone": PHONE, "code": right})
    assert "验证码错误或已失效" in answer.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302


def test_sends_and_tries_are_rate_limited_for_every_number(scope: Scope, outbox: Path) -> None:
    member_with_phone(scope.home, PHONE)
    client = Client()
    answers = [client.post(reverse("portal:signin"), {"phone": PHONE}).status_code for _i in range(6)]
    assert answers == [302] * 5 + [429]
    unknown = [
        Client().post(reverse("portal:signin"), {"phone": "13700009999"}).status_code for _i in range(6)
    ]
    assert unknown == [302] * 5 + [429]  # the same limit for a number that is not a member's
    tries = [
        client.post(reverse("portal:code"), {"phone": PHONE, "code": "999999"}).status_code
        for _i in range(11)
    ]
    assert tries[-1] == 429 and tries[0] == 200


def test_a_malformed_number_is_refused_in_chinese(scope: Scope) -> None:
    answer = Client().post(reverse("portal:signin"), {"phone": "12"})
    assert answer.status_code == 200 and "手机号" in answer.content.decode()


def test_the_portal_session_is_not_a_staff_sign_in(scope: Scope, outbox: Path) -> None:
    member_with_phone(scope.home, PHONE)
    client = signed_in(outbox, PHONE)
    staff_page = client.get(reverse("services:request_list"))
    assert staff_page.status_code == 302 and "/accounts/login/" in staff_page["Location"]
    assert client.get(reverse("core:home")).status_code == 302
    # A staff account is not a portal session either.
    officer = client_for(
        make_user("officer", perms=["services.view_servicerequest"], organization=scope.root)
    )
    assert officer.get(reverse("portal:home")).status_code == 302


def test_signing_out_ends_the_portal_session(scope: Scope, outbox: Path) -> None:
    member_with_phone(scope.home, PHONE)
    client = signed_in(outbox, PHONE)
    client.post(reverse("portal:signout"))
    assert client.get(reverse("portal:card")).status_code == 302


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append({"auth": self.headers["Authorization"], **json.loads(body)})
        self.send_response(500 if "fail" in self.path else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_the_http_gateway_backend_posts_to_the_configured_url(settings: Any) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/send"
        settings.XIETONG_SMS_BACKEND = "xietong.portal.sms.HttpSender"
        settings.XIETONG_SMS_URL, settings.XIETONG_SMS_KEY = url, "gateway-key"
        sms.send(phone=PHONE, text="验证码为123456")
        assert _Gateway.received[-1] == {
            "auth": "Bearer gateway-key",
            "phone": PHONE,
            "text": f"{settings.XIETONG_SMS_SIGNATURE}验证码为123456",
        }
        with pytest.raises(sms.SmsError, match="HTTP 500"):
            sms.HttpSender(url=url + "/fail").send(phone=PHONE, text="x")
    finally:
        server.shutdown()
    with pytest.raises(sms.SmsError, match="XIETONG_SMS_URL"):
        sms.HttpSender(url="")

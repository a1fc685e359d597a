"""Signing in: argon2 hashes in production settings, lock-out after five wrong passwords."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from xietong.core.testing import make_user

pytestmark = pytest.mark.django_db


def test_production_hashes_passwords_with_argon2() -> None:
    from xietong.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_five_wrong_passwords_lock_the_account(scope: object) -> None:
    make_user("locked", organization=None)
    client = Client()
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "locked", "password": "wrong"})
        assert response.status_code == 200
        assert "请输入一个正确的" in response.content.decode() or "正确" in response.content.decode()
    response = client.post(url, {"username": "locked", "password": "wrong"})
    assert "账号已锁定" in response.content.decode()
    # Even the right password is refused while locked.
    response = client.post(url, {"username": "locked", "password": "x-test-password-1"})
    assert "账号已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_right_password_signs_in_and_lands_on_home() -> None:
    make_user("ok")
    client = Client()
    response = client.post(reverse("login"), {"username": "ok", "password": "x-test-password-1"})
    assert response.status_code == 302 and response["Location"] == reverse("core:home")


def test_interface_is_chinese_by_default_and_english_on_request() -> None:
    client = Client()
    assert "登录协同平台" in client.get(reverse("login")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Sign in" in client.get(reverse("login")).content.decode()

"""A locked-out or deactivated account stops working everywhere at once (issue 11, defect 7), and
the API description is for signed-in accounts only (defect 9)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from xietong.core import actions
from xietong.core.api.authentication import forget_tokens
from xietong.core.models import User
from xietong.core.testing import Scope, make_user

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": "x-test-password-1"})
    assert response.status_code == 302
    return client


def token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_deactivation_stops_tokens_and_sessions(scope: Scope) -> None:
    forget_tokens()
    user = make_user("worker", perms=["core.view_organization"], organization=scope.home)
    admin = make_user("admin", perms=["core.manage_accounts"], organization=scope.root)
    session = signed_in("worker")
    api = token_client(user)
    assert api.get(reverse("organization-list")).status_code == 200
    assert session.get(reverse("core:home")).status_code == 200
    actions.user_set_active(user=user, active=False, acting_user=admin)
    assert api.get(reverse("organization-list")).status_code in (401, 403)
    assert session.get(reverse("core:home")).status_code == 302
    assert not Token.objects.filter(user=user).exists()


def test_lock_out_stops_tokens_and_sessions(scope: Scope) -> None:
    forget_tokens()
    user = make_user("worker", perms=["core.view_organization"], organization=scope.home)
    session = signed_in("worker")
    api = token_client(user)
    assert api.get(reverse("organization-list")).status_code == 200
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(reverse("login"), {"username": "worker", "password": "wrong"})
    assert api.get(reverse("organization-list")).status_code in (401, 403)
    assert session.get(reverse("core:home")).status_code == 302


def test_the_api_description_needs_sign_in(scope: Scope) -> None:
    anonymous = Client()
    assert anonymous.get(reverse("schema")).status_code in (401, 403)
    assert anonymous.get(reverse("swagger-ui")).status_code in (302, 401, 403)
    client = Client()
    client.force_login(make_user("t", organization=scope.home))
    assert client.get(reverse("schema")).status_code == 200
    assert client.get(reverse("swagger-ui")).status_code == 200

"""The REST API: masked data, audited look-up and reveal, Chinese validation errors, token auth, schema."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from xietong.core.models import AuditEvent, Person, User
from xietong.core.testing import Scope, make_user

from .factories import make_person, valid_id_number

pytestmark = pytest.mark.django_db


def api_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_people_are_masked_and_looked_up_by_id_number(scope: Scope) -> None:
    number = valid_id_number(sequence=400)
    person = make_person(scope.home, id_number=number)
    client = api_for(make_user("u", perms=["core.view_person"], organization=scope.home))
    listing = client.get(reverse("person-list")).json()
    assert listing["results"][0]["id_number"] == person.id_number_masked
    assert number not in str(listing)
    found = client.get(reverse("person-list"), {"id_number": number}).json()
    assert [row["id"] for row in found["results"]] == [person.pk]
    assert AuditEvent.objects.filter(action="lookup").count() == 1


def test_reveal_needs_the_permission_and_is_audited(scope: Scope) -> None:
    number = valid_id_number(sequence=401)
    person = make_person(scope.home, id_number=number)
    url = reverse("person-reveal", args=[person.pk])
    viewer = api_for(make_user("v", perms=["core.view_person"], organization=scope.home))
    assert viewer.post(url).status_code == 403
    officer = api_for(
        make_user("o", perms=["core.view_person", "core.reveal_person"], organization=scope.home)
    )
    assert officer.post(url).json()["id_number"] == number
    outsider = api_for(
        make_user("x", perms=["core.view_person", "core.reveal_person"], organization=scope.other)
    )
    assert outsider.post(url).status_code == 404
    assert AuditEvent.objects.filter(action="reveal").count() == 1


def test_create_person_explains_errors_in_chinese(scope: Scope) -> None:
    client = api_for(make_user("o", perms=["core.view_person", "core.add_person"], organization=scope.home))
    response = client.post(
        reverse("person-list"),
        {"name": "赵敏", "id_number": "110101198503071234", "organization": scope.home.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "校验码" in response.json()["id_number"][0]
    assert Person.objects.count() == 0
    response = client.post(
        reverse("person-list"),
        {"name": "赵敏", "id_number": valid_id_number(sequence=402), "organization": scope.other.pk},
        format="json",
    )
    assert response.status_code == 400 and "organization" in response.json()
    response = client.post(
        reverse("person-list"),
        {"name": "赵敏", "id_number": valid_id_number(sequence=402), "organization": scope.home.pk},
        format="json",
    )
    assert response.status_code == 201 and response.json()["id_number"].count("*") == 8


def test_employer_credit_code_is_validated(scope: Scope) -> None:
    client = api_for(
        make_user("o", perms=["core.view_employer", "core.add_employer"], organization=scope.home)
    )
    response = client.post(
        reverse("employer-list"),
        {"name": "坏代码公司", "credit_code": "123", "region": "110101", "organization": scope.home.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "统一社会信用代码" in str(response.json()) or "18" in str(response.json())


def test_token_authentication(scope: Scope) -> None:
    user = make_user("t", perms=["core.view_organization"], organization=scope.home)
    token = Token.objects.create(user=user)
    client = APIClient()
    assert client.get(reverse("organization-list")).status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    names = [row["name"] for row in client.get(reverse("organization-list")).json()["results"]]
    assert names == [scope.home.name]


def test_schema_and_offline_swagger(scope: Scope) -> None:
    client = api_for(make_user("t", organization=scope.home))
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/people/{id}/reveal/" in schema["paths"]
    page = client.get(reverse("swagger-ui")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


def test_the_openapi_schema_is_valid_and_generated_without_warnings(tmp_path: Any) -> None:
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text(encoding="utf-8")
    assert "/api/exchange/transfers/{id}/answer/" in schema and "deskTokenAuth" in schema

"""Bad input answers 4xx with a Chinese reason, never 500 (issue 11, defects 5 and 6)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from xietong.core.models import AuditEvent, Employer, Person, User
from xietong.core.testing import Scope, client_for, make_user

from .factories import EmployerFactory, make_person

pytestmark = pytest.mark.django_db


def api_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_malformed_primary_key_is_not_found(scope: Scope) -> None:
    user = make_user(
        "o", perms=["core.view_person", "core.reveal_person", "core.view_employer"], organization=scope.home
    )
    api = api_for(user)
    assert api.post("/api/people/abc/reveal/").status_code == 404
    assert api.get("/api/people/abc/").status_code == 404
    assert api.get("/api/employers/abc/").status_code == 404


def test_tags_null_in_a_form_body_is_refused(scope: Scope) -> None:
    employer = EmployerFactory.create(organization=scope.home)
    api = api_for(
        make_user("o", perms=["core.view_employer", "core.change_employer"], organization=scope.home)
    )
    response = api.patch(reverse("employer-detail", args=[employer.pk]), {"tags": "null"}, format="multipart")
    assert response.status_code in (200, 400)  # a tag spelt "null", or refused: never a 500
    employer.refresh_from_db()
    assert isinstance(employer.tags, list)
    response = api.patch(reverse("employer-detail", args=[employer.pk]), {"tags": None}, format="json")
    assert response.status_code == 400
    response = api.patch(reverse("employer-detail", args=[employer.pk]), {"tags": ["重点"]}, format="json")
    assert response.status_code == 200 and response.json()["tags"] == ["重点"]


def test_control_characters_are_refused_in_text_fields(scope: Scope) -> None:
    user = make_user(
        "o",
        perms=["core.view_employer", "core.add_employer", "core.view_person", "core.add_person"],
        organization=scope.home,
    )
    api = api_for(user)
    response = api.post(
        reverse("employer-list"),
        {"name": "坏\x0b名字公司", "region": "110101", "organization": scope.home.pk},
        format="json",
    )
    assert response.status_code == 400 and "控制字符" in str(response.json())
    page = client_for(user).post(
        reverse("core:employer_create"), {"name": "坏\x0b名字公司", "organization": scope.home.pk}
    )
    assert page.status_code == 200 and "控制字符" in page.content.decode()
    from .factories import valid_id_number

    response = api.post(
        reverse("person-list"),
        {"name": "王\x0b芳", "id_number": valid_id_number(sequence=9), "organization": scope.home.pk},
        format="json",
    )
    assert response.status_code == 400 and "控制字符" in str(response.json())
    assert not Employer.objects.exists() and not Person.objects.exists()


def test_exports_never_fail_on_stored_text(scope: Scope) -> None:
    person = make_person(scope.home)
    Person.objects.filter(pk=person.pk).update(name="王\x0b芳")  # stored before the validator existed
    AuditEvent.objects.filter(target_id=str(person.pk)).update(target_repr="王\x0b芳")
    client = client_for(
        make_user("o", perms=["core.view_person", "core.view_auditevent"], organization=scope.home)
    )
    assert client.get(reverse("core:person_list"), {"export": "xlsx"}).status_code == 200
    assert client.get(reverse("core:audit_list"), {"export": "xlsx"}).status_code == 200


def test_an_organisation_outside_scope_answers_like_a_missing_one(scope: Scope) -> None:
    api = api_for(make_user("o", perms=["core.view_employer", "core.add_employer"], organization=scope.home))
    body = {"name": "外部公司", "region": "110101"}
    outside = api.post(reverse("employer-list"), {**body, "organization": scope.other.pk}, format="json")
    missing = api.post(reverse("employer-list"), {**body, "organization": 999_999}, format="json")
    assert outside.status_code == missing.status_code == 400
    assert list(outside.json()) == list(missing.json()) == ["organization"]
    assert str(outside.json()["organization"]).replace(str(scope.other.pk), "N") == str(
        missing.json()["organization"]
    ).replace("999999", "N")


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/exchange/certification/findings/", "run"),
        ("/api/organizations/", "parent"),
        ("/api/employers/", "organization"),
        ("/api/people/", "organization"),
    ],
)
@pytest.mark.parametrize("value", ["835159225266868315306424532992", "-1", "1.5"])
def test_an_id_filter_out_of_range_is_refused(scope: Scope, url: str, parameter: str, value: str) -> None:
    """A row id in a list's filter beyond the database's integers answered 500 (found by the
    schemathesis run, issue 15 §6): it is a 400 naming the parameter."""
    staff = User.objects.create_superuser("staff", password=None)
    response = api_for(staff).get(url, {parameter: value})
    assert response.status_code == 400, response.content
    assert parameter in response.json()

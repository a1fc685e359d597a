"""Every staff page and API endpoint of the core app, checked by the generic scoping tests."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from xietong.core.models import AuditEvent, Organization, Person, Role, User
from xietong.core.testing import (
    Scope,
    ScopedObjectViewTests,
    client_for,
    covers,
    grant,
    make_org,
    make_user,
)

from .factories import EmployerFactory, make_person, valid_id_number

pytestmark = pytest.mark.django_db


class TestOrganizationViews(ScopedObjectViewTests):
    model = Organization
    list_url_name = "core:organization_tree"
    detail_url_name = "core:organization_detail"
    api_list_url_name = "organization-list"
    api_detail_url_name = "organization-detail"

    def make_object(self, organization: Organization) -> Organization:
        return make_org("t-child", parent=organization, kind="grassroots_union")


class TestEmployerViews(ScopedObjectViewTests):
    model = EmployerFactory._meta.model
    list_url_name = "core:employer_list"
    detail_url_name = "core:employer_detail"
    api_list_url_name = "employer-list"
    api_detail_url_name = "employer-detail"
    post_url_names = ("core:employer_edit",)
    api_actions = (("employer-detail", "patch"),)
    change_permissions = ("core.change_employer",)

    def make_object(self, organization: Organization) -> Any:
        return EmployerFactory(organization=organization)


class TestPersonViews(ScopedObjectViewTests):
    model = Person
    list_url_name = "core:person_list"
    detail_url_name = "core:person_detail"
    api_list_url_name = "person-list"
    api_detail_url_name = "person-detail"
    post_url_names = ("core:person_reveal",)
    api_actions = (("person-reveal", "post"),)
    change_permissions = ("core.reveal_person",)

    def make_object(self, organization: Organization) -> Person:
        return make_person(organization)


class TestAuditViews(ScopedObjectViewTests):
    model = AuditEvent
    list_url_name = "core:audit_list"

    def make_object(self, organization: Organization) -> AuditEvent:
        make_person(organization)
        return AuditEvent.objects.filter(organization=organization).latest("pk")


@covers("core:user_revoke")  # a POST with a second argument: see ``post_urls``
class TestAccountViews(ScopedObjectViewTests):
    model = User
    list_url_name = "core:user_list"
    detail_url_name = "core:user_detail"
    view_permission = "core.manage_accounts"
    post_url_names = ("core:user_detail", "core:user_toggle_active")
    change_permissions = ("core.manage_accounts",)

    def make_object(self, organization: Organization) -> User:
        account = User.objects.create_user(
            username="someone", password="x-test-password-1", organization=organization
        )
        grant(account, ["core.view_person"], organization)
        return account

    def post_urls(self, obj: User) -> list[str]:
        assignment = obj.role_assignments.get()
        return [*super().post_urls(obj), reverse("core:user_revoke", args=[obj.pk, assignment.pk])]


def test_person_detail_is_masked_and_reveal_needs_permission(scope: Scope) -> None:
    number = valid_id_number(sequence=123)
    person = make_person(scope.home, id_number=number)
    viewer = client_for(make_user("viewer", perms=["core.view_person"], organization=scope.home))
    page = viewer.get(reverse("core:person_detail", args=[person.pk])).content.decode()
    assert person.id_number_masked in page and number not in page
    assert 'data-testid="reveal"' not in page
    assert viewer.post(reverse("core:person_reveal", args=[person.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="reveal").exists()

    officer = client_for(
        make_user("officer", perms=["core.view_person", "core.reveal_person"], organization=scope.home)
    )
    response = officer.post(reverse("core:person_reveal", args=[person.pk]), HTTP_HX_REQUEST="true")
    assert number in response.content.decode()
    assert AuditEvent.objects.get(action="reveal").actor_username == "officer"


def test_lookup_finds_in_scope_and_audits_misses(scope: Scope) -> None:
    number = valid_id_number(sequence=321)
    person = make_person(scope.home, id_number=number)
    insider = client_for(make_user("insider", perms=["core.view_person"], organization=scope.home))
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    response = insider.get(reverse("core:person_lookup"), {"id_number": spaced})
    assert response.status_code == 302 and response["Location"] == reverse(
        "core:person_detail", args=[person.pk]
    )

    outsider = client_for(make_user("outsider", perms=["core.view_person"], organization=scope.other))
    response = outsider.get(reverse("core:person_lookup"), {"id_number": number})
    assert "管理范围内没有" in response.content.decode()
    assert AuditEvent.objects.filter(action="lookup").count() == 2


def test_lookup_explains_a_bad_number(scope: Scope) -> None:
    client = client_for(make_user("insider", perms=["core.view_person"], organization=scope.home))
    body = client.get(reverse("core:person_lookup"), {"id_number": "11010119850307"}).content.decode()
    assert "身份证号码应为18位" in body


def test_person_form_shows_field_errors_and_saves_nothing(scope: Scope) -> None:
    client = client_for(
        make_user("officer", perms=["core.view_person", "core.add_person"], organization=scope.home)
    )
    number = valid_id_number(sequence=55)
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    response = client.post(
        reverse("core:person_create"), {"name": "王芳", "id_number": bad, "organization": scope.home.pk}
    )
    assert response.status_code == 200
    assert "校验码" in response.content.decode()
    assert Person.objects.count() == 0
    response = client.post(
        reverse("core:person_create"), {"name": "王芳", "id_number": number, "organization": scope.home.pk}
    )
    assert response.status_code == 302
    # Registering under an organisation outside the scope is not offered.
    response = client.post(
        reverse("core:person_create"),
        {"name": "王芳", "id_number": valid_id_number(sequence=56), "organization": scope.other.pk},
    )
    assert "organization" in response.context["form"].errors


def test_employer_form_rejects_a_bad_credit_code(scope: Scope) -> None:
    client = client_for(
        make_user("officer", perms=["core.view_employer", "core.add_employer"], organization=scope.home)
    )
    response = client.post(
        reverse("core:employer_create"),
        {"name": "测试有限公司", "credit_code": "91110000600037341Y", "organization": scope.home.pk},
    )
    assert response.status_code == 200
    assert "统一社会信用代码" in response.content.decode()


def test_excel_export_is_masked_and_audited(scope: Scope) -> None:
    number = valid_id_number(sequence=77)
    make_person(scope.home, id_number=number, name="=cmd|' /C calc'!A0")
    client = client_for(make_user("officer", perms=["core.view_person"], organization=scope.home))
    response = client.get(reverse("core:person_list"), {"export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "姓名"
    assert rows[1][0].startswith("'=")  # no formula injection
    assert number not in str(rows) and number[:6] + "********" + number[-4:] in str(rows)
    assert AuditEvent.objects.filter(action="export").exists()


def test_tree_search_keeps_the_path_to_matches(scope: Scope) -> None:
    leaf = make_org("t-leaf", parent=scope.home, kind="grassroots_union")
    leaf.name = "中关村科学城总工会"
    leaf.save()
    client = client_for(make_user("officer", perms=["core.view_organization"], organization=scope.root))
    body = client.get(
        reverse("core:organization_tree"), {"q": "中關村"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "中关村科学城总工会" in body and scope.home.name in body and scope.other.name not in body


def test_account_admin_grants_and_revokes_roles(scope: Scope) -> None:
    from xietong.core import actions

    actions.roles_sync()
    from xietong.core.models import RoleAssignment

    account_admin = make_user("admin", organization=scope.root)
    RoleAssignment.objects.create(
        user=account_admin, role=Role.objects.get(code="account_admin"), organization=scope.root
    )
    admin = client_for(account_admin)
    response = admin.post(
        reverse("core:user_create"),
        {
            "username": "newbie",
            "display_name": "新人",
            "password": "Long-enough-pass-9",
            "organization": scope.home.pk,
        },
    )
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")

    role = Role.objects.get(code="union_clerk")
    admin.post(
        reverse("core:user_detail", args=[newbie.pk]), {"role": role.pk, "organization": scope.home.pk}
    )
    assert newbie.has_perm("core.view_person")
    assignment = newbie.role_assignments.get()
    admin.post(reverse("core:user_revoke", args=[newbie.pk, assignment.pk]))
    assert not User.objects.get(pk=newbie.pk).has_perm("core.view_person")
    # Only node-wide administrators may grant node-wide roles.
    response = admin.post(
        reverse("core:user_detail", args=[newbie.pk]), {"role": role.pk, "organization": ""}
    )
    assert "只有节点管理员" in response.content.decode()


@pytest.mark.parametrize(
    ("url_name", "permission"),
    [
        ("core:employer_create", "core.add_employer"),
        ("core:person_create", "core.add_person"),
        ("core:person_lookup", "core.view_person"),
        ("core:user_create", "core.manage_accounts"),
        ("core:home", None),
    ],
)
def test_form_pages_need_their_permission(scope: Scope, url_name: str, permission: str | None) -> None:
    url = reverse(url_name)
    assert client_for(make_user("nobody", organization=scope.home)).get(url).status_code == (
        200 if permission is None else 403
    )
    if permission:
        allowed = client_for(make_user("allowed", perms=[permission], organization=scope.home))
        assert allowed.get(url).status_code == 200


def test_editing_an_employer_outside_the_scope_is_not_found(scope: Scope) -> None:
    employer = EmployerFactory.create(organization=scope.home)
    url = reverse("core:employer_edit", args=[employer.pk])
    outsider = client_for(make_user("outsider", perms=["core.change_employer"], organization=scope.other))
    assert outsider.get(url).status_code == 404
    insider = client_for(make_user("insider", perms=["core.change_employer"], organization=scope.home))
    assert insider.get(url).status_code == 200
    viewer = client_for(make_user("viewer", perms=["core.view_employer"], organization=scope.home))
    assert viewer.get(url).status_code == 403


def test_healthz_answers_without_an_account() -> None:
    from django.test import Client

    response = Client().get(reverse("core:healthz"))
    assert response.status_code == 200 and response.json()["status"] == "ok"

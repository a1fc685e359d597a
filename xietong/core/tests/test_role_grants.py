"""Who may grant which role (issue 11, defect 2): nobody touches their own roles, an account
administrator grants only the roles its own role may grant, only within its scope; refusals are
explained in Chinese and audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xietong.core import actions, selectors
from xietong.core.models import AuditEvent, Organization, Role, RoleAssignment, User
from xietong.core.testing import Scope, client_for, make_user

from .factories import make_person

pytestmark = pytest.mark.django_db


def holder(username: str, role_code: str, organization: Organization | None) -> User:
    """An account holding one of the default roles at ``organization``."""
    user = User.objects.create_user(
        username=username, password="x-test-password-1", organization=organization
    )
    RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role_code), organization=organization)
    return user


@pytest.fixture
def roles(db: object) -> None:
    actions.roles_sync()


def test_an_account_admin_cannot_grant_itself_a_role(scope: Scope, roles: None) -> None:
    admin = holder("accounts_bj", "account_admin", scope.root)
    person = make_person(scope.home)
    client = client_for(admin)
    officer = Role.objects.get(code="union_officer")
    response = client.post(
        reverse("core:user_detail", args=[admin.pk]), {"role": officer.pk, "organization": scope.root.pk}
    )
    assert response.status_code == 200
    assert "不能授予、修改或撤销自己的角色" in response.content.decode()
    assert not admin.role_assignments.filter(role=officer).exists()
    assert AuditEvent.objects.filter(action="denied", actor=admin).exists()
    assert client.post(reverse("person-reveal", args=[person.pk])).status_code == 403


def test_an_account_admin_cannot_grant_node_admin_nor_revoke_its_own(scope: Scope, roles: None) -> None:
    admin = holder("accounts_bj", "account_admin", scope.root)
    other = User.objects.create_user(username="clerk", password="x-test-password-1", organization=scope.home)
    client = client_for(admin)
    node_admin = Role.objects.get(code="node_admin")
    response = client.post(
        reverse("core:user_detail", args=[other.pk]), {"role": node_admin.pk, "organization": scope.root.pk}
    )
    assert "不能授予" in response.content.decode()
    assert not other.role_assignments.exists()
    # Its own assignment cannot be revoked (nor changed) by itself either.
    own = admin.role_assignments.get()
    client.post(reverse("core:user_revoke", args=[admin.pk, own.pk]))
    assert admin.role_assignments.filter(pk=own.pk).exists()
    # Granting itself node_admin is refused too, so the exchange operator page stays closed.
    client.post(
        reverse("core:user_detail", args=[admin.pk]), {"role": node_admin.pk, "organization": scope.root.pk}
    )
    assert AuditEvent.objects.filter(action="denied", actor=admin).count() == 3
    assert client.get(reverse("exchange:operations")).status_code == 403


def test_an_account_admin_grants_its_grantable_roles_within_scope(scope: Scope, roles: None) -> None:
    admin = holder("accounts_home", "account_admin", scope.home)
    other = User.objects.create_user(username="clerk", password="x-test-password-1", organization=scope.home)
    client = client_for(admin)
    clerk = Role.objects.get(code="union_clerk")
    assert set(selectors.grantable_roles(user=admin).values_list("code", flat=True)) == {
        "union_officer",
        "union_clerk",
        "service_point",
        "service_officer",
        "hotline_operator",
        "station_staff",
        "auditor",
    }
    client.post(
        reverse("core:user_detail", args=[other.pk]), {"role": clerk.pk, "organization": scope.home.pk}
    )
    assert other.role_assignments.filter(role=clerk, organization=scope.home).exists()
    # Outside its scope: refused in the action as well (the form offers only its scope).
    with pytest.raises(Exception, match="管理范围"):
        actions.role_grant(user=other, role=clerk, organization=scope.other, acting_user=admin)


def test_node_admin_grants_everything_but_node_admin(roles: None) -> None:
    node_admin = holder("root_admin", "node_admin", None)
    codes = set(selectors.grantable_roles(user=node_admin).values_list("code", flat=True))
    assert "node_admin" not in codes and {"account_admin", "hrss_officer", "union_officer"} <= codes


def test_the_role_grant_form_offers_only_grantable_roles(scope: Scope, roles: None) -> None:
    admin = holder("accounts_home", "account_admin", scope.home)
    other = make_user("clerk", organization=scope.home)
    page = client_for(admin).get(reverse("core:user_detail", args=[other.pk])).content.decode()
    assert "工会干部" in page and "节点管理员" not in page

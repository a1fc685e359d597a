"""Generic test classes (ARCHITECTURE.md §3.7, after NetBox's ``ViewTestCases``).

An app's test declares its model, its URLs and how to make one object at a given organisation;
the base class then checks every page and endpoint the same way: anonymous → login, no permission
→ 403, permission in the object's subtree → 200 and listed, permission only in another
organisation's subtree → 404 and not listed.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from .models import Organization, Region, Role, RoleAssignment, User
from .permissions import forget


def make_org(
    code: str, *, parent: Organization | None = None, kind: str = "federation", region: str = "110101"
) -> Organization:
    """An organisation for tests (saved, with its tree path)."""
    org = Organization(
        code=code, name=f"测试组织{code}", kind=kind, parent=parent, region=Region.objects.get(code=region)
    )
    org.save()
    return org


def make_user(
    username: str,
    *,
    perms: Iterable[str] = (),
    organization: Organization | None = None,
    node_wide: bool = False,
) -> User:
    """An account holding a one-off role with ``perms`` at ``organization`` (or node-wide)."""
    user = User.objects.create_user(
        username=username, password="x-test-password-1", organization=organization
    )
    perms = list(perms)
    if perms:
        role = Role.objects.create(code=f"role-{username}", name=f"角色{username}")
        for full in perms:
            app_label, codename = full.split(".", 1)
            role.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        RoleAssignment.objects.create(user=user, role=role, organization=None if node_wide else organization)
    forget(user)
    return user


def clerk() -> User:
    """The account an action test acts as (no roles: an action trusts its caller's permission
    check, so only the audit log sees who acted)."""
    user, _created = User.objects.get_or_create(username="t-clerk")
    return user


def grant(user: User, perms: Iterable[str], organization: Organization | None) -> None:
    """Give ``user`` one more one-off role with ``perms`` at ``organization`` (None: node-wide)."""
    role = Role.objects.create(code=f"role-{user.username}-{Role.objects.count()}", name="附加角色")
    for full in perms:
        app_label, codename = full.split(".", 1)
        role.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    RoleAssignment.objects.create(user=user, role=role, organization=organization)
    forget(user)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Scope:
    """Two sibling subtrees under one root: ``home`` holds the object, ``other`` must not see it."""

    root: Organization
    home: Organization
    other: Organization


@pytest.fixture
def scope(db: Any) -> Scope:
    root = make_org("t-root")
    return Scope(root=root, home=make_org("t-home", parent=root), other=make_org("t-other", parent=root))


class ScopedObjectViewTests:
    """Checks a model's list page, detail page and API endpoints against the scoping rules.

    Subclasses set ``model``, ``list_url_name``, ``detail_url_name``, optionally the API route
    names, and implement ``make_object(organization)``.

    Writes are declared too: ``post_url_names`` (page routes taking the object's pk that answer a
    POST), ``api_actions`` (``(route name, method)``: a PATCH, a custom ``@action``) and the
    ``change_permissions`` they need. An account that sees everything but holds those rights only
    in another organisation's subtree must get 404 from every one of them (ARCHITECTURE.md §3
    rule 9: a write never loads through the "view" scope); one holding them over the object must
    not be refused.
    """

    model: ClassVar[Any]
    list_url_name: ClassVar[str]
    detail_url_name: ClassVar[str | None] = None
    api_list_url_name: ClassVar[str | None] = None
    api_detail_url_name: ClassVar[str | None] = None
    view_permission: ClassVar[str | None] = None
    post_url_names: ClassVar[Sequence[str]] = ()
    api_actions: ClassVar[Sequence[tuple[str, str]]] = ()
    change_permissions: ClassVar[Sequence[str]] = ()

    def make_object(self, organization: Organization) -> Any:
        raise NotImplementedError

    @property
    def permission(self) -> str:
        meta = self.model._meta
        return self.view_permission or f"{meta.app_label}.view_{meta.model_name}"

    def urls(self, obj: Any) -> list[str]:
        urls = [reverse(self.list_url_name)]
        if self.detail_url_name:
            urls.append(reverse(self.detail_url_name, args=[obj.pk]))
        return urls

    def api_urls(self, obj: Any) -> list[str]:
        urls = []
        if self.api_list_url_name:
            urls.append(reverse(self.api_list_url_name))
        if self.api_detail_url_name:
            urls.append(reverse(self.api_detail_url_name, args=[obj.pk]))
        return urls

    def test_anonymous_is_sent_to_login(self, scope: Scope) -> None:
        obj = self.make_object(scope.home)
        client = Client()
        for url in self.urls(obj):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login")), url
        for url in self.api_urls(obj):
            assert client.get(url).status_code in (401, 403), url

    def test_without_permission_is_forbidden(self, scope: Scope) -> None:
        obj = self.make_object(scope.home)
        client = client_for(make_user("nobody", organization=scope.home))
        for url in self.urls(obj) + self.api_urls(obj):
            assert client.get(url).status_code == 403, url

    def test_with_permission_sees_the_object(self, scope: Scope) -> None:
        obj = self.make_object(scope.home)
        client = client_for(make_user("insider", perms=[self.permission], organization=scope.home))
        for url in self.urls(obj) + self.api_urls(obj):
            assert client.get(url).status_code == 200, url
        assert obj.pk in self.listed_pks(client)

    def test_permission_in_another_scope_is_not_found(self, scope: Scope) -> None:
        obj = self.make_object(scope.home)
        client = client_for(make_user("outsider", perms=[self.permission], organization=scope.other))
        if self.detail_url_name:
            assert client.get(reverse(self.detail_url_name, args=[obj.pk])).status_code == 404
        if self.api_detail_url_name:
            assert client.get(reverse(self.api_detail_url_name, args=[obj.pk])).status_code == 404
        assert obj.pk not in self.listed_pks(client)

    def post_urls(self, obj: Any) -> list[str]:
        """Page URLs that change ``obj`` on POST (override for routes with more arguments)."""
        return [reverse(name, args=[obj.pk]) for name in self.post_url_names]

    def api_action_urls(self, obj: Any) -> list[tuple[str, str]]:
        """(URL, method) of the API endpoints that change ``obj``."""
        return [(reverse(name, args=[obj.pk]), method) for name, method in self.api_actions]

    def post_data(self, obj: Any, url: str) -> dict[str, Any]:
        """The body sent to a declared write (empty: the scope is decided before the input)."""
        return {}

    def writer(self, scope: Scope, *, at: Organization) -> User:
        """An account that may view everything but holds ``change_permissions`` only at ``at``."""
        user = make_user(f"writer-{at.code}", perms=self.change_permissions, organization=at)
        extra = [self.permission] if self.permission not in self.change_permissions else []
        if extra:
            grant(user, extra, None)
        return user

    def test_change_rights_in_another_scope_are_not_found(self, scope: Scope) -> None:
        if not (self.post_url_names or self.api_actions):
            return
        obj = self.make_object(scope.home)
        user = self.writer(scope, at=scope.other)
        client = client_for(user)
        for url in self.post_urls(obj):
            assert client.post(url, self.post_data(obj, url)).status_code == 404, url
        api = APIClient()
        api.force_authenticate(user)
        for url, method in self.api_action_urls(obj):
            response = getattr(api, method)(url, self.post_data(obj, url), format="json")
            assert response.status_code == 404, (method, url)

    def test_change_rights_over_the_object_are_not_refused(self, scope: Scope) -> None:
        if not (self.post_url_names or self.api_actions):
            return
        obj = self.make_object(scope.home)
        user = self.writer(scope, at=scope.home)
        client = client_for(user)
        for url in self.post_urls(obj):
            assert client.post(url, self.post_data(obj, url)).status_code not in (403, 404), url
        api = APIClient()
        api.force_authenticate(user)
        for url, method in self.api_action_urls(obj):
            response = getattr(api, method)(url, self.post_data(obj, url), format="json")
            assert response.status_code not in (403, 404), (method, url)

    def listed_pks(self, client: Client) -> set[Any]:
        """Primary keys the list page shows (from the view's paginated ``object_list``)."""
        response = client.get(reverse(self.list_url_name), {"per_page": 200})
        assert response.status_code == 200
        return {row.pk for row in response.context["object_list"]}


# Personal data: masked numbers must not be rebuildable from what a page shows ---------------------

_MASKED = re.compile(r"\d{6}\*{8}\d{3}[\dX]")
_DATES = (
    re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
    re.compile(r"(\d{4})/(\d{2})/(\d{2})"),
    re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"),
)


def rows_of(response: Any) -> list[str]:
    """What a response shows, as rows of text: one per Excel row, one per API result, the whole
    page for HTML (a page shows its rows side by side, so it counts as one)."""
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/vnd.openxmlformats"):
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.content)).active
        return [
            " ".join(value.isoformat() if hasattr(value, "isoformat") else str(value) for value in row)
            for row in sheet.iter_rows(values_only=True)
        ]
    if content_type.startswith("application/json"):
        data = response.json()
        results = data.get("results", [data]) if isinstance(data, dict) else data
        return [json.dumps(row, ensure_ascii=False) for row in results]
    return [response.content.decode()]


def assert_not_rebuildable(rows: Iterable[str], people: Iterable[Any], *, where: str = "") -> None:
    """Fail when one row shows a masked ID number and a date that together give back a person's full
    number (``110101********6995`` + 1985-03-07 → 110101198503076995), checked with ``idnumber``."""
    from xietong.lib import idnumber

    from .pii import decrypt

    numbers = {decrypt(person.id_number_cipher, field="id_number") for person in people}
    for row in rows:
        dates = {
            "".join((y, m.zfill(2), d.zfill(2))) for pattern in _DATES for y, m, d in pattern.findall(row)
        }
        for masked in set(_MASKED.findall(row)):
            for digits in dates:
                candidate = masked[:6] + digits + masked[14:]
                assert not (candidate in numbers and idnumber.is_valid(candidate)), (
                    f"{where}: {masked} and a shown date rebuild the full ID number"
                )

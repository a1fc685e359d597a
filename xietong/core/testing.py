"""Generic test classes (ARCHITECTURE.md §3.7, after NetBox's ``ViewTestCases``).

An app's test declares its model, its URLs and how to make one object at a given organisation;
the base class then checks every page and endpoint the same way: anonymous → login, no permission
→ 403, permission in the object's subtree → 200 and listed, permission only in another
organisation's subtree → 404 and not listed.

Every generic test class records the route names it checks in ``COVERED_ROUTES``; the URL-walk test
walks every route of the node and fails for one that is neither covered nor marked ``public``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from .models import Organization, Region, Role, RoleAssignment, User
from .permissions import forget

# Route name → the test that checks it (anonymous, no permission, permission in another scope).
COVERED_ROUTES: dict[str, str] = {}

CoveringT = TypeVar("CoveringT", bound=Callable[..., Any] | type)


def covers(*route_names: str) -> Callable[[CoveringT], CoveringT]:
    """Record that the decorated test (class or function) checks ``route_names`` against the scoping
    rules, for the URL-walk test. Generic test classes record their own routes without it."""

    def decorate(test: CoveringT) -> CoveringT:
        for name in route_names:
            COVERED_ROUTES.setdefault(name, f"{test.__module__}.{test.__qualname__}")
        return test

    return decorate


@dataclass(frozen=True)
class Route:
    """One route of the URL map: its (namespaced) name, its pattern, its view and argument names."""

    name: str
    pattern: str
    callback: Any
    arguments: tuple[str, ...]


def walk_routes(
    patterns: Iterable[Any] | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[Route]:
    """Every route of ``xietong.urls`` (through includes and DRF routers, whose format-suffix twins
    come out as routes of the same name with a ``format`` argument)."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk_routes(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = entry.pattern
            names = tuple(pattern.regex.groupindex)  # named groups: <int:pk> and (?P<pk>…) alike
            yield Route(
                name=f"{namespace}{entry.name}" if entry.name else "",
                pattern=prefix + str(pattern),
                callback=entry.callback,
                arguments=names,
            )


def routes_by_name() -> dict[str, Route]:
    """One route per name: the first of a DRF route and its format-suffix twin (no ``format``)."""
    routes: dict[str, Route] = {}
    for route in walk_routes():
        if "format" not in route.arguments:
            routes.setdefault(route.name, route)
    return routes


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
    if not Region.objects.exists():  # a committing test (``transaction=True``) empties every table after it
        from .actions import regions_load

        regions_load()
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = [
            getattr(cls, attr, None)
            for attr in ("list_url_name", "detail_url_name", "api_list_url_name", "api_detail_url_name")
        ]
        # Declared writes (page POSTs and API actions as (route name, method)), where a class has them.
        names += [
            *getattr(cls, "post_url_names", ()),
            *(name for name, _m in getattr(cls, "api_actions", ())),
        ]
        for name in names:
            if name:
                COVERED_ROUTES.setdefault(name, f"{cls.__module__}.{cls.__qualname__}")

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


class SignInRequiredTests:
    """Checks routes that take no object argument (create forms, figures, look-ups, operator pages):
    anonymous → the log-in page (an API answers 401/403), a signed-in account without any role →
    403, unless the route is listed in ``open_to_any_account`` (the home page, reference data).

    Which rows such a page lists or offers is the scoped list's and the action's business; this
    class only keeps a new route from being open by mistake. Subclasses set ``route_names`` (and
    ``route_args`` for a route of reference data that takes a key, e.g. a region code).
    """

    route_names: ClassVar[tuple[str, ...]] = ()
    route_args: ClassVar[dict[str, tuple[Any, ...]]] = {}
    open_to_any_account: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.route_names:
            COVERED_ROUTES.setdefault(name, f"{cls.__module__}.{cls.__qualname__}")

    def request(self, client: Client, name: str) -> Any:
        """GET the route, or POST it when it takes POST only."""
        url = reverse(name, args=self.route_args.get(name, ()))
        response = client.get(url)
        return client.post(url) if response.status_code == 405 else response

    def test_anonymous_is_sent_to_login(self, db: Any) -> None:
        client = Client()
        for name in self.route_names:
            response = self.request(client, name)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("login")), name
            else:
                assert response.status_code in (401, 403), name

    def test_account_without_a_role_is_forbidden(self, scope: Scope) -> None:
        client = client_for(make_user("nobody", organization=scope.home))
        for name in self.route_names:
            if name not in self.open_to_any_account:
                assert self.request(client, name).status_code == 403, name

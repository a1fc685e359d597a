"""Staff notifications (issue 12 §2): who receives them (the holders of a permission over the record's
organisation), once per recipient, kind and record, only when the transaction commits; the inbox,
marking read, and the unread badge on every page. The sources are tested in each domain app."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xietong.core import actions, home, selectors
from xietong.core.models import Affiliation, Notification
from xietong.core.testing import Scope, client_for, make_org, make_user

PERM = "core.change_person"


def send(*, key: str = "core.person:1", **kw: Any) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.notify(kind="test.kind", key=key, text="有新的事项", link="/people/", **kw)


def test_recipients_hold_the_permission_over_the_organisation(scope: Scope) -> None:
    above = make_user("above", perms=[PERM], organization=scope.root)
    here = make_user("here", perms=[PERM], organization=scope.home)
    node = make_user("node", perms=[PERM], node_wide=True)
    make_user("other", perms=[PERM], organization=scope.other)  # another union: nothing
    make_user("viewer", perms=["core.view_person"], organization=scope.home)  # another right
    inactive = make_user("gone", perms=[PERM], organization=scope.home)
    inactive.is_active = False
    inactive.save()
    child = make_org("t-child", parent=scope.home)
    found = set(selectors.users_with_perm_over(PERM, child))
    assert found == {above, here, node}
    assert set(selectors.users_with_perm_over(PERM, None)) >= {above, here, node}


def test_a_body_in_dual_management_reaches_the_union(scope: Scope) -> None:
    sector = make_org("t-sector", parent=scope.other)
    officer = make_user("sector", perms=[PERM], organization=scope.other)
    Affiliation.objects.create(organization=scope.home, parent=sector)
    assert officer in selectors.users_with_perm_over(PERM, scope.home)


def test_a_retry_never_duplicates_and_a_rollback_notifies_nobody(scope: Scope) -> None:
    officer = make_user("here", perms=[PERM], organization=scope.home)
    send(perm=PERM, organization=scope.home)
    send(perm=PERM, organization=scope.home)  # the same kind and record again: nothing new
    assert Notification.objects.filter(recipient=officer).count() == 1
    send(perm=PERM, organization=scope.home, key="core.person:2")  # another record
    assert Notification.objects.filter(recipient=officer).count() == 2

    def rolled_back() -> None:
        with transaction.atomic():
            actions.notify(kind="t.kind", key="core.person:3", text="x", perm=PERM, organization=scope.home)
            raise RuntimeError

    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError):
        rolled_back()
    assert Notification.objects.filter(recipient=officer).count() == 2


def test_the_inbox_marks_read_and_the_badge_counts_unread(scope: Scope) -> None:
    officer = make_user("here", perms=[PERM], organization=scope.home)
    stranger = make_user("there", perms=[PERM], organization=scope.other)
    for n in range(3):
        send(users=[officer], key=f"core.person:{n}")
    send(users=[stranger], key="core.person:9")
    client = client_for(officer)
    page = client.get(reverse("core:notification_list"))
    assert page.status_code == 200
    assert page.context["unread_notifications"] == 3
    assert page.content.decode().count('data-testid="notification"') == 3
    first = Notification.objects.filter(recipient=officer).earliest("pk")
    opened = client.post(reverse("core:notification_read"), {"pk": first.pk, "open": "1"})
    assert opened.status_code == 302 and opened["Location"] == "/people/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert client.get(reverse("core:home")).context["unread_notifications"] == 2
    # Someone else's notification is not found, and stays unread.
    theirs = Notification.objects.get(recipient=stranger)
    assert client.post(reverse("core:notification_read"), {"pk": theirs.pk}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    client.post(reverse("core:notifications_read_all"))
    assert selectors.unread_count(user=officer) == 0
    assert selectors.unread_count(user=stranger) == 1


def test_the_badge_costs_one_count_query(scope: Scope) -> None:
    officer = make_user("here", perms=[PERM], organization=scope.home)
    send(users=[officer])
    from django.test import RequestFactory

    from xietong.core.context_processors import navigation

    request = RequestFactory().get("/")
    request.user = officer
    navigation(request)  # the grants are cached on the user after the first page
    with CaptureQueriesContext(connection) as queries:
        context = navigation(request)
    assert context["unread_notifications"] == 1
    assert len(queries) == 1 and "COUNT" in queries[0]["sql"].upper()


def test_a_registered_to_do_shows_only_with_its_permission(scope: Scope) -> None:
    officer = make_user("here", perms=[PERM], organization=scope.home)
    clerk = make_user("clerk", perms=["core.view_person"], organization=scope.home)
    home.todo(
        key="test.todo",
        perm=PERM,
        items=lambda user: [home.TodoItem("测试待办", 7, "/people/?q=x")],
        order=999,
    )
    try:
        page = client_for(officer).get(reverse("core:home")).content.decode()
        assert "测试待办" in page and ">7<" in page
        assert "测试待办" not in client_for(clerk).get(reverse("core:home")).content.decode()
    finally:
        home._todos.pop("test.todo")

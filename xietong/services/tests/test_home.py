"""The services app on the home page (issue 12 §2): the overdue requests counted as the list's
``?status=overdue`` counts them; a hotline operator lands on the request list; ``xietong
notify_due`` escalates overdue requests by itself and tells the parent union's officers."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from xietong.core import actions as core_actions
from xietong.core.models import Notification, Role, RoleAssignment, User
from xietong.core.roles import SERVICES_PERMISSIONS
from xietong.core.testing import Scope, client_for, make_user

from ..models import ServiceRequest
from .factories import make_request

pytestmark = pytest.mark.django_db


def test_the_overdue_count_is_the_total_of_the_list_it_links_to(scope: Scope) -> None:
    late = [make_request(scope.home), make_request(scope.home), make_request(scope.other)]
    make_request(scope.home)  # in time
    ServiceRequest.objects.filter(pk__in=[r.pk for r in late]).update(
        acknowledge_due=dt.date(2026, 1, 5), answer_due=dt.date(2026, 1, 9)
    )
    officer = client_for(make_user("officer", perms=SERVICES_PERMISSIONS, organization=scope.home))
    todos = {t.label: (t.count, t.url) for t in officer.get(reverse("core:home")).context["todos"]}
    count, url = todos["逾期未办的12351服务诉求"]
    assert url == "/services/requests/?status=overdue"
    assert count == 2 == officer.get(url).context["paginator"].count


def test_a_hotline_operator_lands_on_the_request_list(scope: Scope) -> None:
    core_actions.roles_sync()
    operator = User.objects.create_user(username="hotline", password="x-test-password-1")
    RoleAssignment.objects.create(
        user=operator, role=Role.objects.get(code="hotline_operator"), organization=scope.home
    )
    response = client_for(operator).get(reverse("core:home"))
    assert response.status_code == 302 and response["Location"] == reverse("services:request_list")


def test_notify_due_escalates_an_overdue_request_and_tells_the_parent_unions_officers(scope: Scope) -> None:
    late = make_request(scope.home)
    make_request(scope.home)  # in time: not escalated
    ServiceRequest.objects.filter(pk=late.pk).update(
        acknowledge_due=dt.date(2026, 1, 5), answer_due=dt.date(2026, 1, 9)
    )
    city = make_user("city", perms=SERVICES_PERMISSIONS, organization=scope.root)
    make_user("home", perms=SERVICES_PERMISSIONS, organization=scope.home)  # the late union's own
    make_user("other", perms=SERVICES_PERMISSIONS, organization=scope.other)
    for _run in range(2):  # the second run escalates and tells nothing again
        with TestCase.captureOnCommitCallbacks(execute=True):  # the test's transaction never commits
            call_command("notify_due", stdout=io.StringIO())
    late.refresh_from_db()
    assert late.escalated_to == scope.root
    assert ServiceRequest.objects.filter(escalated_to__isnull=False).get() == late
    told = Notification.objects.get()
    assert told.recipient == city and told.kind == "services.request_escalated"
    assert late.number in told.text and "督办" in told.text
    assert told.link == reverse("services:request_detail", args=[late.pk])

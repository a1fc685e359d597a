"""Issue 14 §4, no member oracle by timing: asking for a sign-in code does the same work for a member's
number and for an unknown one (it records the ask and queues one ``CodeRequest`` job); the job, in
the background, sends a code only to a member and keeps no phone once it has run."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xietong.core.choices import JobStatus
from xietong.core.testing import Scope

from ..models import CodeRequest, SignInCode
from .conftest import ask_code, last_code, member_with_phone

pytestmark = pytest.mark.django_db

MEMBER, STRANGER = "13911112222", "13700009999"


def _statements(queries: list[dict[str, Any]]) -> list[str]:
    """The SQL run, without its values (quoted literals and numbers)."""
    return [re.sub(r"'(?:[^']|'')*'|\d+", "?", query["sql"]) for query in queries]


def _ask_queued(phone: str) -> tuple[Any, list[str], int]:
    """Ask for a code for ``phone`` without running the job: the answer, the SQL the request ran and
    how many callbacks it left for the commit."""
    with (
        TestCase.captureOnCommitCallbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        answer = Client().post(reverse("portal:signin"), {"phone": phone})
    return answer, _statements(queries.captured_queries), len(callbacks)


def test_a_known_and_an_unknown_number_cost_the_request_the_same_work(scope: Scope, outbox: Path) -> None:
    member_with_phone(scope.home, MEMBER)
    known, known_sql, known_jobs = _ask_queued(MEMBER)
    unknown, unknown_sql, unknown_jobs = _ask_queued(STRANGER)
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known_sql == unknown_sql  # the same statements: no member look-up, no code saved
    assert known_jobs == unknown_jobs == 1  # one job queued on commit each
    assert not SignInCode.objects.exists() and not outbox.exists()  # nothing sent in the request
    asks = list(CodeRequest.objects.order_by("pk"))
    assert [ask.status for ask in asks] == [JobStatus.QUEUED, JobStatus.QUEUED]
    assert all(ask.phone_cipher and ask.phone_index for ask in asks)
    assert not any(MEMBER in ask.phone_cipher or STRANGER in ask.phone_cipher for ask in asks)


def test_the_job_sends_a_code_only_to_a_member_and_keeps_no_phone(scope: Scope, outbox: Path) -> None:
    member = member_with_phone(scope.home, MEMBER)
    ask_code(Client(), MEMBER)
    assert SignInCode.objects.get().member == member and last_code(outbox, MEMBER)
    ask_code(Client(), STRANGER)
    assert SignInCode.objects.count() == 1 and STRANGER not in outbox.read_text(encoding="utf-8")
    # The finished asks keep no phone: cleared by their run, then deleted by the next one.
    left = CodeRequest.objects.get()
    assert (left.status, left.phone_cipher, left.phone_index) == (JobStatus.DONE, "", "")


@pytest.mark.django_db(transaction=True)
def test_on_a_node_the_task_worker_sends_the_code(scope: Scope, outbox: Path, settings: Any) -> None:
    """As on a real node (and the demo): the ask waits in the database for ``db_worker``."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    member_with_phone(scope.home, MEMBER)
    Client().post(reverse("portal:signin"), {"phone": MEMBER})
    assert not outbox.exists()  # nothing sent by the request itself
    call_command("db_worker", "--batch", "--interval", "0", "--no-startup-delay", stdout=io.StringIO())
    assert last_code(outbox, MEMBER)
    assert list(CodeRequest.objects.values_list("status", "phone_cipher", "phone_index")) == [
        (JobStatus.DONE, "", "")
    ]

"""The API fuzzed (issue 15 §6): schemathesis over the whole OpenAPI schema, no 5xx.

The demo world at its smallest is built in the test database, and a node-wide staff account (a
superuser, as ``xietong createsuperuser`` makes) gets an API token, so that requests reach the data
rather than stopping at 403. The schema is the node's own ``/api/schema/`` read through WSGI in this
process; every operation gets ``EXAMPLES`` generated cases (valid ones, then invalid ones:
wrong types, out-of-range numbers, missing fields) sent through the same WSGI application with the token.
The only check is ``not_a_server_error``: bad input must answer 4xx with a reason, never 500. The
generation is derandomised (the same cases every run) and bounded: a few hundred cases in all, well
under two minutes on SQLite and on PostgreSQL.

A failure names the operation and the request that broke it (schemathesis prints a ``curl`` line).
A longer run: ``XIETONG_FUZZ_EXAMPLES=80`` (about 5,700 cases, a minute).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from xietong.core.models import User
from xietong.demo import world
from xietong.wsgi import application

# Generated cases per operation and mode (36 operations, valid and invalid): about 700 in all.
EXAMPLES = int(os.environ.get("XIETONG_FUZZ_EXAMPLES", "10"))
BUDGET_SECONDS = 100  # the whole run; a slower machine stops early rather than holding up CI


@pytest.fixture(scope="module")
def staff_headers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, str]]:
    """The demo world and a node-wide staff token, built once and rolled back at the end.

    Requests go through the WSGI handler itself, not Django's test client: as that client does, the
    handler is kept from closing the connection at each request's end (it holds the test's
    transaction; PostgreSQL's connection pool would refuse to reopen one inside it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            world.build(people_per_org=1)
            staff = User.objects.create_superuser("fuzz_staff", password=None)
            token = Token.objects.create(user=staff)
            yield {"Authorization": f"Token {token.key}"}
            transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_no_operation_answers_a_server_error(staff_headers: dict[str, str]) -> None:
    """Every operation, with valid and with invalid input, answers below 500."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=staff_headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20, "the schema lost its operations"
    started = time.monotonic()
    sent = 0
    failures: list[str] = []
    for operation, mode in itertools.product(operations, GenerationMode):
        if time.monotonic() - started > BUDGET_SECONDS:
            break

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            nonlocal sent
            sent += 1
            response = case.call(headers=staff_headers)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            fuzz()
        except Unsatisfiable:  # no invalid request exists for this operation (a path id alone)
            continue
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.label} ({mode}): {str(error)[:1500]}")
    print(f"{len(operations)} operations, {sent} cases, {time.monotonic() - started:.1f} s")
    assert not failures, "\n\n".join(failures)
    assert sent > 100, f"only {sent} cases were sent"

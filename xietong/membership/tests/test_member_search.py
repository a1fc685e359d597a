"""The roll's search by name at a city federation's scale (issue 15 §4: the load run's slowest list)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xietong.core.models import Organization
from xietong.core.testing import Scope

from .. import selectors
from ..models import Member
from .factories import make_member

pytestmark = pytest.mark.django_db


def _found(q: str) -> set[int]:
    return set(selectors.member_search(Member.objects.all(), q).values_list("pk", flat=True))


def test_a_chinese_name_is_matched_without_folding_case(scope: Scope) -> None:
    """Under load a name search took 190 ms p50 on PostgreSQL (``UPPER(name) LIKE``: every name of
    the node folded, a parallel scan); Chinese has no case, so the name index answers it. (SQLite's
    LIKE folds ASCII by itself: this test fails only on PostgreSQL.)"""
    org: Organization = scope.home
    member = make_member(org)
    with CaptureQueriesContext(connection) as queries:
        assert _found("张伟") == {member.pk}
    sql = " ".join(query["sql"] for query in queries.captured_queries).upper()
    assert "UPPER(" not in sql


def test_the_name_search_still_folds_case_and_traditional_characters(scope: Scope) -> None:
    org: Organization = scope.home
    latin = make_member(org)
    latin.person.name = "Anna Müller"
    latin.person.save(update_fields=["name"])
    chinese = make_member(org)
    assert latin.pk in _found("anna")
    assert chinese.pk in _found("張偉")  # typed in traditional characters
    other = make_member(org)
    other.person.name = "王芳"
    other.person.save(update_fields=["name"])
    assert other.pk not in _found("张伟")


def test_the_roll_reads_the_people_table_once_per_name_search(scope: Scope) -> None:
    """The list counts its rows, then reads its page: with the names matched in a subquery each of
    the two scanned every person of the node (issue 15 §4, the slowest list under load)."""
    from django.urls import reverse

    from xietong.core.testing import client_for, make_user

    make_member(scope.home)
    officer = client_for(make_user("o", perms=["membership.view_member"], organization=scope.home))
    with CaptureQueriesContext(connection) as queries:
        response = officer.get(reverse("membership:member_list"), {"q": "张伟"})
    assert response.status_code == 200 and "张伟" in response.content.decode()
    person_scan = re.compile(r'FROM "core_person"( U\d)? WHERE .*"name"(::text)? LIKE')
    scans = [query["sql"] for query in queries.captured_queries if person_scan.search(query["sql"])]
    assert len(scans) == 1, scans


def test_a_very_common_term_keeps_the_subquery(scope: Scope, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "SEARCH_IDS_INLINE", 1)
    members = {make_member(scope.home).pk for _ in range(3)}
    assert _found("张") == members

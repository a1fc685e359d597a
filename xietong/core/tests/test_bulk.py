"""``core.bulk``: many rows written and looked up at once (COPY on PostgreSQL, batches on SQLite)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import transaction
from django.utils import timezone

from xietong.core import bulk
from xietong.core.models import Employer
from xietong.core.testing import make_org

pytestmark = pytest.mark.django_db


def test_rows_are_inserted_with_lists_and_constants_and_looked_up_by_a_long_list() -> None:
    org = make_org("bulk-org")
    now = timezone.now()
    ids = bulk.allocate_ids(Employer, 2500)
    names = [f'单位{i},"有限"公司' for i in range(2500)]  # commas and quotes survive CSV
    codes = [f"9111{i:014d}" if i % 2 else None for i in range(2500)]
    sectors = ["制造业" if i % 2 else "" for i in range(2500)]

    def batches() -> list[bulk.Columns]:
        return [
            {"id": ids[start : start + 1000], "name": names[start : start + 1000],
             "credit_code": codes[start : start + 1000], "sector": sectors[start : start + 1000],
             "organization_id": org.pk, "region_id": "110101", "tags": "[]", "created_at": now,
             "updated_at": now}
            for start in range(0, 2500, 1000)
        ]  # fmt: skip

    with transaction.atomic():
        assert bulk.insert(Employer, batches()) == 2500
    stored = {e.pk: e for e in Employer.objects.filter(organization=org)}
    assert len(stored) == 2500 and len(set(ids)) == 2500
    assert stored[ids[7]].name == names[7] and stored[ids[7]].credit_code == codes[7]
    assert stored[ids[8]].credit_code is None and stored[ids[8]].sector == ""  # NULL and "" kept apart
    assert stored[ids[9]].tags == [] and stored[ids[9]].sector == "制造业"
    assert abs(stored[ids[0]].created_at - now) < dt.timedelta(seconds=1)
    wanted = [names[i] for i in range(0, 2500, 3)] + ["没有这家单位"]
    found = list(itertools.chain.from_iterable(
        part.values_list("name", flat=True) for part in bulk.where_in(Employer.objects.all(), "name", wanted)
    ))  # fmt: skip
    assert sorted(found) == sorted(wanted[:-1])
    blank = [e.pk for part in bulk.where_in(Employer.objects.all(), "sector", [""]) for e in part]
    assert sorted(blank) == sorted(ids[0::2])
    by_id = list(bulk.where_in(Employer.objects.all(), "pk", ids[:5], sql_type="bigint"))
    assert sorted(pk for part in by_id for pk in part.values_list("pk", flat=True)) == sorted(ids[:5])


def test_unused_values_skip_those_taken_and_repeat_none() -> None:
    org = make_org("bulk-org")
    Employer.objects.create(name="A1", organization=org, region_id="110101")
    offered = iter(["A1", "A2", "A2", "A3", "A4", "A5"])
    values = bulk.unused_values(Employer, "name", 3, lambda n: [next(offered) for _ in range(n)])
    assert sorted(values) == ["A2", "A3", "A4"]

"""Lists of any length (issue 16): exports above a threshold are background jobs (progress, download,
expiry, audit, scope) and pages are read from the nearest known place (seek), equal to offset pages."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from xietong.core import actions
from xietong.core.choices import AuditAction, JobStatus
from xietong.core.models import AuditEvent, Employer, ExportJob
from xietong.core.pagination import SeekPaginator, forward_ordering, ordering_of
from xietong.core.testing import Scope, client_for, covers, make_user

from .factories import EmployerFactory

pytestmark = pytest.mark.django_db

PERMS = ["core.view_employer"]


@pytest.fixture
def small_threshold(settings: Any) -> None:
    settings.XIETONG_EXPORT_SYNC_ROWS = 3


def _employers(org: Any, count: int, name: str = "测试单位") -> None:
    for index in range(count):
        EmployerFactory(organization=org, name=f"{name}{index:03d}")


def _start_export(client: Any, capture: Any, **params: str) -> ExportJob:
    with capture(execute=True):  # the job is queued on commit and run at once (ImmediateBackend)
        response = client.get(reverse("core:employer_list"), {"export": "xlsx", **params})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("core:export_detail", args=[job.pk])
    return job


def _rows(content: bytes) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def test_a_small_export_stays_immediate(scope: Scope, small_threshold: None) -> None:
    _employers(scope.home, 3)
    client = client_for(make_user("small", perms=PERMS, organization=scope.home))
    response = client.get(reverse("core:employer_list"), {"export": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd")
    assert not ExportJob.objects.exists()


@covers("core:export_detail", "core:export_download")
def test_a_large_export_is_a_job_with_progress_then_a_download_audited_like_an_export(
    scope: Scope, small_threshold: None, django_capture_on_commit_callbacks: Any
) -> None:
    _employers(scope.home, 6, "甲")
    _employers(scope.home, 2, "乙")
    user = make_user("exporter", perms=PERMS, organization=scope.home)
    client = client_for(user)
    job = _start_export(client, django_capture_on_commit_callbacks, q="甲")
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.written_rows) == (JobStatus.DONE, 6, 6)
    assert job.params == {"q": "甲"} and job.created_by == user
    assert job.expires_at is not None and job.expires_at > timezone.now()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()  # nothing left the node yet

    page = client.get(reverse("core:export_detail", args=[job.pk]))
    assert page.status_code == 200
    assert 'data-testid="job-result"' in page.content.decode() and job.percent == 100
    assert client.get(reverse("core:export_detail", args=[job.pk]), HTTP_HX_REQUEST="true").status_code == 200

    download = client.get(reverse("core:export_download", args=[job.pk]))
    assert download.status_code == 200
    rows = _rows(b"".join(download.streaming_content))  # type: ignore[attr-defined]  # a FileResponse
    assert len(rows) == 7 and {row[0] for row in rows[1:]} == {f"甲{i:03d}" for i in range(6)}
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.target_type == "core.employer" and event.actor == user
    assert event.changes["detail"]["q"] == "甲" and event.changes["detail"]["export_job"] == job.pk


def test_progress_is_written_while_the_job_runs(scope: Scope, settings: Any) -> None:
    settings.XIETONG_EXPORT_SYNC_ROWS = 1
    _employers(scope.home, 5)
    user = make_user("progress", perms=PERMS, organization=scope.home)
    job = ExportJob.objects.create(
        view="xietong.core.views.EmployerListView", list_path=reverse("core:employer_list"),
        permission="core.view_employer", params={}, filename="x.xlsx", target_type="core.employer",
        organization=scope.home, created_by=user, status=JobStatus.RUNNING,
    )  # fmt: skip
    seen: list[int] = []
    from xietong.core import exports

    original = exports.write_workbook

    def spy(*args: Any, **kwargs: Any) -> int:
        kwargs["every"] = 2
        report = kwargs["progress"]

        def progress(done: int) -> None:
            report(done)
            seen.append(ExportJob.objects.get().written_rows)

        kwargs["progress"] = progress
        return original(*args, **kwargs)

    exports.write_workbook = spy
    try:
        actions.export_job_run(job=job)
    finally:
        exports.write_workbook = original
    assert seen == [2, 4]
    job.refresh_from_db()
    assert (job.status, job.written_rows, job.total_rows) == (JobStatus.DONE, 5, 5)


def test_only_the_creator_or_the_same_scope_may_download(
    scope: Scope, small_threshold: None, django_capture_on_commit_callbacks: Any
) -> None:
    _employers(scope.home, 5)
    creator = client_for(make_user("creator", perms=PERMS, organization=scope.home))
    job = _start_export(creator, django_capture_on_commit_callbacks)
    colleague = client_for(make_user("colleague", perms=PERMS, organization=scope.root))
    stranger = client_for(make_user("stranger", perms=PERMS, organization=scope.other))
    unrelated = client_for(make_user("unrelated", organization=scope.home))
    for name in ("core:export_detail", "core:export_download"):
        url = reverse(name, args=[job.pk])
        assert colleague.get(url).status_code == 200  # a scope covering the creator's union
        assert stranger.get(url).status_code == 404  # another union's officer
        assert unrelated.get(url).status_code == 404  # no right to the list at all
        assert client_for_anonymous().get(url).status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1


def client_for_anonymous() -> Any:
    from django.test import Client

    return Client()


def test_an_export_expires_its_file_goes_and_the_command_purges(
    scope: Scope, small_threshold: None, django_capture_on_commit_callbacks: Any
) -> None:
    _employers(scope.home, 5)
    client = client_for(make_user("late", perms=PERMS, organization=scope.home))
    job = _start_export(client, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    storage, name = job.file.storage, str(job.file.name)
    assert storage.exists(name)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("core:export_download", args=[job.pk])).status_code == 404
    assert not ExportJob.objects.exists() and not storage.exists(name)  # purged on access

    job = _start_export(client, django_capture_on_commit_callbacks)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    out = io.StringIO()
    call_command("exports", "purge", stdout=out)
    assert "1" in out.getvalue() and not ExportJob.objects.exists()


# Pages ----------------------------------------------------------------------------------------------


def _all_pages_naively(queryset: Any, size: int) -> list[list[int]]:
    pks = list(queryset.values_list("pk", flat=True))
    return [pks[i : i + size] for i in range(0, len(pks), size)]


@pytest.mark.parametrize("ordering", [("name", "pk"), ("-name",), ("organization__name", "-pk")])
def test_every_way_to_a_page_gives_the_offset_page_with_ties_in_a_stable_order(
    scope: Scope, ordering: tuple[str, ...]
) -> None:
    for index in range(23):  # names repeat: ties broken by the primary key
        EmployerFactory(organization=scope.home if index % 2 else scope.other, name=f"单位{index % 4}")
    queryset = Employer.objects.order_by(*ordering)
    keys = ordering_of(queryset)
    assert keys is not None and keys[-1][0] == "pk"  # ties are broken by the primary key
    naive = _all_pages_naively(queryset.order_by(*forward_ordering(keys)), 5)
    paginator = SeekPaginator(queryset, 5)
    assert paginator.num_pages == len(naive) == 5
    for number in range(1, 6):
        page = paginator.page(number)
        assert [row.pk for row in page.object_list] == naive[number - 1]
        # from this page, by the link's cursor, to every other page
        for target in range(1, 6):
            query = dict(part.split("=", 1) for part in page.query_for(target).split("&"))
            linked = SeekPaginator(queryset, 5, cursor=query.get("cursor", ""))
            got = linked.page(paginator.num_pages if query["page"] == "last" else int(query["page"]))
            assert [row.pk for row in got.object_list] == naive[target - 1], (number, target, linked.strategy)
    last = SeekPaginator(queryset, 5)
    assert [row.pk for row in last.page(5).object_list] == naive[-1] and last.strategy == "reverse"


def test_the_list_page_links_carry_the_seek_position_and_keep_first_last_and_total(scope: Scope) -> None:
    _employers(scope.home, 60)
    client = client_for(make_user("pager", perms=PERMS, organization=scope.home))
    url = reverse("core:employer_list")
    first = client.get(url, {"sort": "name"})
    html = first.content.decode()
    assert "共 60 条，第 1/3 页" in html and "page=last" in html
    link = re.search(r'href="\?([^"]*page=2&amp;cursor=[^"]+)"', html)
    assert link is not None
    second = client.get(f"{url}?{link.group(1).replace('&amp;', '&')}")
    assert [e.name for e in second.context["object_list"]] == [f"测试单位{i:03d}" for i in range(25, 50)]
    assert second.context["paginator"].strategy == "seek-after"
    last = client.get(url, {"sort": "name", "page": "last"})
    assert [e.name for e in last.context["object_list"]] == [f"测试单位{i:03d}" for i in range(50, 60)]

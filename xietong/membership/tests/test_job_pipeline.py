"""The one job pipeline (``xietong.core.jobs``) across the commit/worker boundary, with the member import
as its job: the task is queued only once the transaction that made the job commits, django-tasks'
database backend keeps it and ``db_worker`` runs it, and a job never stays ``running``.

These tests commit for real (``transaction=True``) and use the database backend, not the
``ImmediateBackend`` of the other tests, which runs a task inside the caller's transaction.
"""

from __future__ import annotations

import io
import logging
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from xietong.core import jobs
from xietong.core.choices import JobStatus
from xietong.core.models import Organization
from xietong.core.testing import clerk, make_org
from xietong.core.workflows import InvalidTransition

from .. import actions
from ..actions import imports as import_actions
from ..models import Member, MemberImport
from .factories import fresh_id_number

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "姓名,身份证号码,性别,出生日期,手机号码,工作单位,入会日期"


@pytest.fixture(autouse=True)
def database_tasks(settings: Any) -> None:
    """Tasks go to the database and wait there for a worker, as on a real node."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def union() -> Organization:
    from xietong.core import actions as core_actions
    from xietong.core.models import Region

    if not Region.objects.exists():  # a committing test empties every table after it
        core_actions.regions_load()
    return make_org("t-union", kind="grassroots_union")


def _roll(count: int) -> bytes:
    rows = [f"职工{i},{fresh_id_number()},,,,," for i in range(count)]
    return "\n".join([HEADER, *rows]).encode()


def _start(org: Organization, count: int = 3) -> MemberImport:
    return import_actions.member_import_start(
        organization=org, uploaded=SimpleUploadedFile("roll.csv", _roll(count)), acting_user=clerk()
    )


def _start_then_fail(org: Organization) -> None:
    with transaction.atomic():
        _start(org)
        raise RuntimeError("the request fails after starting an import")


def _worker() -> None:
    """Run what is queued, as ``xietong db_worker --batch`` does, then stop."""
    call_command("db_worker", "--batch", "--interval", "0", "--no-startup-delay", stdout=io.StringIO())


def test_an_import_is_queued_on_commit_and_run_by_the_worker(union: Organization) -> None:
    with transaction.atomic():
        job = _start(union)
        assert not DBTaskResult.objects.exists()  # not before the job's row is committed
    assert DBTaskResult.objects.count() == 1
    with pytest.raises(RuntimeError):
        _start_then_fail(union)
    assert DBTaskResult.objects.count() == 1 and MemberImport.objects.count() == 1  # nothing of it queued
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    _worker()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.finished_at is not None, job.message
    assert (job.checked_rows, job.total_rows, job.created_count) == (3, 3, 3)
    assert Member.objects.filter(organization=union).count() == 3
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_progress_is_written_outside_the_long_transactions(
    union: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str | None, bool]] = []
    report = jobs.job_progress

    def spy(**kwargs: Any) -> None:
        seen.append((kwargs.get("phase"), connection.in_atomic_block))
        report(**kwargs)

    monkeypatch.setattr(import_actions, "job_progress", spy)
    job = _start(union)
    _worker()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert "校验完成，正在写入数据库…" in [phase for phase, _ in seen]
    assert not any(in_atomic for _, in_atomic in seen)  # each one committed at once, for the page to poll


def test_a_runner_that_raises_leaves_the_job_failed_and_logs_the_error(
    union: Organization, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*, job: MemberImport) -> None:
        jobs.job_progress(job=job, phase="正在校验")
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(actions, "member_import_run", broken)
    job = _start(union)
    with caplog.at_level(logging.ERROR, logger="xietong.core.jobs"):
        _worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert "处理时出错，未能完成" in job.message
    assert any(record.exc_info and "a bug" in str(record.exc_info[1]) for record in caplog.records)
    assert not Member.objects.exists()


def test_illegal_moves_are_refused_and_a_finished_job_is_not_run_again(union: Organization) -> None:
    job = _start(union)
    with pytest.raises(InvalidTransition, match="不能从“排队中”变为“已完成”"):
        jobs.job_transition(job=job, to=JobStatus.DONE)
    _worker()
    job.refresh_from_db()
    with pytest.raises(InvalidTransition, match="不能从“已完成”变为“进行中”"):
        jobs.job_transition(job=job, to=JobStatus.RUNNING)
    jobs.job_run(label="membership.MemberImport", pk=job.pk)  # a task delivered twice
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and Member.objects.count() == 3


def _claimed_by(worker: str, job: MemberImport) -> DBTaskResult:
    """The job's task as a worker ``worker`` left it: claimed, the job running."""
    task = DBTaskResult.objects.get()
    task.claim(worker)
    jobs.job_transition(job=job, to=JobStatus.RUNNING)
    return task


def test_a_job_whose_worker_died_is_failed_with_the_reason_and_others_are_left_alone(
    union: Organization,
) -> None:
    import socket
    import subprocess
    import sys

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead_pid = int(ended.stdout)
    here = socket.gethostname()[:40]
    job = _start(union)
    task = _claimed_by(f"{here}:{dead_pid}:abcd", job)
    assert jobs.worker_gone(f"{here}:{dead_pid}:abcd")
    assert not jobs.worker_gone(f"other-host:{dead_pid}:abcd")  # only its own machine can tell
    assert not jobs.worker_gone(f"{here}:{os.getppid()}:abcd")  # a process that runs
    assert not jobs.worker_gone("a-random-library-id")

    assert jobs.jobs_fail_abandoned() == 1
    job.refresh_from_db()
    task.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert job.message == "后台进程中断，导入未完成，未写入任何数据，可重新开始"
    assert task.status == "FAILED" and task.exception_class_path == "xietong.core.jobs.WorkerLost"
    assert jobs.jobs_fail_abandoned() == 0  # once


def test_a_worker_that_lost_the_database_fails_what_it_was_running(union: Organization) -> None:
    job = _start(union)
    _claimed_by(f"{jobs.worker_id()}", job)
    assert jobs.jobs_fail_abandoned() == 0  # a live worker's job is its own
    mine = DBTaskResult.objects.get().worker_ids[-1]
    assert jobs.jobs_fail_abandoned(also=mine) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_the_migration_keeps_every_import_and_maps_its_status(union: Organization) -> None:
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("membership", "0003_member_number_constraint"),
        ("membership", "0004_member_import_job_status"),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps.get_model("membership", "MemberImport")
    for status in ("queued", "checking", "writing", "done", "failed"):
        old.objects.create(
            organization_id=union.pk, original_name=f"{status}.csv", status=status, message="原说明"
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    at_after = executor.loader.project_state([after]).apps.get_model("membership", "MemberImport")
    rows = {job.original_name: job for job in at_after.objects.all()}
    # Back to the newest schema, so later migrations' columns exist for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert len(rows) == 5
    assert (rows["done.csv"].status, rows["done.csv"].message) == ("done", "原说明")
    assert (rows["failed.csv"].status, rows["failed.csv"].message) == ("failed", "原说明")
    for name in ("queued.csv", "checking.csv", "writing.csv"):  # interrupted by the upgrade
        assert rows[name].status == "failed" and "请重新导入" in rows[name].message and rows[name].finished_at

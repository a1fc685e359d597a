"""Roster imports, certification runs and the comparisons done for partners on the one job pipeline
(``xietong.core.jobs``, ADR 013), across the commit/worker boundary: each is queued only once the
transaction that made it commits, django-tasks' database backend keeps the task and ``db_worker`` runs
it; a runner that raises ends the job ``failed``; the migration maps the old statuses of every row.

These tests commit for real (``transaction=True``) and use the database backend, not the
``ImmediateBackend`` of the other tests, which runs a task inside the caller's transaction.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_tasks_db.models import DBTaskResult

from xietong.core.choices import JobStatus
from xietong.core.models import Organization
from xietong.core.testing import clerk, make_org

from .. import actions
from ..choices import RosterKind, RunStage
from ..models import BenefitRoster, CertificationAssistance, EligibilityCheck, RosterEntry
from .conftest import Peer
from .test_certification import PENSIONERS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def database_tasks(settings: Any) -> None:
    """Tasks go to the database and wait there for a worker, as on a real node."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def bureau(db: Any) -> Organization:
    from xietong.core import actions as core_actions
    from xietong.core.models import Region

    if not Region.objects.exists():  # a committing test empties every table after it
        core_actions.regions_load()
    return make_org("t-rs", kind="hrss_bureau")


def _start(org: Organization, text: str = PENSIONERS) -> BenefitRoster:
    return actions.roster_import_start(
        organization=org, kind=RosterKind.PENSION, title="养老金领取人员", mapping={}, acting_user=None,
        uploaded=SimpleUploadedFile("roster.csv", text.encode("utf-8")),
    )  # fmt: skip


def _start_then_fail(org: Organization) -> None:
    with transaction.atomic():
        _start(org)
        raise RuntimeError("the request fails after starting an import")


def _worker() -> None:
    """Run what is queued, as ``xietong db_worker --batch`` does, then stop."""
    call_command("db_worker", "--batch", "--interval", "0", "--no-startup-delay", stdout=io.StringIO())


def test_a_roster_import_is_queued_on_commit_and_run_by_the_worker(bureau: Organization) -> None:
    with transaction.atomic():
        roster = _start(bureau)
        assert not DBTaskResult.objects.exists()  # not before the roster's row is committed
    assert DBTaskResult.objects.count() == 1
    with pytest.raises(RuntimeError):
        _start_then_fail(bureau)
    assert DBTaskResult.objects.count() == 1 and BenefitRoster.objects.count() == 1  # nothing of it queued
    roster.refresh_from_db()
    assert roster.status == JobStatus.QUEUED
    _worker()
    roster.refresh_from_db()
    assert roster.status == JobStatus.DONE and roster.finished_at is not None, roster.message
    assert (roster.processed_rows, roster.total_rows, roster.message) == (3, 3, "导入完成：3人")
    assert RosterEntry.objects.filter(roster=roster).count() == 3
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_run_is_sent_by_the_worker_and_then_waits_for_the_partners(
    bureau: Organization, peer: Peer
) -> None:
    _start(bureau)
    _worker()
    roster = BenefitRoster.objects.get()
    run = actions.certification_run_start(
        roster=roster, partners=["tj"], checks=["duplicate"], acting_user=clerk()
    )
    assert run.status == JobStatus.QUEUED and run.polling
    _worker()
    run.refresh_from_db()
    assert (run.status, run.stage, run.status_label) == (JobStatus.DONE, RunStage.WAITING, "等待对方比对")
    assert run.finished_at is not None and run.polling  # the job is over; the page waits for tj
    assert "已发送：3人" in run.message


def test_a_runner_that_raises_leaves_the_roster_failed_and_logs_the_error(
    bureau: Organization, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*, job: BenefitRoster) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(actions, "roster_import_run", broken)
    roster = _start(bureau)
    with caplog.at_level(logging.ERROR, logger="xietong.core.jobs"):
        _worker()
    roster.refresh_from_db()
    assert roster.status == JobStatus.FAILED and roster.finished_at is not None
    assert "处理时出错，未能完成" in roster.message
    assert any(record.exc_info and "a bug" in str(record.exc_info[1]) for record in caplog.records)
    assert not RosterEntry.objects.exists()


def test_a_refused_file_ends_the_job_failed_with_the_reason(bureau: Organization) -> None:
    roster = _start(bureau, "姓名,年龄\n王秀英,78\n")
    _worker()
    roster.refresh_from_db()
    assert roster.status == JobStatus.FAILED and "找不到记录号列" in roster.message
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"  # the runner ended it; nothing raised


def test_the_migration_keeps_every_row_and_maps_its_status(bureau: Organization) -> None:
    before, after = ("insurance", "0002_transfer_office"), ("insurance", "0003_certification_jobs")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    Roster, Run, Assistance = (
        old.get_model("insurance", name)
        for name in ("BenefitRoster", "EligibilityCheck", "CertificationAssistance")
    )
    for status in ("queued", "checking", "writing", "done", "failed"):
        Roster.objects.create(
            organization_id=bureau.pk, kind="pension", title=status, original_name="r.csv", status=status,
            message="原说明",
        )  # fmt: skip
    roster = Roster.objects.get(title="done")
    for status in ("sending", "waiting", "done", "failed"):
        Run.objects.create(
            uid=status.ljust(32, "x"), organization_id=bureau.pk, roster=roster, checks=[], status=status,
            message="原说明",
        )  # fmt: skip
    for chunk, status in enumerate(("queued", "done", "failed"), start=1):
        Assistance.objects.create(
            requester="tj", requester_name="天津", run_uid="a" * 32, chunk=chunk, checks=[],
            roster_kind="pension", status=status, message="原说明",
        )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # the schema the other tests expect

    rosters = {r.title: r for r in BenefitRoster.objects.all()}
    assert len(rosters) == 5
    assert [(rosters[s].status, rosters[s].message) for s in ("done", "failed")] == [
        ("done", "原说明"), ("failed", "原说明"),
    ]  # fmt: skip
    for name in ("queued", "checking", "writing"):  # interrupted by the upgrade
        assert rosters[name].status == "failed" and "请重新导入" in rosters[name].message
        assert rosters[name].finished_at is not None
    runs = {r.uid.rstrip("x"): r for r in EligibilityCheck.objects.all()}
    assert {name: (r.status, r.stage) for name, r in runs.items()} == {
        "sending": ("failed", ""), "waiting": ("done", "waiting"), "done": ("done", "complete"),
        "failed": ("failed", ""),
    }  # fmt: skip
    assert "请重新发起" in runs["sending"].message and runs["waiting"].message == "原说明"
    assert runs["waiting"].polling and runs["waiting"].status_label == "等待对方比对"
    helped = {a.chunk: a for a in CertificationAssistance.objects.all()}
    assert [(helped[c].status, helped[c].finished_at is not None) for c in (1, 2, 3)] == [
        ("failed", True), ("done", True), ("failed", True),
    ]  # fmt: skip
    assert "系统升级时中断" in helped[1].message and helped[2].message == "原说明"

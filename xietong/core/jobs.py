"""The one job pipeline (ARCHITECTURE.md §3.11, ADR "one job pipeline"): how long work is queued, run,
moved through its states and reported on.

A job is a ``BackgroundJob`` row. ``job_enqueue`` queues the one generic task (``tasks.run_job``)
once the transaction that created the row has committed; the worker (``xietong db_worker``) runs it:
the job moves to ``running``, its ``runner`` action does the work and reports with
``job_progress``, and the job ends ``done`` or ``failed`` through ``job_transition``, the one place
that moves a job's status. A runner that raises leaves the job ``failed`` with a Chinese message and
the error in the log, never ``running``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .choices import JobStatus
from .workflows import transition

if TYPE_CHECKING:
    from .models import BackgroundJob

logger = logging.getLogger(__name__)
J = TypeVar("J", bound="BackgroundJob")


def job_enqueue(*, job: BackgroundJob) -> None:
    """Queue ``job`` for the worker once the current transaction commits (at once outside one).

    Queuing on commit means the worker never looks for a row that is not there yet, and a
    transaction that rolls back queues nothing.
    """
    from .tasks import run_job

    label, pk = job._meta.label, job.pk
    transaction.on_commit(lambda: run_job.enqueue(label, pk))


def job_transition(*, job: J, to: str, message: str | None = None) -> J:
    """Move ``job`` to ``to`` if its ``TRANSITIONS`` allow it (``InvalidTransition`` otherwise) and save
    the row at once, with whatever else the runner has set on it (counts, a report); ``message``
    replaces what the job says. Finishing stamps ``finished_at``.

    Not audited: the row is the job's own record, and the work it does audits what it changes
    (an import records one ``import`` event with its counts).
    """
    transition(job, to=to)
    if message is not None:
        job.message = message
    if to in job.FINISHED:
        job.finished_at = timezone.now()
    job.save()
    if to in job.FINISHED:
        _announce(job)
    return job


def _announce(job: BackgroundJob) -> None:
    """Notify the account that started ``job`` that it ended, if its kind asks for it
    (``core.home.notify_when_finished``); on commit, once per job and outcome."""
    from .actions import notify
    from .home import job_notice
    from .models import User

    notice = job_notice(job)
    if notice is None or not job.created_by_id:
        return
    words = notice.done if job.status == JobStatus.DONE else notice.failed
    notify(
        users=User.objects.filter(pk=job.created_by_id, is_active=True),
        kind=f"job.{job.status}",
        target=job,
        text=str(words) % {"job": job},
        link=notice.link(job),
    )


def job_progress(
    *, job: BackgroundJob, done: int | None = None, total: int | None = None, phase: str | None = None
) -> None:
    """Write how far ``job`` has got (its ``progress_fields`` counters) and the phase it is in (its
    ``message`` while it runs) on its row, in a short write of its own so that the page polling the
    job sees it. Call it outside the job's long transactions: inside one, nobody sees it until the end.
    """
    fields = ["updated_at"]
    if job.progress_fields:
        done_field, total_field = job.progress_fields
        for name, value in ((done_field, done), (total_field, total)):
            if value is not None:
                setattr(job, name, value)
                fields.append(name)
    if phase is not None:
        job.message = phase
        fields.append("message")
    job.save(update_fields=fields)


def job_run(*, label: str, pk: int) -> BackgroundJob | None:
    """Run the queued job ``label``/``pk`` (what the worker's task does): move it to ``running``, call
    its ``runner`` and mark it ``done`` if the runner did not end it; if the runner raises, log the
    error and mark it ``failed`` with a Chinese message. A job that is gone or no longer queued (run
    twice, cancelled) is left alone."""
    model: type[BackgroundJob] = apps.get_model(label)
    job = model.objects.filter(pk=pk).first()
    if job is None or job.status != JobStatus.QUEUED:
        logger.warning("job %s %s is not queued (%s); not run", label, pk, job.status if job else "gone")
        return job
    job_transition(job=job, to=JobStatus.RUNNING, message=_("正在处理"))
    try:
        runner: Any = import_string(job.runner)
        runner(job=job)
    except Exception:
        logger.exception("job %s %s failed", label, pk)
        job.refresh_from_db()
        if not job.finished:
            job_transition(
                job=job,
                to=JobStatus.FAILED,
                message=_("处理时出错，未能完成（已记录错误，请联系系统管理员后重新提交）"),
            )
        return job
    if not job.finished:
        job_transition(job=job, to=JobStatus.DONE)
    return job

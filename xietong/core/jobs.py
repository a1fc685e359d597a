"""The one job pipeline (ARCHITECTURE.md §3.11, ADR "one job pipeline"): how long work is queued, run,
moved through its states and reported on.

A job is a ``BackgroundJob`` row. ``job_enqueue`` queues the one generic task (``tasks.run_job``)
once the transaction that created the row has committed; the worker (``xietong db_worker``) runs it:
the job moves to ``running``, its ``runner`` action does the work and reports with
``job_progress``, and the job ends ``done`` or ``failed`` through ``job_transition``, the one place
that moves a job's status. A runner that raises leaves the job ``failed`` with a Chinese message and
the error in the log, never ``running``.

A worker that dies in the middle of a job (``kill -9``, out of memory, the machine going down) cannot
mark it: ``jobs_fail_abandoned``, which the worker runs when it starts and every few seconds after,
finds the tasks that a dead worker of this machine left running and fails them and their jobs with
the job's ``interrupted_message``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from pathlib import Path
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
RUN_JOB = "xietong.core.tasks.run_job"  # the one task of every job, as django-tasks names it
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


# Workers that died ------------------------------------------------------------------------------------


def worker_id() -> str:
    """A task worker's id that says where it runs: ``host:pid:random`` (at most 64 characters, as
    django-tasks-db allows), so that ``jobs_fail_abandoned`` can tell whether that worker still runs."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def worker_gone(worker: str) -> bool:
    """Whether the worker ``worker`` (an id from ``worker_id``) ran on this machine and its process has
    ended (or is a zombie nobody reaped). A worker of another machine, or an id of another form, is
    never taken for gone: only its own machine can tell."""
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user: not ours, so not the worker that died
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:  # "pid (name) Z ...": a dead child its parent has not waited for
        return stat.read_text().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class WorkerLost(Exception):
    """The task's worker ended before the task did (what the task result records as its error)."""


def jobs_fail_abandoned(*, also: str | None = None) -> int:
    """Fail every task that a dead worker of this machine left ``running``, and the job it ran, with
    the job's ``interrupted_message``; returns how many tasks. A job whose kind can start over
    (``requeue_when_abandoned``) is queued again instead, that many times; one that then fails calls
    its kind's ``abandoned_runner``. ``also`` names a live worker whose running tasks count as
    abandoned too (it lost the database in the middle of one). Whatever the job wrote in an open
    transaction was rolled back by the database when the worker's connection went; a job that had
    already finished is left as it is."""
    from django_tasks_db.models import DBTaskResult

    failed = 0
    for result in DBTaskResult.objects.running():
        last = str(result.worker_ids[-1]) if result.worker_ids else ""
        if not last or (last != also and not worker_gone(last)):
            continue
        with transaction.atomic():
            locked = DBTaskResult.objects.select_for_update().filter(pk=result.pk).running().first()
            if locked is None:
                continue
            locked.set_failed(WorkerLost(f"worker {last} ended during the task"))
            failed += 1
            args = locked.args_kwargs.get("args", [])
            if locked.task_path != RUN_JOB or len(args) != 2:
                continue
            model: type[BackgroundJob] = apps.get_model(args[0])
            job = model.objects.select_for_update().filter(pk=args[1]).first()
            if job is None or job.finished:
                continue
            if _requeued(job, args[0]):
                logger.warning("job %s %s: its worker %s ended; queued again", args[0], args[1], last)
                continue
            logger.error("job %s %s: its worker %s ended; marked failed", args[0], args[1], last)
            job_transition(job=job, to=JobStatus.FAILED, message=str(job.interrupted_message))
            if job.abandoned_runner:
                import_string(job.abandoned_runner)(job=job)
    return failed


def _requeued(job: BackgroundJob, label: str) -> bool:
    """Queue an abandoned job again if its kind allows it and it has not been tried too often (its
    tasks are counted: one per time it was queued)."""
    from django_tasks_db.models import DBTaskResult

    if not job.requeue_when_abandoned:
        return False
    tries = DBTaskResult.objects.filter(task_path=RUN_JOB, args_kwargs__args=[label, job.pk]).count()
    if tries > job.requeue_when_abandoned:
        return False
    again = _("后台处理进程中断，已重新排队（第%(n)s次）") % {"n": tries}
    job_transition(job=job, to=JobStatus.QUEUED, message=again)
    job_enqueue(job=job)
    return True

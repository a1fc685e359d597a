"""The one background task of every job (``xietong.core.jobs``): django-tasks' database backend keeps
it in the database and ``xietong db_worker`` runs it (``xietong serve`` starts that worker beside the
web server on an embedded node)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_job(label: str, pk: int) -> None:
    """Run the queued ``BackgroundJob`` of model ``label`` (``"membership.MemberImport"``) and ``pk``."""
    from .jobs import job_run

    job_run(label=label, pk=pk)

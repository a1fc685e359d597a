"""Background work of the membership app (django-tasks: the database backend in production, run by
``xietong db_worker``; the embedded node's ``xietong serve`` starts that worker beside the web server)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_member_import(job_id: int) -> None:
    """Run a queued member import (``actions.member_import_run``)."""
    from . import actions
    from .models import MemberImport

    job = MemberImport.objects.filter(pk=job_id).first()
    if job is not None:
        actions.member_import_run(job=job)

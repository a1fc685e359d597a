"""Background work of the exchange (django-tasks, run by ``xietong db_worker``; ``xietong serve`` starts
it): roster imports, sending a certification run, and comparing a partner's chunk with our rosters."""

from __future__ import annotations

from django_tasks import task


@task()
def run_roster_import(roster_id: int) -> None:
    """Import a queued roster (``actions.roster_import_run``)."""
    from xietong.core.choices import ImportStatus

    from . import actions
    from .models import BenefitRoster

    roster = BenefitRoster.objects.filter(pk=roster_id, status=ImportStatus.QUEUED).first()
    if roster is not None:
        actions.roster_import_run(roster=roster)


@task()
def run_certification_send(run_id: int) -> None:
    """Encode and send a certification run (``actions.certification_run_send``)."""
    from . import actions
    from .choices import RunStatus
    from .models import EligibilityCheck

    queued = EligibilityCheck.objects.filter(pk=run_id, status=RunStatus.SENDING).select_related("roster")
    run = queued.first()
    if run is not None:
        actions.certification_run_send(run=run)


@task()
def run_certification_assist(assistance_id: int) -> None:
    """Compare a partner's chunk and answer (``actions.certification_assist``)."""
    from . import actions
    from .choices import AssistanceStatus
    from .models import CertificationAssistance

    assistance = CertificationAssistance.objects.filter(
        pk=assistance_id, status=AssistanceStatus.QUEUED
    ).first()
    if assistance is not None:
        actions.certification_assist(assistance=assistance)

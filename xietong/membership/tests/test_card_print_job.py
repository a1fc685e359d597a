"""A long card print sheet runs as a job with progress and is downloaded once built (scoped, audited);
a short one is still answered at once (see test_views)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from xietong.core.models import AuditEvent
from xietong.core.testing import Scope, client_for, covers, make_user

from .. import actions
from ..models import CardPrintJob
from .factories import make_member

CARDS = ["membership.view_member", "membership.change_membercard"]


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(actions, "PRINT_NOW_LIMIT", 3)
    monkeypatch.setattr(actions.cards, "PRINT_PROGRESS_EVERY", 2)


@pytest.mark.usefixtures("short_limit")
def test_a_long_sheet_is_built_as_a_job_with_progress_and_downloaded(
    scope: Scope, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(12):
        make_member(scope.home)
    officer = client_for(make_user("officer", perms=CARDS, organization=scope.home))
    url = reverse("membership:card_print")
    page = officer.get(url, {"organization": scope.home.pk})
    assert page.status_code == 200 and 'data-testid="card-print-start"' in page.content.decode()
    assert not CardPrintJob.objects.exists()  # a GET starts nothing
    with django_capture_on_commit_callbacks(execute=True):
        started = officer.post(url, {"organization": scope.home.pk})
    job = CardPrintJob.objects.get()
    assert started["Location"] == reverse("membership:card_print_job", args=[job.pk])
    assert (job.status, job.total_cards, job.printed_cards) == ("done", 12, 12)
    progress = officer.get(started["Location"], headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="job-result"' in progress and "12" in progress
    pdf = officer.get(reverse("membership:card_print_file", args=[job.pk]))
    content = b"".join(pdf.streaming_content)  # type: ignore[attr-defined]
    assert content.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b", content)) == 2
    exports = AuditEvent.objects.filter(action="export")
    assert exports.filter(target_type="membership.membercard").get().changes["detail"]["printed"] == 12
    assert exports.filter(target_type="membership.cardprintjob").count() == 1  # the download


@covers("membership:card_print_job", "membership:card_print_file")
@pytest.mark.usefixtures("short_limit")
def test_another_unions_officer_cannot_follow_or_download_the_job(
    scope: Scope, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(4):
        make_member(scope.home)
    officer = client_for(make_user("officer", perms=CARDS, organization=scope.home))
    with django_capture_on_commit_callbacks(execute=True):
        officer.post(reverse("membership:card_print"), {"organization": scope.home.pk})
    job = CardPrintJob.objects.get()
    outsider = client_for(make_user("outsider", perms=CARDS, organization=scope.other))
    assert outsider.get(reverse("membership:card_print_job", args=[job.pk])).status_code == 404
    assert outsider.get(reverse("membership:card_print_file", args=[job.pk])).status_code == 404
    assert outsider.post(reverse("membership:card_print"), {"organization": scope.home.pk}).status_code == 404

"""Outreach events (职工沟通会): join drives with their own QR code."""

from __future__ import annotations

import secrets
from datetime import date

from django.db import transaction

from xietong.core import actions as core_actions
from xietong.core.models import Employer, Organization, User

from ..models import (
    OutreachEvent,
)


@transaction.atomic
def outreach_event_create(
    *,
    organization: Organization,
    title: str,
    held_on: date,
    acting_user: User | None,
    employer: Employer | None = None,
) -> OutreachEvent:
    """A join drive at a workplace, with its own QR code."""
    event = OutreachEvent(
        organization=organization,
        employer=employer,
        title=title.strip(),
        held_on=held_on,
        code=secrets.token_urlsafe(9),
    )
    return core_actions.save_with_audit(event, acting_user=acting_user)

"""Members: enrolment, membership numbers and status changes."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from xietong.core import actions as core_actions
from xietong.core.models import Employer, Organization, Person, User
from xietong.core.workflows import move_audited

from ..choices import MemberStatus
from ..models import (
    Member,
)
from ..numbers import member_number
from .figures import figures_member_changed, member_state

# Members ------------------------------------------------------------------------------------------


@transaction.atomic
def member_create(
    *,
    person: Person,
    organization: Organization,
    joined_on: date,
    source: str,
    acting_user: User | None,
    employer: Employer | None = None,
) -> Member:
    """Enrol a person in a union; refused if the person already holds a current membership."""
    current = Member.objects.filter(person=person, status__in=MemberStatus.current()).first()
    if current is not None:
        raise ValidationError(f"{person.name}已是{current.organization.name}的会员，不能重复入会")
    member = Member(
        person=person,
        organization=organization,
        employer=employer,
        joined_on=joined_on,
        source=source,
        number=member_number(),
    )
    try:
        with transaction.atomic():
            core_actions.save_with_audit(member, acting_user=acting_user)
    except IntegrityError as exc:  # a concurrent enrolment of the same person
        raise ValidationError(f"{person.name}已是会员，不能重复入会") from exc
    figures_member_changed(before=None, after=member_state(member, cards=0))
    return member


@transaction.atomic
def member_set_status(
    *, member: Member, status: str, acting_user: User, left_on: date | None = None
) -> Member:
    """Suspend, reinstate, record leaving or death; cards stop verifying unless the member is active."""
    before = member_state(member, cards=0)  # cards stay as they are
    if status in (MemberStatus.LEFT, MemberStatus.DECEASED):
        member.left_on = left_on or timezone.localdate()
    move_audited(member, to=status, acting_user=acting_user)
    figures_member_changed(before=before, after=member_state(member, cards=0))
    return member

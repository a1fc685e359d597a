"""Members: enrolment, membership numbers and status changes."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xietong.core import actions as core_actions
from xietong.core import audit
from xietong.core.choices import AuditAction
from xietong.core.models import Employer, Organization, Person, User
from xietong.core.workflows import move_audited

from ..choices import MemberStatus
from ..models import (
    Member,
)
from ..numbers import member_number
from .figures import figures_member_changed, member_state

#: Moves that take a member's rights away: they need a confirmation and a stated reason.
DESTRUCTIVE_MEMBER_MOVES = (MemberStatus.SUSPENDED, MemberStatus.LEFT, MemberStatus.DECEASED)


def require_reason(reason: str) -> str:
    """The reason given for a destructive change, stripped; ``ValidationError`` on ``reason`` if
    none is given (the history and the audit show it, so it must say something)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写原因，它会记入变更记录")})
    return reason[:200]


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
    employer_name: str = "",
) -> Member:
    """Enrol a person in a union; refused if the person already holds a current membership.

    ``employer_name`` is the employer as the person gave it (kept when no registered employer fits,
    so an officer can link one later)."""
    current = Member.objects.filter(person=person, status__in=MemberStatus.current()).first()
    if current is not None:
        raise ValidationError(f"{person.name}已是{current.organization.name}的会员，不能重复入会")
    member = Member(
        person=person,
        organization=organization,
        employer=employer,
        employer_name=(employer_name or "").strip()[:200],
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
    *, member: Member, status: str, acting_user: User, reason: str = "", left_on: date | None = None
) -> Member:
    """Suspend, reinstate, record leaving or death; cards stop verifying unless the member is active.

    Suspending, leaving and death need a reason (kept in the audit event the member's history
    shows); reinstating may give one."""
    if status in DESTRUCTIVE_MEMBER_MOVES and status in Member.TRANSITIONS.get(member.status, ()):
        reason = require_reason(reason)
    before = member.snapshot()
    counted = member_state(member, cards=0)  # cards stay as they are
    if status in (MemberStatus.LEFT, MemberStatus.DECEASED):
        member.left_on = left_on or timezone.localdate()
    detail = {"reason": reason.strip()[:200]} if reason.strip() else None
    move_audited(member, to=status, acting_user=acting_user, before=before, detail=detail)
    figures_member_changed(before=counted, after=member_state(member, cards=0))
    return member


@transaction.atomic
def member_link_employer(*, member: Member, employer: Employer, acting_user: User) -> Member:
    """Link the member to a registered employer (the officer's choice for the name the worker typed
    when joining, which stays as it was typed). Audited."""
    if not employer.organization.path or not (
        member.organization.path.startswith(employer.organization.path)
        or employer.organization.path.startswith(member.organization.path)
    ):
        raise ValidationError({"employer": _("该单位不在会员所属工会的范围内")})
    before = member.snapshot()
    member.employer = employer
    member.save(update_fields=["employer", "updated_at"])
    audit.record(
        AuditAction.UPDATE, target=member, acting_user=acting_user, before=before, after=member.snapshot()
    )
    return member

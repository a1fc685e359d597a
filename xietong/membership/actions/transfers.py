"""Membership transfers between unions: request, accept, refuse, withdraw."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from xietong.core import actions as core_actions
from xietong.core import audit
from xietong.core.choices import AuditAction
from xietong.core.models import Organization, User
from xietong.core.workflows import move_audited

from ..choices import MemberStatus, TransferStatus
from ..models import (
    Member,
    MembershipTransfer,
)
from .figures import figures_member_changed, member_state

# Transfers ----------------------------------------------------------------------------------------


@transaction.atomic
def transfer_request(
    *, member: Member, to_organization: Organization, acting_user: User
) -> MembershipTransfer:
    """Ask the receiving union to take the member; one pending transfer per member."""
    if not to_organization.is_union:
        raise ValidationError({"to_organization": f"“{to_organization.name}”不是工会，不能转入会员"})
    if to_organization.pk == member.organization_id:
        raise ValidationError({"to_organization": "转入工会与会员现在所在的工会相同"})
    if member.status not in MemberStatus.current():
        raise ValidationError(f"会籍状态为“{member.get_status_display()}”的会员不能转接")
    if MembershipTransfer.objects.filter(member=member, status=TransferStatus.REQUESTED).exists():
        raise ValidationError("该会员已有一份待办理的转接，请等待转入工会办理或先撤回")
    transfer = MembershipTransfer(
        member=member,
        from_organization=member.organization,
        to_organization=to_organization,
        requested_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    return core_actions.save_with_audit(transfer, acting_user=acting_user)


def _decide(transfer: MembershipTransfer, *, to: str, acting_user: User, reason: str = "") -> None:
    transfer.reason = reason[:200]
    transfer.decided_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    transfer.decided_at = timezone.now()
    move_audited(transfer, to=to, acting_user=acting_user)


@transaction.atomic
def transfer_accept(*, transfer: MembershipTransfer, acting_user: User) -> Member:
    """The receiving union takes the member: the membership moves, its number and cards stay."""
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    _decide(transfer, to=TransferStatus.ACCEPTED, acting_user=acting_user)
    before = member.snapshot()
    counted = member_state(member)
    member.organization = transfer.to_organization
    member.save()
    figures_member_changed(before=counted, after=counted._replace(organization_id=member.organization_id))
    audit.record(
        AuditAction.UPDATE,
        target=member,
        acting_user=acting_user,
        before=before,
        after=member.snapshot(),
        detail={"transfer": transfer.pk},
    )
    return member


@transaction.atomic
def transfer_refuse(*, transfer: MembershipTransfer, reason: str, acting_user: User) -> MembershipTransfer:
    """The receiving union declines, saying why."""
    if not reason.strip():
        raise ValidationError({"reason": "请填写拒绝的原因"})
    _decide(transfer, to=TransferStatus.REFUSED, acting_user=acting_user, reason=reason.strip())
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: MembershipTransfer, acting_user: User) -> MembershipTransfer:
    """The sending union withdraws a request not yet decided."""
    _decide(transfer, to=TransferStatus.CANCELLED, acting_user=acting_user)
    return transfer

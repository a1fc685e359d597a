"""Joining a union: the worker's application from the QR-code page and its review."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xietong.core import actions as core_actions
from xietong.core import audit, pii
from xietong.core.choices import AuditAction
from xietong.core.models import Organization, Person, User
from xietong.core.workflows import move_audited
from xietong.lib import names, phone

from .. import selectors
from ..choices import ApplicationStatus, MemberSource, MemberStatus
from ..models import (
    JoinApplication,
    Member,
    OutreachEvent,
)
from ..wording import parse_public_id_number
from .cards import card_issue
from .members import member_create

# Joining ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinReceipt:
    """What a join submission answers: the status link's token, the same kind of answer whatever
    the ID number's state (issue 11, defect 4). ``application`` is the new application, or ``None``
    when the number already belongs to a member or to a pending application of this union; only
    the status page tells that, to someone who gives the phone number on record."""

    token: str
    application: JoinApplication | None


@transaction.atomic
def join_application_submit(
    *,
    organization: Organization,
    name: str,
    id_number: str,
    phone_number: str,
    employer_name: str,
    consent: bool,
    event: OutreachEvent | None = None,
) -> JoinReceipt:
    """A worker's application from the QR-code page. Validates every field with a Chinese reason.

    A number that is already a member of the union, or has an application pending there, makes no
    second application but gets the same answer (a receipt) as a new one: the public form must not
    tell anyone what it knows about an ID number. The application is built, encrypted and audited
    on every path, so the answers take about the same time."""
    errors: dict[str, str] = {}
    if not consent:
        errors["consent"] = "请阅读并同意个人信息处理规则后再提交"
    normalized = names.normalize_name(name)
    if not normalized.simplified:
        errors["name"] = "请填写姓名"
    parsed = None
    try:
        parsed = parse_public_id_number(id_number)  # the public wording (issue 12 §4)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    number = ""
    try:
        number = phone.parse(phone_number)
    except phone.InvalidPhone as exc:
        errors["phone_number"] = str(exc)
    if not employer_name.strip():
        errors["employer_name"] = "请填写工作单位"
    if errors or parsed is None:
        raise ValidationError(errors)
    index = pii.blind_index(parsed.number, purpose="id_number")
    application = JoinApplication(
        organization=organization,
        event=event,
        name=normalized.simplified,
        id_number_cipher=pii.encrypt(parsed.number, field="id_number"),
        id_number_index=index,
        id_number_masked=parsed.masked(),
        phone_cipher=pii.encrypt(number, field="phone"),
        phone_masked=pii.mask_phone(number),
        employer_name=names.to_simplified(employer_name.strip()),
        employer=selectors.employer_for_union(name=employer_name, organization=organization),
        consented_at=timezone.now(),
        access_token=secrets.token_urlsafe(32),
    )
    application.full_clean()
    receipt = selectors.join_receipt_token(organization_id=organization.pk, id_number_index=index)
    known = selectors.join_number_state(
        organization=organization, id_number_indexes=pii.lookup_indexes(parsed.number, purpose="id_number")
    )
    if known:
        audit.record(
            AuditAction.SUBMIT,
            target_type="membership.joinapplication",
            organization=organization,
            detail={"repeated": known, "id_number_masked": application.id_number_masked},
        )
        return JoinReceipt(receipt, None)
    application.save()
    audit.record(AuditAction.SUBMIT, target=application, after=application.snapshot())
    core_actions.notify(
        kind="membership.application",
        target=application,
        perm="membership.change_joinapplication",
        organization=organization,
        text=_("%(union)s收到%(name)s的入会申请") % {"union": organization.name, "name": application.name},
        link=reverse("membership:application_list") + "?status=submitted",
    )
    return JoinReceipt(receipt, application)


@transaction.atomic
def join_application_approve(*, application: JoinApplication, acting_user: User) -> Member:
    """Approve: link or register the person (blind index), make the member, issue the e-card.

    A person who already holds a current membership on this node is refused with the union's name:
    the officer starts a membership transfer instead of creating a second membership.
    """
    number = pii.decrypt(application.id_number_cipher, field="id_number")
    person = Person.objects.filter(
        id_number_index__in=pii.lookup_indexes(number, purpose="id_number")
    ).first()
    if person is not None:
        current = Member.objects.filter(person=person, status__in=MemberStatus.current()).first()
        if current is not None:
            raise ValidationError(
                f"{application.name}已是{current.organization.name}的会员（会员编号{current.number}），"
                "不能重复入会；请办理会员关系转接"
            )
    else:
        person = core_actions.person_create(
            name=application.name,
            id_number=number,
            phone=pii.decrypt(application.phone_cipher, field="phone"),
            organization=application.organization,
            acting_user=acting_user,
        )
    # The employer the worker typed is kept: the registered one it names (matched on submission or
    # registered since), and the text as typed, which an officer can link later.
    employer = application.employer or selectors.employer_for_union(
        name=application.employer_name, organization=application.organization
    )
    member = member_create(
        person=person,
        organization=application.organization,
        employer=employer,
        employer_name=application.employer_name,
        joined_on=timezone.localdate(),
        source=MemberSource.JOIN,
        acting_user=acting_user,
    )
    card_issue(member=member, acting_user=acting_user)
    before = application.snapshot()
    application.member = member
    application.reviewed_by = acting_user
    application.reviewed_at = timezone.now()
    move_audited(
        application,
        to=ApplicationStatus.APPROVED,
        acting_user=acting_user,
        action=AuditAction.APPROVE,
        before=before,
    )
    return member


@transaction.atomic
def join_application_reject(
    *, application: JoinApplication, reason: str, acting_user: User
) -> JoinApplication:
    """Reject with a reason the worker reads on the status page."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写不通过的原因，申请人会看到它"})
    before = application.snapshot()
    application.reason = reason[:200]
    application.reviewed_by = acting_user
    application.reviewed_at = timezone.now()
    move_audited(
        application,
        to=ApplicationStatus.REJECTED,
        acting_user=acting_user,
        action=AuditAction.REJECT,
        before=before,
    )
    return application


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk approval did: the members made and, per refused application, the reason."""

    approved: list[Member]
    refused: list[tuple[JoinApplication, str]]


def join_applications_approve_bulk(*, applications: list[JoinApplication], acting_user: User) -> BulkOutcome:
    """Approve each application in its own transaction; one refusal does not undo the others."""
    approved: list[Member] = []
    refused: list[tuple[JoinApplication, str]] = []
    for application in applications:
        try:
            approved.append(join_application_approve(application=application, acting_user=acting_user))
        except ValidationError as exc:
            refused.append((application, "；".join(exc.messages)))
    return BulkOutcome(approved, refused)

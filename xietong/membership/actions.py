"""Every write of the membership app (ARCHITECTURE.md §3.1): keyword-only, transactional, audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum import luhn

from xietong.core import actions as core_actions
from xietong.core import audit, pii
from xietong.core.choices import AuditAction
from xietong.core.models import Employer, Organization, Person
from xietong.core.workflows import InvalidTransition, transition
from xietong.lib import names, phone

from . import cardtokens
from .choices import ApplicationStatus, CardStatus, MemberSource, MemberStatus
from .models import CardUse, JoinApplication, Member, MemberCard, OutreachEvent, ServicePoint

CARD_PREFIX = "8611"  # card numbers: prefix, 11 random digits, Luhn check digit (16 digits, as bank cards)


def _audit_move(obj: Any, *, to: str, acting_user: Any, detail: dict[str, Any] | None = None) -> None:
    """Move ``obj`` through its workflow, save it and audit the move (``ValidationError`` if not allowed)."""
    before = obj.snapshot()
    try:
        transition(obj, to=to)
    except InvalidTransition as exc:
        raise ValidationError(str(exc)) from exc
    obj.save()
    audit.record(AuditAction.STATUS, target=obj, acting_user=acting_user, before=before,
                 after=obj.snapshot(), detail=detail)  # fmt: skip


# Joining ------------------------------------------------------------------------------------------


def _employer_named(name: str) -> Employer | None:
    return Employer.objects.filter(name=names.to_simplified(name.strip())).first()


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
) -> JoinApplication:
    """A worker's application from the QR-code page. Validates every field with a Chinese reason;
    a second application for the same union while one is pending is refused."""
    errors: dict[str, str] = {}
    if not consent:
        errors["consent"] = "请阅读并同意个人信息处理规则后再提交"
    normalized = names.normalize_name(name)
    if not normalized.simplified:
        errors["name"] = "请填写姓名"
    parsed = None
    try:
        parsed = core_actions.parse_id_number(id_number)
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
    pending = JoinApplication.objects.filter(
        organization=organization, id_number_index=index, status=ApplicationStatus.SUBMITTED
    )
    if pending.exists():
        raise ValidationError({"id_number": "您已提交过入会申请，正在审核中，请勿重复提交"})
    current = Member.objects.filter(
        person__id_number_index=index, organization=organization, status__in=MemberStatus.current()
    )
    if current.exists():
        raise ValidationError({"id_number": "您已是本工会会员，无需再次申请"})
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
        employer=_employer_named(employer_name),
        consented_at=timezone.now(),
        access_token=secrets.token_urlsafe(32),
    )
    application.full_clean()
    application.save()
    audit.record(AuditAction.SUBMIT, target=application, after=application.snapshot())
    return application


@transaction.atomic
def join_application_approve(*, application: JoinApplication, acting_user: Any) -> Member:
    """Approve: link or register the person (blind index), make the member, issue the e-card.

    A person who already holds a current membership on this node is refused with the union's name:
    the officer starts a membership transfer instead of creating a second membership.
    """
    person = Person.objects.filter(id_number_index=application.id_number_index).first()
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
            id_number=pii.decrypt(application.id_number_cipher, field="id_number"),
            phone=pii.decrypt(application.phone_cipher, field="phone"),
            organization=application.organization,
            acting_user=acting_user,
        )
    member = member_create(
        person=person,
        organization=application.organization,
        employer=application.employer,
        joined_on=timezone.localdate(),
        source=MemberSource.JOIN,
        acting_user=acting_user,
    )
    card_issue(member=member, acting_user=acting_user)
    application.member = member
    application.reviewed_by = acting_user
    application.reviewed_at = timezone.now()
    before = application.snapshot()
    try:
        transition(application, to=ApplicationStatus.APPROVED)
    except InvalidTransition as exc:
        raise ValidationError(str(exc)) from exc
    application.save()
    audit.record(AuditAction.APPROVE, target=application, acting_user=acting_user, before=before,
                 after=application.snapshot())  # fmt: skip
    return member


@transaction.atomic
def join_application_reject(
    *, application: JoinApplication, reason: str, acting_user: Any
) -> JoinApplication:
    """Reject with a reason the worker reads on the status page."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写不通过的原因，申请人会看到它"})
    before = application.snapshot()
    try:
        transition(application, to=ApplicationStatus.REJECTED)
    except InvalidTransition as exc:
        raise ValidationError(str(exc)) from exc
    application.reason = reason[:200]
    application.reviewed_by = acting_user
    application.reviewed_at = timezone.now()
    application.save()
    audit.record(AuditAction.REJECT, target=application, acting_user=acting_user, before=before,
                 after=application.snapshot())  # fmt: skip
    return application


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk approval did: the members made and, per refused application, the reason."""

    approved: list[Member]
    refused: list[tuple[JoinApplication, str]]


def join_applications_approve_bulk(*, applications: list[JoinApplication], acting_user: Any) -> BulkOutcome:
    """Approve each application in its own transaction; one refusal does not undo the others."""
    approved: list[Member] = []
    refused: list[tuple[JoinApplication, str]] = []
    for application in applications:
        try:
            approved.append(join_application_approve(application=application, acting_user=acting_user))
        except ValidationError as exc:
            refused.append((application, "；".join(exc.messages)))
    return BulkOutcome(approved, refused)


@transaction.atomic
def outreach_event_create(
    *,
    organization: Organization,
    title: str,
    held_on: date,
    acting_user: Any,
    employer: Employer | None = None,
) -> OutreachEvent:
    """A join drive at a workplace, with its own QR code."""
    event = OutreachEvent(
        organization=organization, employer=employer, title=title.strip(), held_on=held_on,
        code=secrets.token_urlsafe(9),
    )  # fmt: skip
    return core_actions.save_with_audit(event, acting_user=acting_user)


# Members ------------------------------------------------------------------------------------------


def _new_member_number() -> str:
    while True:
        number = f"HY{timezone.localdate():%Y}{secrets.randbelow(10**8):08d}"
        if not Member.objects.filter(number=number).exists():
            return number


@transaction.atomic
def member_create(
    *,
    person: Person,
    organization: Organization,
    joined_on: date,
    source: str,
    acting_user: Any,
    employer: Employer | None = None,
) -> Member:
    """Enrol a person in a union; refused if the person already holds a current membership."""
    current = Member.objects.filter(person=person, status__in=MemberStatus.current()).first()
    if current is not None:
        raise ValidationError(f"{person.name}已是{current.organization.name}的会员，不能重复入会")
    member = Member(
        person=person, organization=organization, employer=employer, joined_on=joined_on, source=source,
        number=_new_member_number(),
    )  # fmt: skip
    try:
        with transaction.atomic():
            return core_actions.save_with_audit(member, acting_user=acting_user)
    except IntegrityError as exc:  # a concurrent enrolment of the same person
        raise ValidationError(f"{person.name}已是会员，不能重复入会") from exc


@transaction.atomic
def member_set_status(
    *, member: Member, status: str, acting_user: Any, left_on: date | None = None
) -> Member:
    """Suspend, reinstate, record leaving or death; cards stop verifying unless the member is active."""
    if status in (MemberStatus.LEFT, MemberStatus.DECEASED):
        member.left_on = left_on or timezone.localdate()
    _audit_move(member, to=status, acting_user=acting_user)
    return member


# Cards --------------------------------------------------------------------------------------------


def new_card_number() -> str:
    """A card number not yet used: prefix, 11 random digits, Luhn check digit."""
    while True:
        body = f"{CARD_PREFIX}{secrets.randbelow(10**11):011d}"
        number = body + luhn.calc_check_digit(body)
        if not MemberCard.objects.filter(number=number).exists():
            return number


@transaction.atomic
def card_issue(*, member: Member, acting_user: Any, replaces: MemberCard | None = None) -> MemberCard:
    """Issue a member's card (the e-card at once; a physical card is printed from the same number)."""
    card = MemberCard(
        member=member, number=new_card_number(), issued_on=timezone.localdate(), replaces=replaces
    )
    return core_actions.save_with_audit(card, acting_user=acting_user)


@transaction.atomic
def card_report_lost(*, card: MemberCard, acting_user: Any) -> MemberCard:
    """Mark the card lost; its tokens stop verifying at once."""
    _audit_move(card, to=CardStatus.LOST, acting_user=acting_user)
    return card


@transaction.atomic
def card_suspend(*, card: MemberCard, acting_user: Any) -> MemberCard:
    """Suspend the card (e.g. while a membership question is settled)."""
    _audit_move(card, to=CardStatus.SUSPENDED, acting_user=acting_user)
    return card


@transaction.atomic
def card_resume(*, card: MemberCard, acting_user: Any) -> MemberCard:
    """Put a suspended card back into use."""
    _audit_move(card, to=CardStatus.ACTIVE, acting_user=acting_user)
    return card


@transaction.atomic
def card_replace(*, card: MemberCard, acting_user: Any) -> MemberCard:
    """Replace a card (lost, damaged): the old one is retired at once, a new number is issued."""
    _audit_move(card, to=CardStatus.REPLACED, acting_user=acting_user)
    return card_issue(member=card.member, acting_user=acting_user, replaces=card)


@dataclass(frozen=True)
class Verification:
    """An accepted card at a service point: what the desk may see, and the recorded use."""

    card: MemberCard
    use: CardUse


class CardRefused(ValidationError):
    """A card or token that a service point must refuse; ``messages[0]`` is the reason."""


REFUSAL_BY_CARD_STATUS: dict[str, str] = {
    CardStatus.LOST: "此卡已挂失，不能使用",
    CardStatus.SUSPENDED: "此卡已暂停使用",
    CardStatus.REPLACED: "此卡已补换，请使用新卡",
}


@transaction.atomic
def card_verify(*, token: str, service_point: ServicePoint, benefit: str, acting_user: Any) -> Verification:
    """Check a scanned token (signature, expiry, card and membership status, never used before) and
    record the use. Raises ``CardRefused`` with the reason otherwise; nothing is recorded then."""
    if benefit not in service_point.benefits:
        raise CardRefused("本服务点不提供所选的普惠服务")
    try:
        checked = cardtokens.check(token, public_key=pii.node_public_key())
    except cardtokens.InvalidToken as exc:
        raise CardRefused(str(exc)) from exc
    if checked.node != settings.XIETONG_NODE_ID:
        raise CardRefused("此卡不是本节点签发的")
    card = (
        MemberCard.objects.select_related("member__person", "member__organization")
        .filter(number=checked.card_number)
        .first()
    )
    if card is None:
        raise CardRefused("卡号不存在")
    if card.status != CardStatus.ACTIVE:
        raise CardRefused(REFUSAL_BY_CARD_STATUS.get(card.status, "此卡不能使用"))
    if card.member.status != MemberStatus.ACTIVE:
        raise CardRefused(f"会员会籍状态为“{card.member.get_status_display()}”，不能享受会员服务")
    use = CardUse(card=card, service_point=service_point, benefit=benefit, token_id=checked.token_id,
                  verified_by=acting_user)  # fmt: skip
    try:
        with transaction.atomic():
            use.save(force_insert=True)
    except IntegrityError as exc:
        raise CardRefused("此二维码已使用过（重复扫码），请会员刷新电子卡") from exc
    return Verification(card, use)

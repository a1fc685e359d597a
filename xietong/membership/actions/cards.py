"""Member cards: issue, print, report lost, suspend, resume, replace, and verify at a service point."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from xietong.core import actions as core_actions
from xietong.core import audit, bulk, pii
from xietong.core.choices import AuditAction, JobStatus
from xietong.core.jobs import job_enqueue, job_progress, job_transition
from xietong.core.models import Organization, User
from xietong.core.workflows import move_audited

from .. import cardtokens, selectors
from ..choices import CardStatus, MemberStatus
from ..models import (
    CardPrintJob,
    CardUse,
    Member,
    MemberCard,
    ServicePoint,
)
from ..numbers import card_number, card_numbers
from .figures import figures_card_moved, figures_cards_issued
from .members import require_reason


@transaction.atomic
def card_issue(*, member: Member, acting_user: User | None, replaces: MemberCard | None = None) -> MemberCard:
    """Issue a member's card (the e-card at once; a physical card is printed from the same number)."""
    card = MemberCard(member=member, number=card_number(), issued_on=timezone.localdate(), replaces=replaces)
    core_actions.save_with_audit(card, acting_user=acting_user)
    figures_card_moved(organization_id=member.organization_id, before=None, after=card.status)
    return card


@transaction.atomic
def member_card_issue(*, member: Member, acting_user: User) -> MemberCard:
    """Issue a card to an active member who has none in use (e.g. one imported in bulk). Audited."""
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError(_("只能为在册会员发卡"))
    if MemberCard.objects.filter(member=member, status=CardStatus.ACTIVE).exists():
        raise ValidationError(_("该会员已有正常使用的会员卡"))
    return card_issue(member=member, acting_user=acting_user)


@transaction.atomic
def cards_issue_bulk(*, members: list[Member], acting_user: User | None) -> int:
    """Issue cards to many members at once (a print batch, a scaled demo); members that already hold
    an active card are skipped. One audit event for the batch. Returns the number issued."""
    holding: set[int] = set()
    active = MemberCard.objects.order_by().filter(status=CardStatus.ACTIVE)
    for part in bulk.where_in(active, "member_id", [m.pk for m in members], sql_type="bigint"):
        holding.update(part.values_list("member_id", flat=True))  # chunked: a million members fit
    todo = [m for m in members if m.pk not in holding and m.status == MemberStatus.ACTIVE]
    now, today = timezone.now(), timezone.localdate()
    size = len(todo)
    issued = bulk.insert(MemberCard, [{
        "id": bulk.allocate_ids(MemberCard, size), "member_id": [member.pk for member in todo],
        "number": card_numbers(size), "status": CardStatus.ACTIVE.value, "issued_on": today,
        "replaces_id": None, "created_at": now, "updated_at": now,
    }] if size else [])  # fmt: skip
    audit.record(AuditAction.CREATE, target_type="membership.membercard", acting_user=acting_user,
                 detail={"issued": issued})  # fmt: skip
    figures_cards_issued(organization_ids=[member.organization_id for member in todo])
    return issued


PRINT_BATCH_LIMIT = 1000
#: Sheets up to this many cards are built while the officer waits (under a second); longer ones run
#: as a ``CardPrintJob`` with progress.
PRINT_NOW_LIMIT = 100
#: How often (in cards) a print job reports its progress.
PRINT_PROGRESS_EVERY = 50


def _printed(cards: list[MemberCard], on_progress: Callable[[int], None] | None = None) -> list[Any]:
    """What each card shows, its QR code a freshly signed credential; ``on_progress(done)`` now and then."""
    from .. import printing

    key, node = pii.node_signing_key(), settings.XIETONG_NODE_ID
    printed = []
    for done, card in enumerate(cards[:PRINT_BATCH_LIMIT], start=1):
        printed.append(
            printing.PrintedCard(
                union=card.member.organization.name,
                name=card.member.person.name,
                number=card.number,
                credential=cardtokens.issue_physical(card_number=card.number, node=node, private_key=key),
            )
        )
        if on_progress is not None and done % PRINT_PROGRESS_EVERY == 0:
            on_progress(done)
    return printed


def card_print_batch(*, cards: list[MemberCard], acting_user: User, title: str) -> bytes:
    """The PDF print sheet of physical cards, each QR code a signed credential; audited as an export."""
    from .. import printing

    printed = _printed(cards)
    audit.record(AuditAction.EXPORT, target_type="membership.membercard", acting_user=acting_user,
                 detail={"printed": len(printed), "title": title})  # fmt: skip
    return printing.card_sheet(printed, title=title)


@transaction.atomic
def card_print_start(*, organization: Organization, acting_user: User, title: str) -> CardPrintJob:
    """Queue the print sheet of ``organization``'s active cards (with its subtree) as a background
    job; the page shows its progress and offers the PDF once built."""
    total = selectors.printable_cards(user=acting_user, organization=organization).count()
    job = CardPrintJob.objects.create(
        organization=organization,
        title=title,
        total_cards=min(total, PRINT_BATCH_LIMIT),
        created_by=acting_user,
    )
    audit.record(AuditAction.CREATE, target=job, acting_user=acting_user, after=job.snapshot())
    job_enqueue(job=job)
    return job


def card_print_run(*, job: CardPrintJob) -> None:
    """Build a queued print sheet (the runner of ``CardPrintJob``): sign each card's credential with
    progress, lay out the PDF, keep it on the job; audited as the export of the printed cards.

    The cards are those the job's creator may still change when it runs, so a right withdrawn in
    between prints nothing more than the creator could print now.
    """
    from django.core.files.base import ContentFile

    from .. import printing

    creator = job.created_by
    if creator is None:
        job_transition(job=job, to=JobStatus.FAILED, message=_("打印任务没有经办人，未生成"))
        return
    cards = list(selectors.printable_cards(user=creator, organization=job.organization)[:PRINT_BATCH_LIMIT])
    job_progress(job=job, done=0, total=len(cards), phase=_("正在为每张卡签发二维码"))
    printed = _printed(cards, on_progress=lambda done: job_progress(job=job, done=done))
    job_progress(job=job, done=len(printed), phase=_("正在排版PDF"))
    pdf = printing.card_sheet(printed, title=job.title)
    job.file.save(f"card-print-{job.pk}.pdf", ContentFile(pdf), save=False)
    audit.record(AuditAction.EXPORT, target_type="membership.membercard", acting_user=creator,
                 detail={"printed": len(printed), "title": job.title})  # fmt: skip
    job_transition(
        job=job, to=JobStatus.DONE, message=_("已生成 %(count)s 张卡的打印文件") % {"count": len(printed)}
    )


def card_print_downloaded(*, job: CardPrintJob, acting_user: User) -> None:
    """Record that someone downloaded a print sheet (it carries every card's signed credential)."""
    audit.record(AuditAction.EXPORT, target=job, acting_user=acting_user, detail={"title": job.title})


@transaction.atomic
def card_report_lost(*, card: MemberCard, acting_user: User, reason: str) -> MemberCard:
    """Mark the card lost; its tokens stop verifying at once. The reason is required and audited."""
    detail = {"reason": require_reason(reason)}
    _move_card(card, to=CardStatus.LOST, acting_user=acting_user, detail=detail)
    return card


@transaction.atomic
def card_suspend(*, card: MemberCard, acting_user: User, reason: str) -> MemberCard:
    """Suspend the card (e.g. while a membership question is settled); the reason is required."""
    detail = {"reason": require_reason(reason)}
    _move_card(card, to=CardStatus.SUSPENDED, acting_user=acting_user, detail=detail)
    return card


@transaction.atomic
def card_resume(*, card: MemberCard, acting_user: User, reason: str = "") -> MemberCard:
    """Put a suspended card back into use (a reason may be given)."""
    detail = {"reason": reason.strip()[:200]} if reason.strip() else None
    _move_card(card, to=CardStatus.ACTIVE, acting_user=acting_user, detail=detail)
    return card


@transaction.atomic
def card_replace(*, card: MemberCard, acting_user: User, reason: str) -> MemberCard:
    """Replace a card (lost, damaged): the old one is retired at once, a new number is issued.
    The reason is required and audited."""
    detail = {"reason": require_reason(reason)}
    _move_card(card, to=CardStatus.REPLACED, acting_user=acting_user, detail=detail)
    return card_issue(member=card.member, acting_user=acting_user, replaces=card)


def _move_card(
    card: MemberCard, *, to: str, acting_user: User, detail: dict[str, Any] | None = None
) -> MemberCard:
    """Move the card through its workflow (audited, with ``detail`` such as the reason) and shift the
    figures' cards in use."""
    before = card.status
    move_audited(card, to=to, acting_user=acting_user, detail=detail)
    figures_card_moved(organization_id=card.member.organization_id, before=before, after=card.status)
    return card


@dataclass(frozen=True)
class Verification:
    """An accepted card at a service point: what the desk may see, and the recorded use."""

    card: selectors.DeskCard
    use_id: int
    benefit: str


class CardRefused(ValidationError):
    """A card or token that a service point must refuse; ``messages[0]`` is the reason."""


REFUSAL_BY_CARD_STATUS: dict[str, str] = {
    CardStatus.LOST: gettext_noop("此卡已挂失，不能使用"),
    CardStatus.SUSPENDED: gettext_noop("此卡已暂停使用"),
    CardStatus.REPLACED: gettext_noop("此卡已补换，请使用新卡"),
}


def _check_token(token: str) -> cardtokens.CardToken:
    """Check a token with the node's current signing key or one of its earlier ones: cards printed
    and e-card codes issued before a key rotation keep working (ADR 019)."""
    keys = [key.public_key for key in reversed(pii.node_signing_keys())]
    return cardtokens.check(token, public_key=keys[0], earlier_keys=keys[1:])


def card_verify(*, token: str, service_point: ServicePoint, benefit: str, acting_user: User) -> Verification:
    """Check a scanned token (signature, expiry, card and membership status, never used before) and
    record the use. Raises ``CardRefused`` with the reason otherwise; nothing is recorded then."""
    if benefit not in service_point.benefits:
        raise CardRefused(_("本服务点不提供所选的普惠服务"))
    try:
        checked = _check_token(token)
    except cardtokens.InvalidToken as exc:
        raise CardRefused(str(exc)) from exc
    if checked.node != settings.XIETONG_NODE_ID:
        raise CardRefused(_("此卡不是本节点签发的"))
    card, use_id = _record_use(
        number=checked.card_number,
        point_id=service_point.pk,
        benefit=benefit,
        token_id=checked.token_id,
        user_id=getattr(acting_user, "pk", None),
    )
    if card is None:
        raise CardRefused(_("卡号不存在"))
    if card.status != CardStatus.ACTIVE:
        raise CardRefused(_(REFUSAL_BY_CARD_STATUS.get(card.status, gettext_noop("此卡不能使用"))))
    if card.member_status != MemberStatus.ACTIVE:
        status = MemberStatus(card.member_status).label
        raise CardRefused(_("会员会籍状态为“%(status)s”，不能享受会员服务") % {"status": status})
    if use_id is None:
        raise CardRefused(_("此二维码已使用过（重复扫码），请会员刷新电子卡"))
    return Verification(card, use_id, benefit)


#: The one answer for a typed card number that does not exist and for last four digits that do not
#: match: a desk cannot tell which card numbers exist by trying them.
REFUSAL_NUMBER_MISMATCH = gettext_noop("卡号与身份证号码后四位不符，请核对后重新输入")


def card_verify_by_number(
    *, card_number: str, id_last4: str, service_point: ServicePoint, benefit: str, acting_user: User
) -> Verification:
    """Check a card number typed by hand at a desk with a second factor, the last four characters of
    the member's ID number (for a member with no phone to show the e-card, or a card whose QR code
    cannot be read), and record the use. Refusals as for a token; a number that does not exist and
    a wrong second factor get the same reason. The view limits tries per desk and per card."""
    if benefit not in service_point.benefits:
        raise CardRefused(_("本服务点不提供所选的普惠服务"))
    number = "".join(card_number.split()).upper()
    last4 = "".join(id_last4.split()).upper()
    card = selectors.desk_card(number) if number else None
    secret = selectors.desk_card_id_number(card.id) if card is not None else ""
    # Compared in constant time, and also when there is no such card, so both take as long.
    if not constant_time_compare((secret or "0" * 18)[-4:], last4) or card is None or len(last4) != 4:
        raise CardRefused(_(REFUSAL_NUMBER_MISMATCH))
    checked, use_id = _record_use(
        number=card.number,
        point_id=service_point.pk,
        benefit=benefit,
        token_id=f"n{secrets.token_hex(15)}",  # a typed number is not a replayable token: each entry is a use
        user_id=getattr(acting_user, "pk", None),
    )
    if checked is None:
        raise CardRefused(_(REFUSAL_NUMBER_MISMATCH))
    if checked.status != CardStatus.ACTIVE:
        raise CardRefused(_(REFUSAL_BY_CARD_STATUS.get(checked.status, "此卡不能使用")))
    if checked.member_status != MemberStatus.ACTIVE:
        raise CardRefused(
            _("会员会籍状态为“%(status)s”，不能享受会员服务")
            % {"status": MemberStatus(checked.member_status).label}
        )
    if use_id is None:
        raise CardRefused(_("此卡不能使用"))
    return Verification(checked, use_id, benefit)


_USE_COLUMNS = "(created_at, updated_at, card_id, service_point_id, benefit, token_id, verified_by_id)"


_PG_RECORD_USE = (
    f"WITH c AS ({selectors.desk_card_sql()}), u AS (INSERT INTO {CardUse._meta.db_table} {_USE_COLUMNS} "  # noqa: S608
    "SELECT %s::timestamptz, %s::timestamptz, c.id, %s::bigint, %s, %s, %s::bigint FROM c "
    "WHERE c.status = %s AND c.member_status = %s "
    "ON CONFLICT (token_id) DO NOTHING RETURNING id) SELECT c.*, (SELECT id FROM u) FROM c"
)


def _record_use(
    *, number: str, point_id: int, benefit: str, token_id: str, user_id: int | None
) -> tuple[selectors.DeskCard | None, int | None]:
    """Look the card up and, when card and membership are active, record its use unless the token
    was used before (a replay). Returns the card (``None``: no such number) and the new use's id
    (``None``: nothing recorded).

    ``INSERT … ON CONFLICT (token_id) DO NOTHING RETURNING`` needs no transaction or savepoint; on
    PostgreSQL the lookup and the insert are one statement (one round trip per scan at a busy desk).
    """
    from django.db import connection

    table = CardUse._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    use = [now, now, point_id, benefit, token_id, user_id]
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        # A server-side bound, prepared statement: PostgreSQL plans it once per connection.
        with psycopg.Cursor(connection.connection) as raw:
            raw.execute(_PG_RECORD_USE, [number, *use, CardStatus.ACTIVE, MemberStatus.ACTIVE], prepare=True)
            row = raw.fetchone()
        return (selectors.DeskCard(*row[:-1]), row[-1]) if row else (None, None)
    with connection.cursor() as cursor:
        card = selectors.desk_card(number)
        if card is None or card.status != CardStatus.ACTIVE or card.member_status != MemberStatus.ACTIVE:
            return card, None
        cursor.execute(
            f"INSERT INTO {table} {_USE_COLUMNS} VALUES (%s, %s, %s, %s, %s, %s, %s) "  # noqa: S608
            "ON CONFLICT (token_id) DO NOTHING RETURNING id",
            [now, now, card.id, point_id, benefit, token_id, user_id],
        )
        inserted = cursor.fetchone()
    return card, int(inserted[0]) if inserted else None

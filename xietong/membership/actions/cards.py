"""Member cards: issue, print, report lost, suspend, resume, replace, and verify at a service point."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from xietong.core import actions as core_actions
from xietong.core import audit, bulk, pii
from xietong.core.choices import AuditAction
from xietong.core.models import User
from xietong.core.workflows import move_audited

from .. import cardtokens, selectors
from ..choices import CardStatus, MemberStatus
from ..models import (
    CardUse,
    Member,
    MemberCard,
    ServicePoint,
)
from ..numbers import card_number, card_numbers
from .figures import figures_card_moved, figures_cards_issued


@transaction.atomic
def card_issue(*, member: Member, acting_user: User | None, replaces: MemberCard | None = None) -> MemberCard:
    """Issue a member's card (the e-card at once; a physical card is printed from the same number)."""
    card = MemberCard(member=member, number=card_number(), issued_on=timezone.localdate(), replaces=replaces)
    core_actions.save_with_audit(card, acting_user=acting_user)
    figures_card_moved(organization_id=member.organization_id, before=None, after=card.status)
    return card


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


def card_print_batch(*, cards: list[MemberCard], acting_user: User, title: str) -> bytes:
    """The PDF print sheet of physical cards, each QR code a signed credential; audited as an export."""
    from .. import printing

    key, node = pii.node_signing_key(), settings.XIETONG_NODE_ID
    printed = [
        printing.PrintedCard(
            union=card.member.organization.name,
            name=card.member.person.name,
            number=card.number,
            credential=cardtokens.issue_physical(card_number=card.number, node=node, private_key=key),
        )
        for card in cards[:PRINT_BATCH_LIMIT]
    ]
    audit.record(AuditAction.EXPORT, target_type="membership.membercard", acting_user=acting_user,
                 detail={"printed": len(printed), "title": title})  # fmt: skip
    return printing.card_sheet(printed, title=title)


@transaction.atomic
def card_report_lost(*, card: MemberCard, acting_user: User) -> MemberCard:
    """Mark the card lost; its tokens stop verifying at once."""
    return _move_card(card, to=CardStatus.LOST, acting_user=acting_user)


@transaction.atomic
def card_suspend(*, card: MemberCard, acting_user: User) -> MemberCard:
    """Suspend the card (e.g. while a membership question is settled)."""
    return _move_card(card, to=CardStatus.SUSPENDED, acting_user=acting_user)


@transaction.atomic
def card_resume(*, card: MemberCard, acting_user: User) -> MemberCard:
    """Put a suspended card back into use."""
    return _move_card(card, to=CardStatus.ACTIVE, acting_user=acting_user)


@transaction.atomic
def card_replace(*, card: MemberCard, acting_user: User) -> MemberCard:
    """Replace a card (lost, damaged): the old one is retired at once, a new number is issued."""
    _move_card(card, to=CardStatus.REPLACED, acting_user=acting_user)
    return card_issue(member=card.member, acting_user=acting_user, replaces=card)


def _move_card(card: MemberCard, *, to: str, acting_user: User) -> MemberCard:
    """Move the card through its workflow (audited) and shift the figures' cards in use."""
    before = card.status
    move_audited(card, to=to, acting_user=acting_user)
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
    CardStatus.LOST: "此卡已挂失，不能使用",
    CardStatus.SUSPENDED: "此卡已暂停使用",
    CardStatus.REPLACED: "此卡已补换，请使用新卡",
}


def card_verify(*, token: str, service_point: ServicePoint, benefit: str, acting_user: User) -> Verification:
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
    card, use_id = _record_use(
        number=checked.card_number,
        point_id=service_point.pk,
        benefit=benefit,
        token_id=checked.token_id,
        user_id=getattr(acting_user, "pk", None),
    )
    if card is None:
        raise CardRefused("卡号不存在")
    if card.status != CardStatus.ACTIVE:
        raise CardRefused(REFUSAL_BY_CARD_STATUS.get(card.status, "此卡不能使用"))
    if card.member_status != MemberStatus.ACTIVE:
        raise CardRefused(f"会员会籍状态为“{MemberStatus(card.member_status).label}”，不能享受会员服务")
    if use_id is None:
        raise CardRefused("此二维码已使用过（重复扫码），请会员刷新电子卡")
    return Verification(card, use_id, benefit)


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

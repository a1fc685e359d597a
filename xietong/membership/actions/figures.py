"""The membership figures as aggregates (``OrganizationFigures``, ``JoinDay``), kept current by the
actions that change the roll (issue 16), so that figures pages read a few rows per organisation
instead of counting 12万 members.

Single changes shift the figures by what changed (``figures_member_changed``, ``figures_card_moved``)
in the action's own transaction; bulk writes (an import, cards issued in bulk) recount the
organisations they touched (``figures_recount``). An organisation with no figures yet is recounted
on its first change, and ``xietong figures rebuild`` recounts every organisation from the roll.
Not audited: the figures are derived data; the changes they follow are audited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Count, F

from ..choices import CardStatus, MemberStatus
from ..models import JoinDay, Member, MemberCard, OrganizationFigures


class MemberState(NamedTuple):
    """What of a membership the figures count: where, in which status, since when, with how many
    cards in use."""

    organization_id: int
    status: str
    joined_on: date
    cards: int = 0


def member_state(member: Member, *, cards: int | None = None) -> MemberState:
    """The membership as the figures count it (``cards``: its cards in use, counted if not given)."""
    if cards is None:
        cards = MemberCard.objects.filter(member=member, status=CardStatus.ACTIVE).count()
    return MemberState(member.organization_id, member.status, member.joined_on, cards)


def figures_member_changed(*, before: MemberState | None, after: MemberState | None) -> None:
    """Shift the figures by a membership's change: joined (``before`` is ``None``), moved to another
    status, or transferred to another organisation (its cards and its day of joining go with it)."""
    shifts: dict[int, Counter[str]] = {}
    days: Counter[tuple[int, date]] = Counter()
    for state, sign in ((before, -1), (after, 1)):
        if state is None:
            continue
        counter = shifts.setdefault(state.organization_id, Counter())
        if state.status in (MemberStatus.ACTIVE, MemberStatus.SUSPENDED):
            counter[str(state.status)] += sign
        counter["cards"] += sign * state.cards
        days[(state.organization_id, state.joined_on)] += sign
    for organization_id, counter in shifts.items():
        joins = {day: n for (org, day), n in days.items() if org == organization_id and n}
        _shift(organization_id, counter, joins)


def figures_card_moved(*, organization_id: int, before: str | None, after: str | None) -> None:
    """Shift the cards in use of the card's member's organisation: issued (``before`` ``None``),
    lost, suspended, resumed, replaced."""
    delta = (after == CardStatus.ACTIVE) - (before == CardStatus.ACTIVE)
    if delta:
        _shift(organization_id, Counter(cards=delta), {})


def figures_cards_issued(*, organization_ids: Iterable[int]) -> None:
    """Cards issued in bulk: one new card in use per organisation id given (repeat an id for each)."""
    for organization_id, count in Counter(organization_ids).items():
        _shift(organization_id, Counter(cards=count), {})


def _shift(organization_id: int, counter: Counter[str], joins: dict[date, int]) -> None:
    changes = {
        field: F(field) + counter[field] for field in ("active", "suspended", "cards") if counter[field]
    }
    with transaction.atomic():
        if not OrganizationFigures.objects.filter(organization_id=organization_id).exists():
            figures_recount(organization_ids=[organization_id])  # counts this change too
            return
        if changes:
            OrganizationFigures.objects.filter(organization_id=organization_id).update(**changes)
        else:  # say the figures are current as of now
            OrganizationFigures.objects.filter(organization_id=organization_id).update(active=F("active"))
        for day, count in joins.items():
            rows = JoinDay.objects.filter(organization_id=organization_id, day=day)
            if rows.update(joins=F("joins") + count):
                continue
            try:
                with transaction.atomic():
                    JoinDay.objects.create(organization_id=organization_id, day=day, joins=count)
            except IntegrityError:  # created meanwhile by a concurrent change
                rows.update(joins=F("joins") + count)


@transaction.atomic
def figures_recount(*, organization_ids: Iterable[int]) -> None:
    """Recount the figures of these organisations (each alone, not its subtree) from the roll: after
    a bulk write, or the first time an organisation changes."""
    ids = sorted(set(organization_ids))
    if not ids:
        return
    members = Member.objects.order_by().filter(organization_id__in=ids)
    status = Counter(
        {(o, s): n for o, s, n in members.values_list("organization_id", "status").annotate(n=Count("pk"))}
    )
    cards = dict(
        MemberCard.objects.order_by()
        .filter(member__organization_id__in=ids, status=CardStatus.ACTIVE)
        .values_list("member__organization_id")
        .annotate(n=Count("pk"))
    )
    for organization_id in ids:
        OrganizationFigures.objects.update_or_create(
            organization_id=organization_id,
            defaults={
                "active": status[(organization_id, MemberStatus.ACTIVE.value)],
                "suspended": status[(organization_id, MemberStatus.SUSPENDED.value)],
                "cards": cards.get(organization_id, 0),
            },
        )
    JoinDay.objects.filter(organization_id__in=ids).delete()
    JoinDay.objects.bulk_create(
        [
            JoinDay(organization_id=o, day=d, joins=n)
            for o, d, n in members.values_list("organization_id", "joined_on").annotate(n=Count("pk"))
        ],
        batch_size=2000,
    )


def figures_rebuild() -> int:
    """Recount the figures of every organisation that has members or figures (``xietong figures
    rebuild``, after restoring a backup or writing to the roll outside the actions). Returns how many."""
    ids = set(Member.objects.order_by().values_list("organization_id", flat=True).distinct())
    ids |= set(OrganizationFigures.objects.values_list("organization_id", flat=True))
    figures_recount(organization_ids=ids)
    return len(ids)

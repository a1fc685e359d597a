"""The service point desk's hook for benefit items that another app keeps (ARCHITECTURE.md §3: the
membership app imports no app that builds on it).

The desk page and the card-verify API offer the plain card-use kinds (``choices.Benefit``). An app
that keeps benefit items with their own rules (the services app's 普惠服务项目: eligibility, a limit
per member, validity dates) registers a ``DeskBenefits`` hook in its ``AppConfig.ready``: the desk
then also offers that app's items for its service points, and a chosen item is redeemed by the hook,
which runs the card verification of ``actions.cards`` itself and may refuse with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from xietong.core.models import User

    from .actions.cards import Verification
    from .models import ServicePoint


@dataclass(frozen=True)
class Redemption:
    """An accepted benefit item: the card verification, the item's name and a note for the desk
    (e.g. how many uses are left this year)."""

    verification: Verification
    label: str
    note: str = ""


class DeskBenefits(Protocol):
    """What an app that keeps benefit items gives the desk."""

    prefix: str  # the choice values it answers for start with this

    def choices(self, points: QuerySet[ServicePoint]) -> list[tuple[str, str]]:
        """The items the desks of ``points`` may redeem: (choice value, label)."""
        ...

    def redeem(
        self,
        *,
        choice: str,
        service_point: ServicePoint,
        token: str,
        card_number: str,
        id_last4: str,
        acting_user: User,
    ) -> Redemption:
        """Verify the card (a token, or a typed number with the ID's last four characters), record
        the use against the item, or raise ``CardRefused`` with the reason (nothing recorded)."""
        ...


_hooks: list[DeskBenefits] = []


def register(hook: DeskBenefits) -> None:
    """Add ``hook`` (once) to the desk's benefit sources."""
    if all(existing.prefix != hook.prefix for existing in _hooks):
        _hooks.append(hook)


def choices(points: QuerySet[ServicePoint]) -> list[tuple[str, str]]:
    """The registered apps' items for the desks of ``points``."""
    return [choice for hook in _hooks for choice in hook.choices(points)]


def hook_for(choice: str) -> DeskBenefits | None:
    """The hook that answers for ``choice``, if any (a plain card-use kind has none)."""
    return next((hook for hook in _hooks if choice.startswith(hook.prefix)), None)

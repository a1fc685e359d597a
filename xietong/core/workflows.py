"""Workflows as data (ARCHITECTURE.md §3.3): a model lists its allowed moves in ``TRANSITIONS``.

``transition()`` is the one place that checks a move; ``move_audited()`` also saves the object and
writes its audit event, which is what most actions want.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import User


class InvalidTransition(Exception):
    """A move the workflow does not allow; the message names both states in Chinese."""


def transition(obj: Any, *, to: str, field: str = "status") -> str:
    """Move ``obj.<field>`` to ``to`` if ``obj.TRANSITIONS`` allows it; returns the old state.

    The caller saves the object (inside its transaction) and records the audit event.
    """
    current = getattr(obj, field)
    allowed = obj.TRANSITIONS.get(current, ())
    if to not in allowed:
        labels = dict(obj._meta.get_field(field).choices or [])
        raise InvalidTransition(
            _("不能从“%(src)s”变为“%(dst)s”")
            % {"src": labels.get(current, current), "dst": labels.get(to, to)}
        )
    setattr(obj, field, to)
    return str(current)


def move_audited(
    obj: Any,
    *,
    to: str,
    acting_user: User | None,
    action: str = "status",
    before: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move ``obj`` through its workflow, save it and audit the move (``ValidationError`` if not allowed).

    ``before`` is the snapshot taken before the caller changed other fields of ``obj``, if it did.
    """
    from . import audit

    before = before if before is not None else obj.snapshot()
    try:
        transition(obj, to=to)
    except InvalidTransition as exc:
        raise ValidationError(str(exc)) from exc
    obj.save()
    audit.record(
        action, target=obj, acting_user=acting_user, before=before, after=obj.snapshot(), detail=detail
    )

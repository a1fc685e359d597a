"""Writing and verifying the audit log (the only way rows get into ``AuditEvent``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.utils import timezone

from .choices import AuditAction
from .middleware import current_ip
from .models.audit import GENESIS_HASH, AuditEvent

if TYPE_CHECKING:
    from .models import User

# Any constant serialises audit writes on PostgreSQL; SQLite serialises writers by itself.
_AUDIT_LOCK_ID = 0x58494554


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_ID])


def record(
    action: AuditAction | str,
    *,
    target: models.Model | None = None,
    target_type: str = "",
    acting_user: User | None = None,
    organization: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the hash-chained log, in the caller's transaction.

    ``target`` is the record acted on; ``before``/``after`` are ``snapshot()`` dicts for changes;
    ``detail`` holds anything else worth keeping (e.g. the search term of a look-up). The
    organisation defaults to the target's owning organisation so the log is scoped like the data.
    """
    changes: dict[str, Any] = {}
    if before is not None or after is not None:
        keys = sorted(set(before or {}) | set(after or {}))
        changes["fields"] = {
            key: [(before or {}).get(key), (after or {}).get(key)]
            for key in keys
            if (before or {}).get(key) != (after or {}).get(key)
        }
    if detail:
        changes["detail"] = detail
    if organization is None and target is not None:
        organization = _owning_organization(target)
    user = (
        acting_user if acting_user is not None and getattr(acting_user, "is_authenticated", False) else None
    )
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=user,
            actor_username=user.get_username() if user else "",
            action=str(action),
            target_type=target_type or (target._meta.label_lower if target is not None else ""),
            target_id=str(target.pk) if target is not None else "",
            target_repr=str(target)[:200] if target is not None else "",
            organization=organization,
            changes=changes,
            ip_address=current_ip(),
            prev_hash=last or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def _owning_organization(target: models.Model) -> Any:
    from .models.organizations import Organization

    if isinstance(target, Organization):
        return target
    scope_field = getattr(target, "scope_field", None)
    if not scope_field:
        return None
    obj: Any = target
    for part in scope_field.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@dataclass(frozen=True)
class BrokenLink:
    """The first place where the chain does not hold, with the reason in Chinese."""

    event_id: int
    reason: str


def verify(*, batch_size: int = 2000) -> tuple[int, BrokenLink | None]:
    """Walk the log in order and recompute every hash. Returns (rows checked, first broken link or None)."""
    previous = GENESIS_HASH
    checked = 0
    for event in _iterate(batch_size):
        if event.prev_hash != previous:
            return checked, BrokenLink(
                event.pk, f"第{event.pk}条的前一条哈希与上一条记录不符（记录被删除或插入）"
            )
        if event.compute_hash() != event.hash:
            return checked, BrokenLink(event.pk, f"第{event.pk}条的内容与其哈希不符（记录被修改）")
        previous = event.hash
        checked += 1
    return checked, None


def _iterate(batch_size: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk

"""The exchange between regional nodes: transport only (ARCHITECTURE.md §3 rule 10).

Domain apps send with ``exchange.send(...)``/``exchange.broadcast(...)`` inside their own
transaction and declare what they receive with ``@exchange.handles(kind, body=Serializer)`` in
their ``messages.py`` (and, for what they send, ``@exchange.on_refused(kind)``: what to do when a peer
refuses it). The functions here import lazily so that a domain module can import this
package before the app registry is ready.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .kinds import handles, on_refused

if TYPE_CHECKING:
    from .models import ExchangeMessage

__all__ = ["broadcast", "handles", "on_refused", "send"]


def send(
    *,
    to: str,
    kind: str,
    body: dict[str, Any],
    idempotency_key: str,
    files: dict[str, Path] | None = None,
) -> ExchangeMessage:
    """Put one message for node ``to`` in the outbox, in the caller's transaction (idempotent by key).

    ``files`` (name → path) are copied into the blob folder and named, with size and SHA-256, in the
    signed message; the exchange worker uploads them after the peer accepted the message (ADR 017).
    """
    from .actions import message_send

    return message_send(receiver=to, kind=kind, body=body, idempotency_key=idempotency_key, files=files)


def broadcast(*, kind: str, body: dict[str, Any], idempotency_key: str) -> list[ExchangeMessage]:
    """Put the same message for every trusted peer of the region group in the outbox."""
    from .actions import broadcast as broadcast_all

    return broadcast_all(kind=kind, body=body, idempotency_key=idempotency_key)

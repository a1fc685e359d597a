"""What a node does with each kind of message it accepts: ``HANDLERS[kind](body, sender)``.

A handler calls an action; a ``ValidationError`` or ``Refused`` from it rejects the message with
the reason (the message is still logged and acknowledged, so the sender's queue moves on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .models import ExchangeNode

Handler = Callable[[dict[str, Any], ExchangeNode], object]


def _arrears(body: dict[str, Any], sender: ExchangeNode) -> object:
    from .actions import arrears_apply_remote

    return arrears_apply_remote(body, sender)


def _transfer(kind: str) -> Handler:
    def apply(body: dict[str, Any], sender: ExchangeNode) -> object:
        from .actions import transfer_apply_remote

        return transfer_apply_remote(kind, body, sender)

    return apply


def _certification_request(body: dict[str, Any], sender: ExchangeNode) -> object:
    from .actions import certification_request_apply

    return certification_request_apply(body, sender)


def _certification_findings(body: dict[str, Any], sender: ExchangeNode) -> object:
    from .actions import certification_findings_apply

    return certification_findings_apply(body, sender)


TRANSFER_KINDS = (
    "insurance.transfer_requested",
    "insurance.transfer_answered",
    "insurance.transfer_refused",
    "insurance.transfer_completed",
)

HANDLERS: dict[str, Handler] = {
    "arrears.listed": _arrears,
    "arrears.removed": _arrears,
    **{kind: _transfer(kind) for kind in TRANSFER_KINDS},
    "certification.request": _certification_request,
    "certification.findings": _certification_findings,
}

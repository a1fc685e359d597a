"""The message kinds the exchange itself receives: a peer's notice that it rejected one of this node's
messages when it applied it (ADR 016; domain apps hear of it through ``on_refused``), and, on the
hub, a node's request to register its new signing key (ADR 019)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from . import actions
from .kinds import handles
from .models import ExchangeNode


class RejectedBodySerializer(serializers.Serializer[Any]):
    """Which of our messages the peer rejected, and why (in the peer's words)."""

    id = serializers.CharField(max_length=32)
    kind = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)


@handles(actions.REJECTED_KIND, body=RejectedBodySerializer)
def rejected(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.rejection_received(message_id=data["id"], reason=data["reason"], sender=sender)


class KeyChangedBodySerializer(serializers.Serializer[Any]):
    """A node's new signing key, from when it signs with it, and its proof of holding it."""

    public_key = serializers.CharField(min_length=43, max_length=43)
    valid_from = serializers.CharField(max_length=40)
    proof = serializers.CharField(max_length=100)


@handles(actions.KEY_CHANGE_KIND, body=KeyChangedBodySerializer)
def key_changed(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.node_key_changed(
        sender=sender, public_key=data["public_key"], valid_from=data["valid_from"], proof=data["proof"]
    )

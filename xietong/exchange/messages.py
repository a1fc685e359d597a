"""The one message kind the exchange itself receives (ADR 016): a peer's notice that it rejected one
of this node's messages when it applied it. Domain apps hear of it through ``on_refused``."""

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

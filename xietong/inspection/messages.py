"""The message kinds the inspection app receives through the exchange (ADR 012): a listing on the
wage-arrears blacklist and its removal, published by the node that listed it. Kind strings are the
ones on the wire since the exchange began; do not rename them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from xietong.exchange import handles
from xietong.exchange.models import ExchangeNode

from . import actions
from .choices import ListingStatus


class ListingBodySerializer(serializers.Serializer[Any]):
    """A listing (or its removal) as the listing node publishes it."""

    uid = serializers.CharField(max_length=32)
    origin_node = serializers.SlugField(max_length=32)
    authority = serializers.CharField(max_length=100)
    credit_code = serializers.CharField(max_length=32)
    employer_name = serializers.CharField(max_length=200)
    amount_owed = serializers.DecimalField(max_digits=14, decimal_places=2)
    workers_affected = serializers.IntegerField(min_value=1)
    decision_no = serializers.CharField(max_length=100)
    listed_on = serializers.DateField()
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    status = serializers.ChoiceField(choices=ListingStatus.choices)
    removed_on = serializers.DateField(required=False, allow_null=True, default=None)
    removal_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


@handles("arrears.listed", body=ListingBodySerializer)
@handles("arrears.removed", body=ListingBodySerializer)
def arrears_received(data: dict[str, Any], sender: ExchangeNode) -> object:
    """A listing (or its removal) published by another node of the region group."""
    return actions.arrears_apply_remote(data=data, sender=sender)

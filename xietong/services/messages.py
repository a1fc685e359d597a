"""The message kinds the services app receives through the exchange (ADR 012): a request handed here
by another node, and the acknowledgement and answer of a request this node handed to another."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from xietong.exchange import handles
from xietong.exchange.models import ExchangeNode

from . import actions
from .choices import Channel


class HandoverBodySerializer(serializers.Serializer[Any]):
    """A request handed over, with what the other node needs to call the worker back."""

    uid = serializers.CharField(max_length=32)
    number = serializers.CharField(max_length=32)
    category = serializers.CharField(max_length=32)
    channel = serializers.ChoiceField(choices=Channel.choices)
    subject = serializers.CharField(max_length=120)
    description = serializers.CharField()
    requester_name = serializers.CharField(max_length=64)
    requester_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    employer_name = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    district = serializers.CharField(max_length=6, required=False, allow_blank=True, default="")
    union = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    filed_at = serializers.DateTimeField()


class AcknowledgedBodySerializer(serializers.Serializer[Any]):
    uid = serializers.CharField(max_length=32)
    acknowledged_at = serializers.DateTimeField()


class AnsweredBodySerializer(serializers.Serializer[Any]):
    uid = serializers.CharField(max_length=32)
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField()
    union = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")


@handles("services.request.handover", body=HandoverBodySerializer)
def request_handover(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.request_apply_remote("services.request.handover", data, sender)


@handles("services.request.acknowledged", body=AcknowledgedBodySerializer)
def request_acknowledged(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.request_apply_remote("services.request.acknowledged", data, sender)


@handles("services.request.answered", body=AnsweredBodySerializer)
def request_answered(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.request_apply_remote("services.request.answered", data, sender)

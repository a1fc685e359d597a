"""The message kinds the insurance app receives through the exchange (ADR 012): the four steps of an
insurance transfer and the receipt of its contact letter, and a partner's certification request and
its findings. Kind strings are the ones on the wire since the exchange began; do not rename them (a
node not yet upgraded sends them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from xietong.exchange import handles, on_refused
from xietong.exchange.models import ExchangeNode

from . import actions
from .choices import FindingKind, RosterKind, Scheme

_MONTH = r"^\d{4}-\d{2}$"


class TransferRequestedBodySerializer(serializers.Serializer[Any]):
    """The receiving region's contact letter (联系函)."""

    uid = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=64)
    id_number = serializers.CharField(max_length=32)
    scheme = serializers.ChoiceField(choices=Scheme.choices)
    applied_on = serializers.DateField()
    sent_on = serializers.DateField(required=False, allow_null=True, default=None)
    authority = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    office = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text=_("本节点负责答复的经办机构名称（旧版节点不发送）"),
    )  # fmt: skip


class PeriodSerializer(serializers.Serializer[Any]):
    """One stretch of contributions as the sending region reports it."""

    start = serializers.RegexField(_MONTH)
    end = serializers.RegexField(_MONTH)
    base = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class TransferAnsweredBodySerializer(serializers.Serializer[Any]):
    """The sending region's answer: the contribution record and the amounts."""

    uid = serializers.CharField(max_length=32)
    periods = PeriodSerializer(many=True)
    personal_account = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    pooled_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    answered_on = serializers.DateField()


class TransferRefusedBodySerializer(serializers.Serializer[Any]):
    uid = serializers.CharField(max_length=32)
    reason = serializers.CharField()


class TransferReceivedBodySerializer(serializers.Serializer[Any]):
    """The sending region's receipt of the contact letter: the day its limit runs from, and the
    office that took the transfer (the worker's page names it)."""

    uid = serializers.CharField(max_length=32)
    received_on = serializers.DateField()
    office = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TransferCompletedBodySerializer(serializers.Serializer[Any]):
    uid = serializers.CharField(max_length=32)
    completed_on = serializers.DateField()
    funds_received_on = serializers.DateField(required=False, allow_null=True, default=None)


@handles("insurance.transfer_requested", body=TransferRequestedBodySerializer)
def transfer_requested(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.transfer_apply_remote("insurance.transfer_requested", data, sender)


@handles("insurance.transfer_received", body=TransferReceivedBodySerializer)
def transfer_received(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.transfer_apply_remote("insurance.transfer_received", data, sender)


@handles("insurance.transfer_answered", body=TransferAnsweredBodySerializer)
def transfer_answered(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.transfer_apply_remote("insurance.transfer_answered", data, sender)


@handles("insurance.transfer_refused", body=TransferRefusedBodySerializer)
def transfer_refused(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.transfer_apply_remote("insurance.transfer_refused", data, sender)


@handles("insurance.transfer_completed", body=TransferCompletedBodySerializer)
def transfer_completed(data: dict[str, Any], sender: ExchangeNode) -> object:
    return actions.transfer_apply_remote("insurance.transfer_completed", data, sender)


# Benefit eligibility certification ----------------------------------------------------------------


class CertificationRequestBodySerializer(serializers.Serializer[Any]):
    """A partner's certification run (one attempt): private-mode encodings, no names or ID numbers, in
    the message's Parquet file (``encodings.parquet``), or as ``records`` in one chunk of an older
    node's JSON messages."""

    run = serializers.CharField(max_length=32)
    attempt = serializers.IntegerField(min_value=1, max_value=10_000, required=False, default=1)
    chunk = serializers.IntegerField(min_value=1, max_value=100_000)
    chunks = serializers.IntegerField(min_value=1, max_value=100_000)
    checks = serializers.ListField(
        child=serializers.ChoiceField(choices=FindingKind.choices), allow_empty=False
    )
    roster_kind = serializers.ChoiceField(
        choices=[
            (RosterKind.PENSION, RosterKind.PENSION.label),
            (RosterKind.UNEMPLOYMENT, RosterKind.UNEMPLOYMENT.label),
        ]
    )
    key = serializers.CharField()
    records = serializers.JSONField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["chunk"] > attrs["chunks"]:
            raise serializers.ValidationError({"chunk": _("分块序号不能大于分块总数")})
        return attrs


class FindingItemSerializer(serializers.Serializer[Any]):
    ref = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=FindingKind.choices)
    score = serializers.FloatField(min_value=0, max_value=1)
    evidence = serializers.CharField(allow_blank=True, trim_whitespace=False)


class CertificationFindingsBodySerializer(serializers.Serializer[Any]):
    """A partner's answer to one request (or chunk of an older node's): what it found, in the
    message's Parquet file (``findings.parquet``) or in ``findings``, or why it could not compare."""

    run = serializers.CharField(max_length=32)
    attempt = serializers.IntegerField(min_value=1, max_value=10_000, required=False, default=1)
    chunk = serializers.IntegerField(min_value=1, max_value=100_000)
    checked = serializers.IntegerField(min_value=0)
    findings = FindingItemSerializer(many=True)
    error = serializers.CharField(required=False, allow_blank=True, default="")


@handles("certification.request", body=CertificationRequestBodySerializer, files=True)
def certification_request(data: dict[str, Any], sender: ExchangeNode, files: dict[str, Path]) -> object:
    return actions.certification_request_apply(data, sender, files)


@handles("certification.findings", body=CertificationFindingsBodySerializer, files=True)
def certification_findings(data: dict[str, Any], sender: ExchangeNode, files: dict[str, Path]) -> object:
    return actions.certification_findings_apply(data, sender, files)


@on_refused("certification.request")
def certification_request_refused(body: dict[str, Any], reason: str, receiver: str) -> object:
    """A partner refused our request (another group key, a malformed file): that partner's request
    fails with the reason and the run can end (issue 13 §4)."""
    return actions.certification_request_refused(body, reason, receiver)

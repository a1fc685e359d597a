"""Serializers of the insurance API: transfers and their steps, certification runs and findings."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..choices import Scheme
from ..models import CertificationFinding, CertificationRequest, EligibilityCheck, InsuranceTransfer


class InsuranceTransferSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = InsuranceTransfer
        fields = [
            "id",
            "uid",
            "side",
            "sending_node",
            "receiving_node",
            "scheme",
            "name",
            "id_number_masked",
            "applied_on",
            "status",
            "status_display",
            "due_on",
            "step_late",
            "letter_sent_on",
            "letter_received_on",
            "funds_received_on",
            "peer_office",
            "periods",
            "personal_account",
            "pooled_amount",
            "fund_transfer_amount",
            "answered_on",
            "refusal_reason",
            "completed_on",
        ]
        read_only_fields = fields


class TransferRequestSerializer(serializers.Serializer):
    organization = serializers.IntegerField(help_text="经办机构（本节点组织 id）")
    name = serializers.CharField(max_length=64)
    id_number = serializers.CharField(max_length=40)
    sending_node = serializers.CharField(max_length=32)
    scheme = serializers.ChoiceField(choices=Scheme.choices, default=Scheme.PENSION)
    applied_on = serializers.DateField()
    sending_office = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="转出地负责答复的经办机构名称（可不填）",
    )  # fmt: skip


class TransferAnswerSerializer(serializers.Serializer):
    periods = serializers.CharField(
        help_text="每行一段：起始年月,截止年月,月缴费基数（也可为从 Excel 复制的制表符分隔行）"
    )
    personal_account = serializers.DecimalField(max_digits=14, decimal_places=2)


class TransferRefuseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class TransferAssignSerializer(serializers.Serializer):
    organization = serializers.IntegerField(help_text="交由办理的经办机构（本节点组织 id）")


class CertificationRequestSerializer(serializers.ModelSerializer):
    """A run as sent to one partner: ``status`` waiting / answered / failed, ``error`` why it failed,
    ``attempt`` how many times it was sent."""

    answered_chunks = serializers.SerializerMethodField()

    class Meta:
        model = CertificationRequest
        fields = [
            "partner", "partner_name", "status", "error", "attempt", "chunks", "answered_chunks", "checked",
            "findings", "answered_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_answered_chunks(self, obj: CertificationRequest) -> int:
        return len(obj.answered)


class EligibilityCheckSerializer(serializers.ModelSerializer):
    """A run: ``status`` is its job's (sending), ``stage`` whether it still waits for the partners;
    ``status_display`` says both in one phrase, as the pages do."""

    status_display = serializers.CharField(source="status_label", read_only=True)
    roster_title = serializers.CharField(source="roster.title", read_only=True)
    requests = CertificationRequestSerializer(many=True, read_only=True)

    class Meta:
        model = EligibilityCheck
        fields = [
            "id", "uid", "organization", "roster", "roster_title", "checks", "status", "stage",
            "status_display", "records", "chunks", "message", "created_at", "finished_at", "requests",
        ]  # fmt: skip
        read_only_fields = fields


class CertificationFindingSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="entry.name", read_only=True)
    id_number_masked = serializers.CharField(source="entry.id_number_masked", read_only=True)
    record_id = serializers.CharField(source="entry.record_id", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = CertificationFinding
        fields = [
            "id", "run", "name", "id_number_masked", "record_id", "partner", "partner_name", "kind",
            "kind_display", "evidence", "score", "status", "status_display", "note", "decided_at",
            "decided_in", "override_reason",
        ]  # fmt: skip
        read_only_fields = fields


class FindingDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    # A decision contrary to one already taken (in any run) is an override and needs its reason.
    override_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RunResendSerializer(serializers.Serializer[Any]):
    """Which failed partner to send a run to again."""

    partner = serializers.SlugField(max_length=32)

"""Serializers of the exchange API."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import Scheme
from ..models import ArrearsListing, InsuranceTransfer


class ArrearsListingSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = ArrearsListing
        fields = [
            "uid",
            "origin_node",
            "authority",
            "credit_code",
            "employer_name",
            "amount_owed",
            "workers_affected",
            "decision_no",
            "listed_on",
            "expires_on",
            "status",
            "status_display",
            "removed_on",
            "removal_reason",
        ]
        read_only_fields = fields


class ArrearsCheckSerializer(serializers.Serializer):
    listed = serializers.BooleanField()
    listings = ArrearsListingSerializer(many=True)


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


class TransferAnswerSerializer(serializers.Serializer):
    periods = serializers.CharField(help_text="每行一段：起始年月,截止年月,月缴费基数")
    personal_account = serializers.DecimalField(max_digits=14, decimal_places=2)


class TransferRefuseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)

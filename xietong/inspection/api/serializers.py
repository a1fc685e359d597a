"""Serializers of the inspection API: the blacklist and the answer to a check."""

from __future__ import annotations

from rest_framework import serializers

from ..models import ArrearsListing


class ArrearsListingSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    origin_node_name = serializers.CharField(read_only=True, default="")

    class Meta:
        model = ArrearsListing
        fields = [
            "uid",
            "origin_node",
            "origin_node_name",
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

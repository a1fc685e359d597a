"""Serializers of the services API: what a station and a request look like to a client (phones masked)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..choices import EntryKind
from ..models import ServiceRequest, ServiceStation


class ServiceStationSerializer(serializers.ModelSerializer[ServiceStation]):
    services: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)

    class Meta:
        model = ServiceStation
        fields = [
            "id",
            "name",
            "level",
            "organization",
            "organization_name",
            "district",
            "district_name",
            "address",
            "hours",
            "phone",
            "services",
            "description",
            "active",
        ]
        read_only_fields = fields


class ServiceRequestSerializer(serializers.ModelSerializer[ServiceRequest]):
    category_name = serializers.CharField(source="category.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "uid",
            "number",
            "channel",
            "category",
            "category_name",
            "subject",
            "description",
            "status",
            "requester_name",
            "requester_phone_masked",
            "organization",
            "organization_name",
            "employer_name",
            "acknowledge_due",
            "answer_due",
            "acknowledged_at",
            "answered_at",
            "answer",
            "closed_at",
            "satisfaction",
            "followup_due",
            "escalated_to",
            "handled_by",
            "origin_node",
            "created_at",
        ]
        read_only_fields = fields


class ReplySerializer(serializers.Serializer[Any]):
    """A reply or an internal note; ``final`` makes it the answer."""

    text = serializers.CharField()
    kind = serializers.ChoiceField(choices=[EntryKind.REPLY, EntryKind.NOTE], default=EntryKind.REPLY)
    final = serializers.BooleanField(default=False)

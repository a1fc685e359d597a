"""API representations. Personal data leaves only masked; the reveal endpoint is separate and audited."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import Employer, Organization, Person, Region


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "full_name", "level", "parent", "abolished", "valid_from", "valid_to"]


class OrganizationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "code", "name", "kind", "kind_display", "parent", "region", "depth", "path"]
        read_only_fields = ["depth", "path"]


class EmployerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Employer
        fields = ["id", "name", "credit_code", "region", "organization", "sector", "tags"]


class PersonSerializer(serializers.ModelSerializer):
    """A person as the API shows it: ID and phone masked."""

    id_number = serializers.CharField(source="id_number_masked", read_only=True)
    phone = serializers.CharField(source="phone_masked", read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "id_number",
            "gender",
            "birth_date",
            "id_region",
            "id_valid_until",
            "phone",
            "is_migrant_worker",
            "organization",
        ]


class PersonCreateSerializer(serializers.Serializer):
    """Input for registering a person; the action does the domain validation."""

    name = serializers.CharField(max_length=64)
    id_number = serializers.CharField(max_length=32)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    id_valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    is_migrant_worker = serializers.BooleanField(required=False, default=False)
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from .. import selectors

        request = self.context.get("request")
        if request is not None:
            field = self.fields["organization"]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            field.queryset = selectors.organizations_for(  # type: ignore[arg-type]  # stubs type queryset as a descriptor
                user=request.user, perm="core.add_person"
            )


class PersonRevealSerializer(serializers.Serializer):
    id_number = serializers.CharField()
    phone = serializers.CharField()

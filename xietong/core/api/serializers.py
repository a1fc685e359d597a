"""API representations. Personal data leaves only masked; the reveal endpoint is separate and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import pii
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


def scope_organizations(serializer: serializers.Serializer, perm: str) -> None:
    """Limit the ``organization`` field to where the requesting user holds ``perm``: an organisation
    outside the scope is refused exactly like a missing one (400, "对象不存在"), so the answer
    tells nothing about which ids exist (issue 11, defect 6)."""
    from .. import selectors

    request = serializer.context.get("request")
    field = serializer.fields["organization"]
    assert isinstance(field, serializers.PrimaryKeyRelatedField)
    scoped = (
        selectors.organizations_for(user=request.user, perm=perm)
        if request is not None
        else Organization.objects.none()
    )
    field.queryset = scoped  # type: ignore[arg-type]  # stubs type queryset as a descriptor


class EmployerSerializer(serializers.ModelSerializer):
    """An employer; ``organization`` offers only where the caller may add (or change) employers."""

    tags = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, help_text="标签（字符串列表）"
    )

    class Meta:
        model = Employer
        fields = ["id", "name", "credit_code", "region", "organization", "sector", "tags"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "organization" in self.fields and not self.fields["organization"].read_only:
            perm = "core.change_employer" if self.instance is not None else "core.add_employer"
            scope_organizations(self, perm)


class PersonSerializer(serializers.ModelSerializer):
    """A person as the API shows it: ID and phone masked; the full birth date only to callers who may
    reveal the number (else null, with the year in ``birth_year``: ``pii.birth_shown``)."""

    id_number = serializers.CharField(source="id_number_masked", read_only=True)
    phone = serializers.CharField(source="phone_masked", read_only=True)
    birth_date = serializers.SerializerMethodField(help_text="出生日期；无查看完整个人信息权限时为空")
    birth_year = serializers.IntegerField(source="birth_date.year", read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "id_number",
            "gender",
            "birth_date",
            "birth_year",
            "id_region",
            "id_valid_until",
            "phone",
            "is_migrant_worker",
            "organization",
        ]

    @extend_schema_field(OpenApiTypes.DATE)
    def get_birth_date(self, person: Person) -> str | None:
        request = self.context.get("request")
        shown = pii.birth_shown(getattr(request, "user", None), person)
        return shown.isoformat() if isinstance(shown, date) else None


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
        scope_organizations(self, "core.add_person")


class PersonRevealSerializer(serializers.Serializer):
    id_number = serializers.CharField()
    phone = serializers.CharField()

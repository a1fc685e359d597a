"""Serializers of the membership API: they check shapes; the actions check meaning."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import Benefit
from ..models import Member


class VerifyRequestSerializer(serializers.Serializer):
    """What a service point sends: the scanned token, where, and which benefit."""

    token = serializers.CharField(max_length=2000, help_text="会员电子卡二维码的内容（XT1.…）")
    service_point = serializers.IntegerField(help_text="服务点编号")
    benefit = serializers.ChoiceField(choices=Benefit.choices)
    item = serializers.CharField(
        required=False,
        max_length=40,
        help_text="普惠服务项目（如 benefit-3，见核验页面）：按项目的资格和次数上限登记；"
        "不填则只登记用卡类型",
    )


class VerifyResultSerializer(serializers.Serializer):
    """The answer: accepted with the member's masked identity, or refused with the reason."""

    ok = serializers.BooleanField()
    reason = serializers.CharField(required=False)
    card_number = serializers.CharField(required=False)
    name = serializers.CharField(required=False)
    id_number_masked = serializers.CharField(required=False)
    union = serializers.CharField(required=False)
    use_id = serializers.IntegerField(required=False)
    item = serializers.CharField(required=False, help_text="兑现的普惠服务项目名称")
    note = serializers.CharField(required=False, help_text="例如本年度剩余次数")


class MemberSerializer(serializers.ModelSerializer):
    """A member as the roll shows it (identity masked)."""

    name = serializers.CharField(source="person.name")
    id_number_masked = serializers.CharField(source="person.id_number_masked")
    union = serializers.CharField(source="organization.name")
    employer = serializers.CharField(source="employer.name", default="")

    class Meta:
        model = Member
        fields = ["id", "number", "name", "id_number_masked", "union", "employer", "status", "joined_on"]

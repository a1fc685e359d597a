"""REST endpoints of the membership app: the same selectors and actions as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.core.api.authentication import CachedTokenAuthentication
from xietong.core.api.permissions import ScopedModelPermission

from .. import actions, selectors
from ..models import Member
from .serializers import MemberSerializer, VerifyRequestSerializer, VerifyResultSerializer


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The member roll of the caller's scope; ``?q=`` searches by name, number, employer or ID number."""

    serializer_class = MemberSerializer
    permission_classes = [ScopedModelPermission]

    def get_queryset(self) -> QuerySet[Member]:
        return selectors.member_search(
            selectors.members(user=self.request.user), self.request.query_params.get("q", "")
        )


class CardVerifyView(APIView):
    """Verify a scanned card token at a service point and record the use (HTTP 200 with ``ok``).

    Desk accounts authenticate with a token kept in memory for a short while (see
    ``CachedTokenAuthentication``): this endpoint is the busiest of a node.
    """

    authentication_classes = [CachedTokenAuthentication, SessionAuthentication]

    @extend_schema(request=VerifyRequestSerializer, responses=VerifyResultSerializer)
    def post(self, request: Request) -> Response:
        data = VerifyRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        point = selectors.desk_service_point(user=request.user, point_id=data.validated_data["service_point"])
        if point is None:
            if not request.user.has_perm("membership.verify_membercard"):
                raise PermissionDenied("此账号不能核验会员卡")
            raise NotFound("找不到此服务点，或此账号不属于该服务点")
        try:
            verification = actions.card_verify(
                token=data.validated_data["token"],
                service_point=point,
                benefit=data.validated_data["benefit"],
                acting_user=request.user,
            )
        except actions.CardRefused as exc:
            return Response({"ok": False, "reason": exc.messages[0]}, status=status.HTTP_200_OK)
        card = verification.card
        body: dict[str, Any] = {
            "ok": True,
            "card_number": card.number,
            "name": card.name,
            "id_number_masked": card.id_number_masked,
            "union": card.union,
            "use_id": verification.use_id,
        }
        return Response(body)

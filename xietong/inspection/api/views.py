"""REST endpoints of the inspection app: the blacklist and its check, through the same selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.core.api.permissions import ScopedModelPermission
from xietong.lib import creditcode

from .. import selectors
from ..filters import ListingFilter
from ..models import ArrearsListing
from .serializers import ArrearsCheckSerializer, ArrearsListingSerializer


class ArrearsListingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The blacklist of the region group; ``?q=`` searches name, credit code or decision number,
    ``?status=listed|removed`` filters (all when absent)."""

    serializer_class = ArrearsListingSerializer
    permission_classes = [ScopedModelPermission]

    filterset_class = ListingFilter

    def get_queryset(self) -> QuerySet[ArrearsListing]:
        return selectors.arrears_listings(user=self.request.user)


class ArrearsCheckView(APIView):
    """Is this employer listed anywhere in the region group? By credit code (an invalid one is a 400,
    never "not listed") and/or part of its name."""

    permission_classes = [ScopedModelPermission]

    @extend_schema(
        parameters=[OpenApiParameter("credit_code", str), OpenApiParameter("name", str)],
        responses=ArrearsCheckSerializer,
    )
    def get(self, request: Request) -> Response:
        code, name = request.query_params.get("credit_code", ""), request.query_params.get("name", "")
        if not code.strip() and not name.strip():
            raise ValidationError(
                {"credit_code": "请提供统一社会信用代码（credit_code）或用人单位名称（name）"}
            )
        try:
            listings: Any = selectors.arrears_check(credit_code=code, name=name)
        except creditcode.InvalidCreditCode as exc:
            raise ValidationError({"credit_code": [str(exc)]}) from exc
        return Response(ArrearsCheckSerializer({"listed": bool(listings), "listings": listings}).data)

    def get_queryset(self) -> QuerySet[ArrearsListing]:
        return ArrearsListing.objects.none()

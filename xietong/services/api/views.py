"""REST endpoints of the services app: stations and requests through the same selectors and actions
as the pages (the member portal will call the same actions with the member as the requester)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from xietong.core.api.permissions import ScopedAccessMixin, ScopedModelPermission
from xietong.core.generic import acting_user

from .. import actions, filters, selectors
from ..models import ServiceRequest, ServiceStation
from .serializers import ReplySerializer, ServiceRequestSerializer, ServiceStationSerializer


class ServiceStationViewSet(ScopedAccessMixin, viewsets.ReadOnlyModelViewSet):
    """Service centres and stations of the unions in the caller's scope."""

    serializer_class = ServiceStationSerializer
    permission_classes = [ScopedModelPermission]
    access = selectors.access_station
    filterset_class = filters.StationFilter

    def get_queryset(self) -> QuerySet[ServiceStation]:
        return selectors.stations(user=self.request.user)


class ServiceRequestViewSet(ScopedAccessMixin, viewsets.ReadOnlyModelViewSet):
    """12351 requests of the caller's scope; ``acknowledge`` and ``reply`` take the next step."""

    serializer_class = ServiceRequestSerializer
    permission_classes = [ScopedModelPermission]
    permission_actions = {"acknowledge": "change", "reply": "change"}
    access = selectors.access_request
    filterset_class = filters.RequestFilter

    def get_queryset(self) -> QuerySet[ServiceRequest]:
        return selectors.service_requests(user=self.request.user)

    def _done(self, service_request: ServiceRequest) -> Response:
        service_request.refresh_from_db()
        return Response(ServiceRequestSerializer(service_request).data)

    @extend_schema(request=None, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        service_request = self.get_object()
        actions.request_acknowledge(service_request=service_request, acting_user=acting_user(request))
        return self._done(service_request)

    @extend_schema(request=ReplySerializer, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str) -> Response:
        service_request = self.get_object()
        data = ReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        actions.request_reply(service_request=service_request, acting_user=acting_user(request), **values)
        return self._done(service_request)

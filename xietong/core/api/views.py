"""REST endpoints of the core app: the same selectors (scope) and actions (writes) as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from .. import actions, filters, selectors
from ..generic import acting_user
from ..models import Employer, Organization, Person, Region
from .permissions import ScopedAccessMixin, ScopedModelPermission
from .serializers import (
    EmployerSerializer,
    OrganizationSerializer,
    PersonCreateSerializer,
    PersonRevealSerializer,
    PersonSerializer,
    RegionSerializer,
)

Q_PARAM = OpenApiParameter("q", str, description="按名称或编码搜索（繁体自动转为简体）")


@extend_schema(parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="6位行政区划代码")])
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """GB/T 2260 administrative divisions (public reference data, historical codes included)."""

    serializer_class = RegionSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[Region]:
        return selectors.region_list(q=self.request.query_params.get("q", ""))

    @extend_schema(parameters=[Q_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


class OrganizationViewSet(ScopedAccessMixin, viewsets.ReadOnlyModelViewSet):
    """Organisations in the caller's scope."""

    serializer_class = OrganizationSerializer
    permission_classes = [ScopedModelPermission]
    access = selectors.access_organization
    filterset_class = filters.OrganizationFilter

    def get_queryset(self) -> QuerySet[Organization]:
        return selectors.organization_list(user=self.request.user)

    @extend_schema(parameters=[Q_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


class EmployerViewSet(ScopedAccessMixin, viewsets.ModelViewSet):
    """Employers in the caller's scope; writes go through ``employer_save`` (validated, audited).
    The serializer offers only organisations where the caller may add (or move) employers."""

    serializer_class = EmployerSerializer
    permission_classes = [ScopedModelPermission]
    access = selectors.access_employer
    filterset_class = filters.EmployerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Employer]:
        return selectors.employer_list(user=self.request.user)

    @extend_schema(parameters=[Q_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = actions.employer_save(
            employer=Employer(**serializer.validated_data), acting_user=acting_user(self.request)
        )

    def perform_update(self, serializer: Any) -> None:
        employer = serializer.instance
        for key, value in serializer.validated_data.items():
            setattr(employer, key, value)
        actions.employer_save(employer=employer, acting_user=acting_user(self.request))


class PersonViewSet(
    ScopedAccessMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """People in the caller's scope, masked. ``?id_number=`` looks one up by blind index (audited)."""

    permission_classes = [ScopedModelPermission]
    access = selectors.access_person
    permission_actions = {"reveal": "reveal"}
    filterset_class = filters.PersonFilter

    def get_serializer_class(self) -> type:
        return PersonCreateSerializer if self.action == "create" else PersonSerializer

    def get_queryset(self) -> QuerySet[Person]:
        return selectors.person_list(user=self.request.user)

    @extend_schema(
        parameters=[
            Q_PARAM,
            OpenApiParameter("id_number", str, description="按身份证号码精确查询（记入审计日志）"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        id_number = request.query_params.get("id_number")
        if id_number:
            person = actions.person_lookup(
                queryset=self.get_queryset(), id_number=id_number, acting_user=acting_user(request)
            )
            context = self.get_serializer_context()
            results = [PersonSerializer(person, context=context).data] if person else []
            return Response({"count": len(results), "next": None, "previous": None, "results": results})
        return super().list(request, *args, **kwargs)

    @extend_schema(request=PersonCreateSerializer, responses={201: PersonSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PersonCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        person = actions.person_create(acting_user=acting_user(request), **serializer.validated_data)
        return Response(
            PersonSerializer(person, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={200: PersonRevealSerializer})
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """The full ID and phone number; needs ``core.reveal_person`` over the person (403 without it
        anywhere, 404 when only elsewhere); audited."""
        person = self.get_object()
        revealed = actions.person_reveal(person=person, acting_user=acting_user(request))
        return Response({"id_number": revealed.id_number, "phone": revealed.phone})

"""REST endpoints of the insurance app: transfers and their steps, certification runs and findings,
through the same selectors and actions as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from xietong.core.api.permissions import ScopedAccessMixin, ScopedModelPermission
from xietong.core.generic import acting_user
from xietong.core.selectors import organizations_for

from .. import actions, filters, selectors
from ..models import CertificationFinding, EligibilityCheck, InsuranceTransfer
from .serializers import (
    CertificationFindingSerializer,
    EligibilityCheckSerializer,
    FindingDecisionSerializer,
    InsuranceTransferSerializer,
    RunResendSerializer,
    TransferAnswerSerializer,
    TransferAssignSerializer,
    TransferRefuseSerializer,
    TransferRequestSerializer,
)


class InsuranceTransferViewSet(
    ScopedAccessMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Social-insurance transfers of this node; POST creates one (this node receiving), and
    ``answer``/``refuse`` (sending region) and ``complete`` (receiving region) take the next step."""

    serializer_class = InsuranceTransferSerializer
    permission_classes = [ScopedModelPermission]
    permission_actions = {"answer": "change", "refuse": "change", "complete": "change", "assign": "change"}
    access = selectors.access_transfer

    filterset_class = filters.TransferFilter

    def get_queryset(self) -> QuerySet[InsuranceTransfer]:
        return selectors.transfers(user=self.request.user)

    def _done(self, call: Any) -> Response:
        # An action's ValidationError becomes a 400 in xietong.core.api.exceptions.
        return Response(InsuranceTransferSerializer(call()).data)

    @extend_schema(request=TransferRequestSerializer, responses=InsuranceTransferSerializer)
    def create(self, request: Request) -> Response:
        data = TransferRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        allowed = organizations_for(user=request.user, perm="insurance.add_insurancetransfer")
        organization = allowed.filter(pk=values.pop("organization")).first()
        if organization is None:
            raise ValidationError({"organization": "无权以该机构受理"})
        user = acting_user(request)
        return self._done(
            lambda: actions.transfer_request(organization=organization, acting_user=user, **values)
        )

    @extend_schema(request=TransferAnswerSerializer, responses=InsuranceTransferSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str) -> Response:
        transfer = self.get_object()  # the scope answers before the input (404 before 400)
        data = TransferAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(
            lambda: actions.transfer_answer(
                transfer=transfer,
                periods=data.validated_data["periods"],
                personal_account=data.validated_data["personal_account"],
                acting_user=acting_user(request),
            )
        )

    @extend_schema(request=TransferRefuseSerializer, responses=InsuranceTransferSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str) -> Response:
        transfer = self.get_object()
        data = TransferRefuseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(
            lambda: actions.transfer_refuse(
                transfer=transfer, reason=data.validated_data["reason"], acting_user=acting_user(request)
            )
        )

    @extend_schema(request=TransferAssignSerializer, responses=InsuranceTransferSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        transfer = self.get_object()
        data = TransferAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        allowed = organizations_for(user=request.user, perm="insurance.change_insurancetransfer")
        office = allowed.filter(pk=data.validated_data["organization"]).first()
        if office is None:
            raise ValidationError({"organization": "无权交由该机构办理"})
        user = acting_user(request)
        return self._done(
            lambda: actions.transfer_assign(transfer=transfer, organization=office, acting_user=user)
        )

    @extend_schema(request=None, responses=InsuranceTransferSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        transfer = self.get_object()
        user = acting_user(request)
        return self._done(lambda: actions.transfer_complete(transfer=transfer, acting_user=user))


class EligibilityCheckViewSet(
    ScopedAccessMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Certification runs of the user's offices, with each partner's progress; ``?status=`` filters."""

    serializer_class = EligibilityCheckSerializer
    permission_classes = [ScopedModelPermission]
    permission_actions = {"resend": "add"}  # sending it again: the right to start runs
    access = selectors.access_run

    filterset_class = filters.RunFilter

    def get_queryset(self) -> QuerySet[EligibilityCheck]:
        return selectors.certification_runs(user=self.request.user).prefetch_related("requests")

    def get_object(self) -> Any:
        # A partner that refused the request fails it here, as the API looks (issue 13 §4).
        return actions.certification_run_check(run=super().get_object())

    @extend_schema(request=RunResendSerializer, responses=EligibilityCheckSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        """Send the run again to a partner that failed (``partner``: its node id)."""
        run = self.get_object()  # the scope answers before the input (404 before 400)
        data = RunResendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # An action's ValidationError becomes a 400 in xietong.core.api.exceptions.
        partner = selectors.run_request(run=run, partner=data.validated_data["partner"])
        actions.certification_request_resend(request=partner, acting_user=acting_user(request))
        return Response(EligibilityCheckSerializer(selectors.access_run(user=request.user, pk=run.pk)).data)


class CertificationFindingViewSet(
    ScopedAccessMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Findings to review (``?run=``, ``?status=open|confirmed|dismissed``, ``?kind=``, ``?q=`` name or
    ID number); ``confirm`` flags the recipient's payment as suspended, ``dismiss`` needs a ``note``
    and keeps the finding from coming back."""

    serializer_class = CertificationFindingSerializer
    permission_classes = [ScopedModelPermission]
    permission_actions = {"confirm": "change", "dismiss": "change"}
    access = selectors.access_finding

    filterset_class = filters.FindingFilter

    def get_queryset(self) -> QuerySet[CertificationFinding]:
        return selectors.findings(user=self.request.user)

    def _decide(self, request: Request, decide: Any) -> Response:
        finding = self.get_object()  # the scope answers before the input (404 before 400)
        data = FindingDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # An action's ValidationError becomes a 400 in xietong.core.api.exceptions.
        finding = decide(finding=finding, acting_user=acting_user(request), **data.validated_data)
        return Response(CertificationFindingSerializer(finding).data)

    @extend_schema(request=FindingDecisionSerializer, responses=CertificationFindingSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        return self._decide(request, actions.finding_confirm)

    @extend_schema(request=FindingDecisionSerializer, responses=CertificationFindingSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str) -> Response:
        return self._decide(request, actions.finding_dismiss)

"""REST endpoints of the membership app: the same selectors and actions as the pages."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xietong.core.api.authentication import CachedTokenAuthentication
from xietong.core.api.permissions import ScopedModelPermission
from xietong.core.generic import acting_user
from xietong.core.models import User

from .. import actions, desk, selectors
from ..filters import MemberFilter
from ..models import Member
from .serializers import MemberSerializer, VerifyRequestSerializer, VerifyResultSerializer


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The member roll of the caller's scope; ``?q=`` searches by name, number, employer or ID number."""

    serializer_class = MemberSerializer
    permission_classes = [ScopedModelPermission]

    filterset_class = MemberFilter

    def get_queryset(self) -> QuerySet[Member]:
        return selectors.members(user=self.request.user)

    def get_object(self) -> Member:
        return selectors.access_member(user=self.request.user, pk=self.kwargs["pk"], action="view")


class VerifiesCards(BasePermission):
    """The permission a service point desk's endpoints declare: ``membership.verify_membercard``
    somewhere (which points the desk may use is the selector's question: another one is 404)."""

    permission = "membership.verify_membercard"
    message = "此账号不能核验会员卡"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(self.permission))


def _verify(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Verify checked request data for ``user``: the answer's body (refusals are answers too)."""
    point = selectors.desk_service_point(user=user, point_id=data["service_point"])
    if point is None:
        raise NotFound("找不到此服务点，或此账号不属于该服务点")
    item = data.get("item") or ""
    hook = desk.hook_for(item) if item else None
    if item and hook is None:
        raise NotFound("找不到此普惠服务项目")
    extra: dict[str, Any] = {}
    try:
        if hook is not None:
            redemption = hook.redeem(
                choice=item,
                service_point=point,
                token=data["token"],
                card_number="",
                id_last4="",
                acting_user=user,
            )
            verification = redemption.verification
            extra = {"item": redemption.label, "note": redemption.note}
        else:
            verification = actions.card_verify(
                token=data["token"], service_point=point, benefit=data["benefit"], acting_user=user
            )
    except actions.CardRefused as exc:
        return {"ok": False, "reason": exc.messages[0]}
    card = verification.card
    return {
        "ok": True,
        "card_number": card.number,
        "name": card.name,
        "id_number_masked": card.id_number_masked,
        "union": card.union,
        "use_id": verification.use_id,
        **extra,
    }


class CardVerifyView(APIView):
    """Verify a scanned card token at a service point and record the use (HTTP 200 with ``ok``).

    Desk accounts authenticate with a token kept in memory for a short while (see
    ``CachedTokenAuthentication``): this endpoint is the busiest of a node. Requests with a token
    take a shorter road (``card_verify_endpoint``); this view serves the rest and documents both.
    """

    authentication_classes = [CachedTokenAuthentication, SessionAuthentication]
    permission_classes = [VerifiesCards]

    @extend_schema(request=VerifyRequestSerializer, responses=VerifyResultSerializer)
    def post(self, request: Request) -> Response:
        data = VerifyRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_verify(acting_user(request), dict(data.validated_data)))


_drf_verify = CardVerifyView.as_view()
# One serializer, its fields built once, checks every token request (run_validation keeps no state).
_VERIFY_REQUEST = VerifyRequestSerializer()


@csrf_exempt
def card_verify_endpoint(request: HttpRequest) -> HttpResponse:
    """``POST /api/membership/cards/verify/``: a desk's token request is answered here without DRF's
    request wrapping, content negotiation and renderers (ADR 007: a fifth of each scan); the same
    serializer checks the data and the same errors come back. Anything else (a browser session, a
    missing or malformed token header, a method other than POST) goes to ``CardVerifyView``."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, key = header.partition(" ")
    if request.method != "POST" or scheme != "Token" or not key.strip() or " " in key.strip():
        return _drf_verify(request)
    try:
        user, _token = CachedTokenAuthentication().authenticate_credentials(key.strip())
        # The permission CardVerifyView declares, checked the same way on this road.
        if not VerifiesCards().has_permission(SimpleNamespace(user=user), CardVerifyView):
            raise PermissionDenied("此账号不能核验会员卡")
        payload = json.loads(request.body or b"{}")
        data = _VERIFY_REQUEST.run_validation(payload if isinstance(payload, dict) else {})
        return _json(_verify(user, dict(data)), 200)
    except ValidationError as exc:
        return _json(exc.detail, 400)
    except ValueError:  # malformed JSON
        return _json({"detail": "请求内容不是有效的JSON"}, 400)
    except APIException as exc:  # invalid token, no such service point, not allowed
        response = _json({"detail": str(exc.detail)}, exc.status_code)
        if exc.status_code == 401:
            response["WWW-Authenticate"] = "Token"
        return response


def _json(body: Any, status_code: int) -> JsonResponse:
    return JsonResponse(body, status=status_code, safe=False, json_dumps_params={"ensure_ascii": False})


# The OpenAPI schema documents the endpoint through the DRF view it falls back to.
card_verify_endpoint.cls = CardVerifyView  # type: ignore[attr-defined]
card_verify_endpoint.initkwargs = {}  # type: ignore[attr-defined]

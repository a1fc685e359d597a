"""API permission: the same rule as the pages — the action's permission somewhere, scope by selector."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

ACTION_BY_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def request_action(request: Any, view: Any) -> str:
    """What the request does: a custom endpoint's declared ``permission_actions`` entry (reveal is a
    POST that reveals; a workflow move is a "change"), else the HTTP method's action."""
    action = getattr(view, "permission_actions", {}).get(getattr(view, "action", None))
    return action or ACTION_BY_METHOD.get(request.method, "view")


class ScopedModelPermission(BasePermission):
    """Signed in and holding ``<app>.<action>_<model>`` in at least one subtree (else 403).

    Rows outside the user's subtrees are not found by the view's ``access_<thing>`` selector (404).
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        model = view.get_queryset().model
        action = request_action(request, view)
        return bool(request.user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}"))


class ScopedAccessMixin:
    """A viewset whose single-record endpoints (retrieve, update, custom actions) load through the
    app's ``access_<thing>`` selector, declared as ``access``, with the action the request performs:
    a PATCH or a workflow move never loads through the "view" scope (ARCHITECTURE.md §3 rule 9)."""

    access: Any = None
    request: Any
    kwargs: dict[str, Any]

    def get_object(self) -> Any:
        access = type(self).access
        assert access is not None, f"{type(self).__name__} declares no access selector"
        obj = access(user=self.request.user, pk=self.kwargs["pk"], action=request_action(self.request, self))
        self.check_object_permissions(self.request, obj)  # type: ignore[attr-defined]  # mixed into a GenericAPIView
        return obj

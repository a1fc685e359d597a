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


class ScopedModelPermission(BasePermission):
    """Signed in and holding ``<app>.<action>_<model>`` in at least one subtree (else 403).

    Rows outside the user's subtrees are filtered by the view's selector, so they answer 404.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        model = view.get_queryset().model
        # Custom endpoints name their own action (e.g. reveal is a POST that only reads).
        action = getattr(view, "permission_actions", {}).get(getattr(view, "action", None))
        action = action or ACTION_BY_METHOD.get(request.method, "view")
        return bool(request.user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}"))

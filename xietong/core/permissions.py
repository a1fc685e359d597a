"""Scoped permissions: roles granted at an organisation reach its subtree (ARCHITECTURE.md §3.2).

A user's grants are computed once per request (cached on the user object) as a map from permission
(``app.codename``) to the set of materialised paths where it holds, or ``None`` for a node-wide grant.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import BaseBackend

if TYPE_CHECKING:
    from .models.accounts import User
    from .typing import Viewer

NODE_WIDE = None
_CACHE_ATTR = "_xietong_grants"


def _grants(user: User) -> dict[str, set[str] | None]:
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    from .models.accounts import RoleAssignment
    from .models.organizations import Affiliation

    grants: dict[str, set[str] | None] = defaultdict(set)
    assignments = RoleAssignment.objects.filter(user=user).select_related("organization")
    rows = list(
        assignments.values_list(
            "organization__path", "role__permissions__content_type__app_label", "role__permissions__codename"
        )
    )
    granted_paths = {path for path, _app, _code in rows if path}
    # Dual management: a role at a body also reaches the unions affiliated to its subtree.
    extra: dict[str, set[str]] = defaultdict(set)
    if granted_paths:
        for org_path, parent_path in Affiliation.objects.values_list("organization__path", "parent__path"):
            for granted in granted_paths:
                if parent_path.startswith(granted):
                    extra[granted].add(org_path)
    for path, app_label, codename in rows:
        if not codename:
            continue
        perm = f"{app_label}.{codename}"
        if path is None:
            grants[perm] = NODE_WIDE
            continue
        current = grants[perm]
        if current is not NODE_WIDE:
            current.add(path)
            current.update(extra.get(path, ()))
    result = {perm: _minimal(paths) for perm, paths in grants.items()}
    setattr(user, _CACHE_ATTR, result)
    return result


def _minimal(paths: set[str] | None) -> set[str] | None:
    """Drop paths already covered by a shorter one, so the SQL has fewer OR terms."""
    if paths is None:
        return None
    kept: set[str] = set()
    for path in sorted(paths, key=len):
        if not any(path.startswith(k) for k in kept):
            kept.add(path)
    return kept


def scope_paths(user: User, perm: str) -> set[str] | None:
    """Where ``user`` holds ``perm``: a set of subtree paths (maybe empty), or ``None`` for node-wide."""
    return _grants(user).get(perm, set())


def forget(user: User) -> None:
    """Drop the cached grants (after roles change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_scoped_perm(user: Viewer, perm: str, obj: Any = None) -> bool:
    """Whether ``user`` holds ``perm`` anywhere (``obj`` None) or over ``obj``'s organisation (Django
    asks an anonymous user's permissions through this backend too: none)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    paths = scope_paths(user, perm)
    if paths is NODE_WIDE:
        return True
    if obj is None or not paths:  # held nowhere: no need to load where ``obj`` belongs
        return bool(paths)
    obj_path = obj.scope_path() if hasattr(obj, "scope_path") else None
    return obj_path is not None and any(obj_path.startswith(p) for p in paths)


def has_node_wide(user: User, perm: str) -> bool:
    """Whether ``user`` holds ``perm`` over the whole node (not just some subtrees)."""
    return bool(user.is_superuser or (user.is_active and scope_paths(user, perm) is NODE_WIDE))


class ScopedPermissionBackend(BaseBackend):
    """Django auth backend: password check as usual, permissions from roles held at organisations."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ):
        from django.contrib.auth.backends import ModelBackend

        return ModelBackend().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: int):
        from .models.accounts import User

        # An account disabled since it signed in loses its session at the next request.
        return User.objects.filter(pk=user_id, is_active=True).first()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return has_scoped_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        if user_obj.is_superuser:
            return True
        return any(perm.startswith(f"{app_label}.") for perm in _grants(user_obj))

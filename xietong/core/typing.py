"""Type names shared by the apps (for annotations only; nothing here runs a query)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

# Who asks: a request's user, signed in or not. Selectors take a ``Viewer`` and answer nothing to an
# anonymous one; actions take a ``User`` (the view hands over ``generic.acting_user(request)``).
Viewer: TypeAlias = "User | AnonymousUser"

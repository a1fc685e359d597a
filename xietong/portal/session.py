"""The portal session: a member id kept in the (signed, server-side) Django session under its own
key. It is not a staff sign-in: ``request.user`` stays anonymous, so no staff page, API or
permission check ever accepts it; and the portal's guard reads only this key.

``member_required`` is the guard of the member-only pages. Those pages are marked ``public`` for the
staff layer (they need no staff account; the URL-walk test accepts them) and carry
``xietong_portal_member`` so that the portal's own test checks every one of them redirects a
visitor without a portal session to the sign-in page."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from xietong.core.generic import public
from xietong.membership.models import Member

from . import selectors

SESSION_KEY = "xietong_portal_member"
SINCE_KEY = "xietong_portal_since"


def sign_in(request: HttpRequest, member: Member) -> None:
    """Start a portal session for ``member`` (a fresh session key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = member.pk
    request.session[SINCE_KEY] = int(time.time())


def sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(SINCE_KEY, None)
    request.session.cycle_key()


def current_member(request: HttpRequest) -> Member | None:
    """The signed-in member, while the session is young enough and the membership current."""
    pk = request.session.get(SESSION_KEY)
    since = int(request.session.get(SINCE_KEY) or 0)
    if pk is None or time.time() - since > settings.XIETONG_PORTAL_SESSION_SECONDS:
        return None
    return selectors.portal_member(pk)


def member_of(request: HttpRequest) -> Member:
    """The member ``member_required`` put on the request."""
    member: Member = request.member  # type: ignore[attr-defined]  # set by member_required
    return member


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Guard a member-only page: without a portal session, go to the sign-in page (and back after).
    The view receives the member as ``request.member``."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = current_member(request)
        if member is None:
            if request.session.get(SESSION_KEY) is not None:
                sign_out(request)
            return redirect(f"{reverse('portal:signin')}?next={request.path}")
        request.member = member  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    guarded.xietong_portal_member = True  # type: ignore[attr-defined]  # read by the portal's route test
    return public(guarded)

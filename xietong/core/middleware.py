"""Request context for code that runs below the views (the audit log records the client's address)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_client_ip: ContextVar[str | None] = ContextVar("xietong_client_ip", default=None)
_request_id: ContextVar[str | None] = ContextVar("xietong_request_id", default=None)
# An id the proxy sets (nginx: $request_id) is kept when it looks like one; anything else is replaced.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_ip() -> str | None:
    """The address of the client of the request being served, if any."""
    return _client_ip.get()


def current_request_id() -> str | None:
    """The id of the request being served (the logs' ``request_id``), if any."""
    return _request_id.get()


class RequestContextMiddleware:
    """Keeps the client's address and the request's id in context variables for the duration of the
    request; the id is answered in ``X-Request-ID`` so a user's report can be found in the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _client_ip.set(request.META.get("REMOTE_ADDR") or None)
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        id_token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            _client_ip.reset(token)
            _request_id.reset(id_token)

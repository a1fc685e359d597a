"""Request context for code that runs below the views (the audit log records the client's address)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_client_ip: ContextVar[str | None] = ContextVar("xietong_client_ip", default=None)


def current_ip() -> str | None:
    """The address of the client of the request being served, if any."""
    return _client_ip.get()


class RequestContextMiddleware:
    """Keeps the client's address in a context variable for the duration of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _client_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)

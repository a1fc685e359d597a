"""API authentication for endpoints that answer many small requests from the same few accounts."""

from __future__ import annotations

import threading
from typing import Any

from cachetools import TTLCache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import TokenAuthentication

TOKEN_CACHE_SECONDS = 30
_tokens: TTLCache[str, tuple[Any, Any]] = TTLCache(maxsize=10_000, ttl=TOKEN_CACHE_SECONDS)
_lock = threading.Lock()


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication with the token's account kept in memory for ``TOKEN_CACHE_SECONDS``.

    A registration desk scans a card every few seconds with the same token; looking the token up each
    time costs a query. A deleted token or a deactivated account therefore stops working within
    that time in each server process, which the operator guide states.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        with _lock:
            hit = _tokens.get(key)
        if hit is not None:
            return hit
        found = super().authenticate_credentials(key)
        with _lock:
            _tokens[key] = found
        return found


def forget_tokens() -> None:
    """Empty this process's token cache (tests, and after revoking many tokens at once)."""
    with _lock:
        _tokens.clear()


class CachedTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI description of ``CachedTokenAuthentication`` (the same header as DRF's tokens)."""

    target_class = CachedTokenAuthentication
    name = "deskTokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "服务点账号的令牌：`Token <key>`（服务端缓存 30 秒）",
        }

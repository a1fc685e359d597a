"""Rate limits for public forms and sign-in: per client address and per value (an ID number, a
user name), counted in Django's cache, answered with HTTP 429 and a Chinese page.

Why not django-ratelimit: it needs a cache with an atomic increment shared by every process
(Redis or Memcached) and refuses the database cache, which is the only shared store a node has
(ARCHITECTURE.md §1: one PostgreSQL database, no Redis). What remains is a fixed-window counter of
a few lines on ``cache.add``/``cache.incr``; under heavy concurrency the database cache may let a
few extra requests through, which is acceptable for a limit meant to stop enumeration.

Limits are settings (``XIETONG_RATE_LIMITS``): per scope, per kind of key, a rate like ``"30/h"``.
Values are never stored: keys hold a keyed hash of them (the cache must not hold ID numbers).
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``seconds``."""

    count: int
    seconds: int


@functools.cache
def parse_rate(text: str) -> Rate:
    """``"30/h"`` → 30 per hour; ``"10/15m"`` → 10 per 15 minutes."""
    found = _RATE.match(text.strip())
    if not found:
        raise ValueError(f"rate limit {text!r}: expected COUNT/[N]UNIT, e.g. 30/h or 10/15m")
    count, multiple, unit = found.groups()
    return Rate(int(count), int(multiple or 1) * _UNITS[unit])


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or the header the reverse proxy sets
    (``XIETONG_CLIENT_ADDRESS_HEADER``, e.g. ``HTTP_X_REAL_IP``) when the node runs behind one."""
    header = getattr(settings, "XIETONG_CLIENT_ADDRESS_HEADER", "")
    value = request.META.get(header, "") if header else ""
    return value.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "")


def normalise(value: str) -> str:
    """The form of a value that counts: full-width folded, spaces dropped, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def _hit(scope: str, kind: str, value: str, rate: Rate) -> int:
    """Count one request for (scope, kind, value) in the current window; the count so far."""
    cache = caches[getattr(settings, "XIETONG_RATE_LIMIT_CACHE", "default")]
    window = int(time.time() // rate.seconds)
    digest = salted_hmac("xietong.ratelimit", f"{scope}\x00{kind}\x00{value}").hexdigest()[:32]
    key = f"rl:{scope}:{kind}:{window}:{digest}"
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=rate.seconds + 1)
        return 1


def exceeded(request: HttpRequest, scope: str, **values: str) -> bool:
    """Count this request against ``scope``'s limits (its address, and each given value such as
    ``id_number=…``) and say whether any limit is now passed. Empty values are not counted."""
    limits: dict[str, str] = settings.XIETONG_RATE_LIMITS.get(scope, {})
    over = False
    for kind, value in (("address", client_address(request)), *values.items()):
        rate_text = limits.get(kind)
        key = normalise(value)
        if rate_text and key:
            rate = parse_rate(rate_text)
            over = _hit(scope, kind, key, rate) > rate.count or over
    return over


def refused(request: HttpRequest) -> HttpResponse:
    """The answer to a request over a limit: HTTP 429 with a page saying to wait."""
    return render(request, "core/too_many_requests.html", status=429)


def limit(
    scope: str, *, methods: tuple[str, ...] = ("POST",), **value_of: Callable[[HttpRequest], str]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view: its ``methods`` requests count against ``scope`` (the address, and each
    named value taken from the request, e.g. ``username=lambda r: r.POST.get("username", "")``)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method in methods:
                values = {kind: get(request) for kind, get in value_of.items()}
                if exceeded(request, scope, **values):
                    return refused(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def create_cache_table(*, using: str = "default", **kwargs: Any) -> None:
    """After ``migrate``: create the database cache's table if the rate-limit cache is one (the
    ``post_migrate`` receiver ``CoreConfig.ready`` connects; ``createcachetable`` skips what exists)."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)

"""Slows each uploaded chunk a little on the test's nodes, so that the test sees the file half-way
and can stop the receiver there however fast the machine is (a 24 MB file in 96 chunks takes about
ten seconds instead of one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

CHUNK_DELAY_SECONDS = 0.1


def slow_chunks(get_response: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def middleware(request: Any) -> Any:
        if request.method == "POST" and request.path.startswith("/exchange/files/"):
            time.sleep(CHUNK_DELAY_SECONDS)
        return get_response(request)

    return middleware

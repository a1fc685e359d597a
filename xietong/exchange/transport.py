"""HTTP between nodes: one POST or GET with a timeout, answering (status, body) for any HTTP status."""

from __future__ import annotations

import urllib.error
import urllib.request

from django.conf import settings


def _open(request: urllib.request.Request) -> tuple[int, bytes]:
    if request.type not in {"http", "https"}:
        raise OSError(f"不支持的地址：{request.full_url}")
    try:
        with urllib.request.urlopen(request, timeout=settings.XIETONG_EXCHANGE_TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only, checked above
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def post(url: str, body: bytes) -> tuple[int, bytes]:
    """POST a JSON body; ``OSError`` when the peer cannot be reached."""
    request = urllib.request.Request(  # noqa: S310 - _open admits http(s) only
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    return _open(request)


def get(url: str) -> tuple[int, bytes]:
    """GET a JSON document; ``OSError`` when the peer cannot be reached."""
    return _open(urllib.request.Request(url, headers={"Accept": "application/json"}))  # noqa: S310 - _open admits http(s) only


def request(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One request of a file upload (a chunk, or asking how much the peer holds); ``OSError`` when
    the peer cannot be reached."""
    request = urllib.request.Request(  # noqa: S310 - _open admits http(s) only
        url,
        data=body if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/octet-stream", "Accept": "application/json", **headers},
    )
    return _open(request)

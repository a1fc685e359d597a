"""Pluggable SMS senders for the portal's one-time codes (``XIETONG_SMS_BACKEND``).

- ``FileSender`` (demo and tests): appends each message to ``XIETONG_SMS_FILE`` (default
  ``var/sms/outbox.log``) and logs it, so the demo's reader finds the code there.
- ``HttpSender`` (production): POSTs ``{"phone": …, "text": …}`` as JSON to the gateway at
  ``XIETONG_SMS_URL`` with ``Authorization: Bearer XIETONG_SMS_KEY``; a gateway answering other than
  2xx, or not answering within ``XIETONG_SMS_TIMEOUT`` seconds, raises ``SmsError``.

A sender takes the full phone number and the text; it is called after the code is saved.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(RuntimeError):
    """The message could not be handed to the gateway."""


class SmsSender(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class FileSender:
    """Writes messages to a file (one line each: time, phone, text) and to the log."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or settings.XIETONG_SMS_FILE)

    def send(self, *, phone: str, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{timezone.localtime():%Y-%m-%d %H:%M:%S}\t{phone}\t{text}\n"
        with self.path.open("a", encoding="utf-8") as outbox:
            outbox.write(line)
        logger.info("SMS to %s written to %s", phone, self.path)


class HttpSender:
    """Hands messages to an HTTP SMS gateway (URL and key from the environment)."""

    def __init__(self, url: str | None = None, key: str | None = None, timeout: float | None = None) -> None:
        self.url = url if url is not None else settings.XIETONG_SMS_URL
        self.key = key if key is not None else settings.XIETONG_SMS_KEY
        self.timeout = timeout if timeout is not None else settings.XIETONG_SMS_TIMEOUT
        if not self.url.startswith(("https://", "http://")):
            raise SmsError("XIETONG_SMS_URL 未设置或不是 http(s) 地址")

    def send(self, *, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.key}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as exc:
            raise SmsError(f"短信网关拒绝：HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"短信网关无法连接：{exc}") from exc
        if not 200 <= status < 300:
            raise SmsError(f"短信网关拒绝：HTTP {status}")


def sender() -> SmsSender:
    """The configured sender (``XIETONG_SMS_BACKEND``, a dotted class path)."""
    return import_string(settings.XIETONG_SMS_BACKEND)()


def send(*, phone: str, text: str) -> None:
    """Send ``text`` to ``phone`` with the configured sender, signed with ``XIETONG_SMS_SIGNATURE``."""
    sender().send(phone=phone, text=f"{settings.XIETONG_SMS_SIGNATURE}{text}")

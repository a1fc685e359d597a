"""Log records with the context an operator needs to follow a request across processes: this
process's role (``web``, ``worker``, ``exchange``) and the id of the request being served
(``X-Request-ID`` from the proxy, or one made up by ``RequestContextMiddleware``).

Imported by the LOGGING setting before the apps are ready: no models here."""

from __future__ import annotations

import logging
import os
import sys

from . import middleware

_current_name = os.environ.get("XIETONG_PROCESS_NAME", "")


def set_process_name(name: str) -> None:
    """Name this process (the logs' ``process`` field; its children inherit it)."""
    global _current_name
    _current_name = name
    os.environ["XIETONG_PROCESS_NAME"] = name


def process_name() -> str:
    """This process's role name, or the program it runs when it has none."""
    return _current_name or os.path.basename(sys.argv[0] or "python")


class ContextFilter(logging.Filter):
    """Adds ``process_name`` and ``request_id`` (empty outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.process_name = process_name()
        record.request_id = middleware.current_request_id() or ""
        return True

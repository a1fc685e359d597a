"""The message-kind registry (ARCHITECTURE.md §3 rule 10, ADR 012).

A domain app declares, in its own ``messages.py``, each kind of message it receives::

    @exchange.handles("arrears.listed", body=ListingBodySerializer)
    def listing_received(data: dict[str, Any], sender: ExchangeNode) -> object: ...

The inbox looks the kind up here, validates the body with the serializer and calls the handler with
the validated data and the sending node. A kind declared with ``files=True`` receives messages that
carry files (ADR 017): its handler is called as ``handler(data, sender, files)`` with ``files`` the
read-only paths of the arrived files by name. The exchange itself imports no domain app: each domain
app's ``AppConfig.ready()`` imports its ``messages`` module, which fills this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, ValidationError

if TYPE_CHECKING:
    from rest_framework.serializers import BaseSerializer

    from .models import ExchangeNode

Handler = Callable[..., object]


@dataclass(frozen=True)
class MessageKind:
    """One kind of message this node receives: the serializer of its body and what applies it."""

    kind: str
    body: type[BaseSerializer[Any]]
    handler: Handler
    files: bool = False


_KINDS: dict[str, MessageKind] = {}


def handles(
    kind: str, *, body: type[BaseSerializer[Any]], files: bool = False
) -> Callable[[Handler], Handler]:
    """Declare ``handler(data, sender)`` as what applies messages of ``kind``; ``body`` validates them.
    With ``files=True`` the handler is ``handler(data, sender, files)`` (the message's files by name).

    A kind has one handler on a node: declaring it twice is a programming error (two apps would
    disagree about what the message means), raised at start-up.
    """

    def register(handler: Handler) -> Handler:
        known = _KINDS.get(kind)
        if known is not None and known.handler is not handler:
            raise ImproperlyConfigured(f"消息类型 {kind} 已由 {known.handler.__module__} 处理")
        _KINDS[kind] = MessageKind(kind=kind, body=body, handler=handler, files=files)
        return handler

    return register


def registered() -> dict[str, MessageKind]:
    """Every kind this node receives (for the operator's view and the tests)."""
    return dict(_KINDS)


def _errors(detail: Any, prefix: str = "") -> list[str]:
    """A serializer's errors as lines ``字段：原因`` (nested fields joined with dots)."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for name, value in detail.items():
            label = "" if name == "non_field_errors" else f"{prefix}{name}"
            lines += _errors(value, f"{label}." if label else "")
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _errors(item, prefix)]
    field = prefix.rstrip(".")
    return [f"{field}：{detail}" if field else str(detail)]


RefusedCallback = Callable[[Any, str, str], object]
_ON_REFUSED: dict[str, list[RefusedCallback]] = {}


def on_refused(kind: str) -> Callable[[RefusedCallback], RefusedCallback]:
    """Declare ``callback(body, reason, receiver)`` as what this node does when a peer refuses a
    message of ``kind`` that this node sent (a content error the peer found when applying it), so the
    app that sent it can end what waits for an answer (ADR 016)."""

    def register(callback: RefusedCallback) -> RefusedCallback:
        callbacks = _ON_REFUSED.setdefault(kind, [])
        if callback not in callbacks:
            callbacks.append(callback)
        return callback

    return register


def refused(kind: str, body: Any, reason: str, receiver: str) -> None:
    """Tell the apps that declared ``on_refused(kind)`` that ``receiver`` refused such a message."""
    for callback in _ON_REFUSED.get(kind, []):
        callback(body, reason, receiver)


class UnknownKind(Exception):
    """No app of this node receives messages of this kind."""


def apply(kind: str, body: Any, sender: ExchangeNode, files: dict[str, Path] | None = None) -> object:
    """Validate ``body`` with the kind's serializer and hand it to the kind's handler (with
    ``files`` when the kind takes files).

    ``UnknownKind`` when no app declared the kind; ``ValidationError`` (the serializer's errors,
    in Chinese) when the body is invalid or files come to a kind that takes none; whatever the
    handler raises otherwise.
    """
    spec = _KINDS.get(kind)
    if spec is None:
        raise UnknownKind(kind)
    if files and not spec.files:
        raise ValidationError(f"此类消息不接收文件：{kind}")
    serializer = spec.body(data=body, context={"sender": sender})
    if not serializer.is_valid():
        raise ValidationError(_errors(serializer.errors) or ["消息内容无效"])
    if spec.files:
        return spec.handler(serializer.validated_data, sender, dict(files or {}))
    return spec.handler(serializer.validated_data, sender)

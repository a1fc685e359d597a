"""Models of the exchange app (transport only), one module per subdomain."""

from .messages import ExchangeMessage, MessageFile, RefusedDelivery
from .nodes import GENESIS_HASH, ExchangeNode, NodeRegistry

__all__ = [
    "GENESIS_HASH",
    "ExchangeMessage",
    "ExchangeNode",
    "MessageFile",
    "NodeRegistry",
    "RefusedDelivery",
]

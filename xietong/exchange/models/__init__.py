"""Models of the exchange app, one module per subdomain."""

from .arrears import ArrearsListing
from .messages import ExchangeMessage, RefusedDelivery
from .nodes import GENESIS_HASH, ExchangeNode, NodeRegistry
from .transfers import InsuranceTransfer

__all__ = [
    "GENESIS_HASH",
    "ArrearsListing",
    "ExchangeMessage",
    "ExchangeNode",
    "InsuranceTransfer",
    "NodeRegistry",
    "RefusedDelivery",
]

"""Models of the exchange app, one module per subdomain."""

from .arrears import ArrearsListing
from .certification import (
    BenefitRoster,
    CertificationAssistance,
    CertificationFinding,
    CertificationRequest,
    CertificationStatistic,
    EligibilityCheck,
    FindingDismissal,
    RosterEntry,
)
from .messages import ExchangeMessage, RefusedDelivery
from .nodes import GENESIS_HASH, ExchangeNode, NodeRegistry
from .transfers import InsuranceTransfer

__all__ = [
    "GENESIS_HASH",
    "ArrearsListing",
    "BenefitRoster",
    "CertificationAssistance",
    "CertificationFinding",
    "CertificationRequest",
    "CertificationStatistic",
    "EligibilityCheck",
    "ExchangeMessage",
    "ExchangeNode",
    "FindingDismissal",
    "InsuranceTransfer",
    "NodeRegistry",
    "RefusedDelivery",
    "RosterEntry",
]

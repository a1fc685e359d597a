"""Models of the insurance app (社会保险), one module per subdomain. Their tables keep the names they
had in the exchange app (``exchange_*``), so moving them kept every row (migration 0001)."""

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
from .transfers import InsuranceTransfer

__all__ = [
    "BenefitRoster",
    "CertificationAssistance",
    "CertificationFinding",
    "CertificationRequest",
    "CertificationStatistic",
    "EligibilityCheck",
    "FindingDismissal",
    "InsuranceTransfer",
    "RosterEntry",
]

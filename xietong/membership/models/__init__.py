"""Models of the membership app, one module per subdomain."""

from .cards import CardPrintJob, CardUse, MemberCard, ServicePoint
from .figures import JoinDay, OrganizationFigures
from .imports import MemberImport
from .join import JoinApplication, OutreachEvent
from .members import Member
from .transfers import MembershipTransfer

__all__ = [
    "CardPrintJob",
    "CardUse",
    "JoinApplication",
    "JoinDay",
    "Member",
    "MemberCard",
    "MemberImport",
    "MembershipTransfer",
    "OrganizationFigures",
    "OutreachEvent",
    "ServicePoint",
]

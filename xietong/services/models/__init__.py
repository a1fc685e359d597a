"""Models of the services app (职工服务), one module per subdomain."""

from .benefits import Benefit, BenefitProvider, BenefitUse
from .legalaid import Lawyer, LegalAidCase, LegalAidMilestone
from .network import ServiceStation
from .requests import KnowledgeAnswer, RequestEntry, ServiceCategory, ServiceRequest

__all__ = [
    "Benefit",
    "BenefitProvider",
    "BenefitUse",
    "KnowledgeAnswer",
    "Lawyer",
    "LegalAidCase",
    "LegalAidMilestone",
    "RequestEntry",
    "ServiceCategory",
    "ServiceRequest",
    "ServiceStation",
]

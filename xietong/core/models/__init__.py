"""Models of the core app, one module per subdomain."""

from .accounts import Role, RoleAssignment, User
from .audit import AuditEvent
from .base import BackgroundJob, BaseModel, RestrictedQuerySet
from .calendar import WorkCalendarYear
from .exports import ExportJob
from .keys import PiiKeyRotation
from .notifications import Notification
from .organizations import Affiliation, Employer, Organization
from .people import Person
from .processes import ProcessState
from .regions import Region

__all__ = [
    "Affiliation",
    "AuditEvent",
    "BackgroundJob",
    "BaseModel",
    "Employer",
    "ExportJob",
    "Notification",
    "Organization",
    "Person",
    "PiiKeyRotation",
    "ProcessState",
    "Region",
    "RestrictedQuerySet",
    "Role",
    "RoleAssignment",
    "User",
    "WorkCalendarYear",
]

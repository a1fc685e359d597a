"""Warnings other apps give about a core record, shown on its page without core importing them.

Core cannot import a domain app (ARCHITECTURE.md §3, import-linter), yet an employer's page must say
when, for instance, the inspection app has it on the region group's wage-arrears blacklist. A domain
app registers a function here from its ``AppConfig.ready()``; the page asks every registered function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Employer
    from .typing import Viewer


@dataclass(frozen=True)
class Alert:
    """One warning: its text, an optional link to the record behind it, and its Bootstrap level."""

    message: str
    url: str = ""
    link_text: str = ""
    level: str = "danger"


EmployerAlerts = Callable[["Employer", "Viewer"], list[Alert]]
_EMPLOYER_ALERTS: list[EmployerAlerts] = []


def register_employer_alerts(source: EmployerAlerts) -> None:
    """Add a source of warnings about an employer (called from an app's ``ready()``; idempotent)."""
    if source not in _EMPLOYER_ALERTS:
        _EMPLOYER_ALERTS.append(source)


def employer_alerts(*, employer: Employer, user: Viewer) -> list[Alert]:
    """Every registered app's warnings about ``employer``, as ``user`` may read them."""
    return [alert for source in _EMPLOYER_ALERTS for alert in source(employer, user)]

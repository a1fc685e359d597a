"""Template tags of the audit log: every page shows an event's details through ``core.audit.describe``."""

from __future__ import annotations

from typing import Any

from django import template

from xietong.core import audit as core_audit

register = template.Library()


@register.inclusion_tag("core/_partials/audit_details.html")
def audit_details(event: Any) -> dict[str, Any]:
    """``{% audit_details event %}``: the event's changed fields (label: old → new) and kept facts."""
    return {"description": core_audit.describe(event)}


@register.filter
def audit_target_type(event: Any) -> str:
    """``{{ event|audit_target_type }}``: the name of the kind of record, e.g. 人员 for ``core.person``."""
    return core_audit.target_type_name(event.target_type)

"""Every write of the insurance app, one module per subdomain: ``transfers`` (社会保险关系转移接续)
and ``certification`` (待遇领取资格认证, ADR 009). Callers import from here."""

from .certification import (
    ROSTER_BATCH,
    certification_assist,
    certification_findings_apply,
    certification_request_apply,
    certification_run_send,
    certification_run_start,
    finding_confirm,
    finding_dismiss,
    finding_letter,
    findings_decide_bulk,
    roster_import_run,
    roster_import_start,
)
from .transfers import (
    transfer_answer,
    transfer_apply_remote,
    transfer_assign,
    transfer_complete,
    transfer_periods_read,
    transfer_refuse,
    transfer_request,
)

__all__ = [
    "ROSTER_BATCH",
    "certification_assist",
    "certification_findings_apply",
    "certification_request_apply",
    "certification_run_send",
    "certification_run_start",
    "finding_confirm",
    "finding_dismiss",
    "finding_letter",
    "findings_decide_bulk",
    "roster_import_run",
    "roster_import_start",
    "transfer_answer",
    "transfer_apply_remote",
    "transfer_assign",
    "transfer_complete",
    "transfer_periods_read",
    "transfer_refuse",
    "transfer_request",
]

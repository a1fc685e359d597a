"""Every write of the membership app (ARCHITECTURE.md §3.1): keyword-only, transactional, audited.

One module per subdomain; this package re-exports the public names, so callers keep writing
``from xietong.membership import actions; actions.member_join(...)``.
"""

from .cards import (
    PRINT_BATCH_LIMIT,
    PRINT_NOW_LIMIT,
    REFUSAL_BY_CARD_STATUS,
    CardRefused,
    Verification,
    card_issue,
    card_print_batch,
    card_print_downloaded,
    card_print_run,
    card_print_start,
    card_replace,
    card_report_lost,
    card_resume,
    card_suspend,
    card_verify,
    card_verify_by_number,
    cards_issue_bulk,
    member_card_issue,
)
from .events import outreach_event_create
from .figures import figures_rebuild, figures_recount
from .imports import IMPORT_CHUNK, member_import_run, member_import_start
from .join import (
    BulkOutcome,
    JoinReceipt,
    join_application_approve,
    join_application_reject,
    join_application_submit,
    join_applications_approve_bulk,
)
from .members import DESTRUCTIVE_MEMBER_MOVES, member_create, member_link_employer, member_set_status
from .transfers import transfer_accept, transfer_cancel, transfer_refuse, transfer_request

__all__ = [
    "DESTRUCTIVE_MEMBER_MOVES",
    "IMPORT_CHUNK",
    "PRINT_BATCH_LIMIT",
    "PRINT_NOW_LIMIT",
    "REFUSAL_BY_CARD_STATUS",
    "BulkOutcome",
    "CardRefused",
    "JoinReceipt",
    "Verification",
    "card_issue",
    "card_print_batch",
    "card_print_downloaded",
    "card_print_run",
    "card_print_start",
    "card_replace",
    "card_report_lost",
    "card_resume",
    "card_suspend",
    "card_verify",
    "card_verify_by_number",
    "cards_issue_bulk",
    "figures_rebuild",
    "figures_recount",
    "join_application_approve",
    "join_application_reject",
    "join_application_submit",
    "join_applications_approve_bulk",
    "member_card_issue",
    "member_create",
    "member_import_run",
    "member_import_start",
    "member_link_employer",
    "member_set_status",
    "outreach_event_create",
    "transfer_accept",
    "transfer_cancel",
    "transfer_refuse",
    "transfer_request",
]

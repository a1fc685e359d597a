"""Writes of the wage-arrears blacklist (欠薪"黑名单"), shared by every node of the region group
through the exchange: listings made here are broadcast, those of the others arrive as messages."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from xietong import exchange
from xietong.core import audit
from xietong.core.choices import AuditAction
from xietong.core.models import Organization, User
from xietong.exchange.envelope import Refused
from xietong.exchange.models import ExchangeNode
from xietong.lib import creditcode
from xietong.lib.names import to_simplified

from .choices import ListingStatus
from .models import ArrearsListing


def _me() -> str:
    return str(settings.XIETONG_NODE_ID)


def _listing_body(listing: ArrearsListing) -> dict[str, Any]:
    return {
        "uid": listing.uid,
        "origin_node": listing.origin_node,
        "authority": listing.authority,
        "credit_code": listing.credit_code,
        "employer_name": listing.employer_name,
        "amount_owed": str(listing.amount_owed),
        "workers_affected": listing.workers_affected,
        "decision_no": listing.decision_no,
        "listed_on": listing.listed_on.isoformat(),
        "expires_on": listing.expires_on.isoformat() if listing.expires_on else None,
        "status": listing.status,
        "removed_on": listing.removed_on.isoformat() if listing.removed_on else None,
        "removal_reason": listing.removal_reason,
    }


def _clean_listing(listing: ArrearsListing) -> None:
    """Normalise and check a listing's fields; ``ValidationError`` per field, in Chinese."""
    errors: dict[str, str] = {}
    try:
        listing.credit_code = creditcode.parse(listing.credit_code).code
    except creditcode.InvalidCreditCode as exc:
        errors["credit_code"] = str(exc)
    listing.employer_name = to_simplified(listing.employer_name.strip())
    listing.authority = to_simplified(listing.authority.strip())
    try:
        listing.amount_owed = Decimal(str(listing.amount_owed))
        if listing.amount_owed <= 0:
            errors["amount_owed"] = "拖欠工资金额应大于0"
    except InvalidOperation:
        errors["amount_owed"] = "拖欠工资金额不是有效数字"
    if int(listing.workers_affected) < 1:
        errors["workers_affected"] = "涉及劳动者人数至少为1"
    if listing.expires_on and listing.expires_on < listing.listed_on:
        errors["expires_on"] = "届满日期不能早于列入日期"
    if errors:
        raise ValidationError(errors)
    listing.full_clean()


@transaction.atomic
def arrears_list(
    *,
    organization: Organization,
    credit_code: str,
    employer_name: str,
    amount_owed: Decimal | str,
    workers_affected: int,
    decision_no: str,
    listed_on: dt.date,
    expires_on: dt.date | None = None,
    acting_user: User,
) -> ArrearsListing:
    """List an employer for wage arrears and publish the listing to every node of the region group."""
    listing = ArrearsListing(
        uid=uuid.uuid4().hex,
        origin_node=_me(),
        organization=organization,
        authority=organization.name,
        credit_code=credit_code,
        employer_name=employer_name,
        amount_owed=amount_owed,
        workers_affected=workers_affected,
        decision_no=decision_no.strip(),
        listed_on=listed_on,
        expires_on=expires_on,
    )
    _clean_listing(listing)
    duplicate = ArrearsListing.objects.filter(
        credit_code=listing.credit_code, decision_no=listing.decision_no, status=ListingStatus.LISTED
    ).first()
    if duplicate:
        raise ValidationError({"decision_no": f"该单位已按决定书 {listing.decision_no} 列入名单"})
    listing.save()
    audit.record(AuditAction.CREATE, target=listing, acting_user=acting_user, after=listing.snapshot())
    exchange.broadcast(
        kind="arrears.listed", body=_listing_body(listing), idempotency_key=f"arrears.listed:{listing.uid}"
    )
    return listing


@transaction.atomic
def arrears_remove(
    *, listing: ArrearsListing, reason: str, removed_on: dt.date, acting_user: User
) -> ArrearsListing:
    """Take a listing of this node off the blacklist; the removal reaches every node the same way."""
    if listing.origin_node != _me():
        raise ValidationError(f"此名单由 {listing.origin_node} 节点列入，只能由该节点移出")
    if listing.status == ListingStatus.REMOVED:
        raise ValidationError("此单位已移出名单")
    if not reason.strip():
        raise ValidationError({"removal_reason": "请填写移出原因"})
    before = listing.snapshot()
    listing.status, listing.removed_on, listing.removal_reason = (
        ListingStatus.REMOVED,
        removed_on,
        reason.strip(),
    )
    listing.save()
    audit.record(
        AuditAction.STATUS, target=listing, acting_user=acting_user, before=before, after=listing.snapshot()
    )
    exchange.broadcast(
        kind="arrears.removed", body=_listing_body(listing), idempotency_key=f"arrears.removed:{listing.uid}"
    )
    return listing


def arrears_apply_remote(*, data: dict[str, Any], sender: ExchangeNode) -> ArrearsListing:
    """Keep the copy of a listing (or its removal) published by another node (``data`` validated by
    the message's serializer)."""
    if data["origin_node"] != sender.node_id:
        raise Refused(f"节点 {sender.node_id} 只能发布本节点列入的名单")
    listing = ArrearsListing.objects.filter(uid=data["uid"]).first()
    before = listing.snapshot() if listing else None
    listing = listing or ArrearsListing(uid=data["uid"], origin_node=sender.node_id)
    if listing.origin_node != sender.node_id:
        raise Refused("名单编号属于另一个节点")
    for name in (
        "authority", "credit_code", "employer_name", "amount_owed", "workers_affected", "decision_no",
        "listed_on", "expires_on", "removed_on", "removal_reason",
    ):  # fmt: skip
        setattr(listing, name, data[name])
    listing.status = ListingStatus(data["status"])
    _clean_listing(listing)
    listing.save()
    audit.record(
        AuditAction.RECEIVE,
        target=listing,
        before=before,
        after=listing.snapshot(),
        detail={"from": sender.node_id},
    )
    return listing

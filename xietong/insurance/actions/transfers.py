"""Writes of social-insurance transfers between regions (社会保险关系转移接续): this node's steps, and
the steps the other region took, received through the exchange (``insurance.messages``)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from xietong import exchange
from xietong.core import audit, pii
from xietong.core.choices import AuditAction, OrganizationKind
from xietong.core.models import Organization, User
from xietong.core.workflows import move_audited
from xietong.exchange.envelope import Refused
from xietong.exchange.models import ExchangeNode
from xietong.lib import idnumber, workdays
from xietong.lib.names import to_simplified

from .. import selectors
from ..choices import Scheme, TransferSide, TransferStatus
from ..models import InsuranceTransfer
from ..periods import InvalidPeriods, Period, check_periods, parse_periods, pooled_amount


def _me() -> str:
    return str(settings.XIETONG_NODE_ID)


def _due(start: dt.date) -> dt.date:
    from xietong.core.selectors import work_calendar

    return workdays.add_working_days(start, settings.XIETONG_TRANSFER_STEP_WORKING_DAYS, work_calendar())


def _count_deadlines(transfer: InsuranceTransfer, *, status: str | None = None) -> None:
    """Set the current step's limit and whether a step ran late, from the dates the law counts from
    (``selectors.transfer_timeline``; ``status``: the one the transfer is moving to); called whenever
    one of those dates is recorded."""
    timeline = selectors.transfer_timeline(transfer, status=status)
    transfer.due_on, transfer.step_late = timeline.due_on, timeline.late


def scheme_since(scheme: str) -> dt.date:
    """The first month a contribution record of ``scheme`` may hold (``XIETONG_TRANSFER_SCHEME_SINCE``)."""
    year, month = str(settings.XIETONG_TRANSFER_SCHEME_SINCE.get(scheme, "1991-07")).split("-")
    return dt.date(int(year), int(month), 1)


def transfer_periods_read(
    *, text: str | None = None, periods: list[Period] | None = None, scheme: str, on: dt.date
) -> list[Period]:
    """The contribution record of an answer dated ``on``, read from ``text`` (typed or pasted from
    Excel) or given: ``ValidationError`` on ``periods`` naming each line at fault (bad form, months
    after ``on``, before the scheme began, or overlapping another line)."""
    try:
        read = parse_periods(text) if text is not None else list(periods or [])
        check_periods(read, on=on, since=scheme_since(scheme))
    except InvalidPeriods as exc:
        raise ValidationError({"periods": exc.errors}) from exc
    return read


@transaction.atomic
def transfer_request(
    *,
    organization: Organization,
    name: str,
    id_number: str,
    sending_node: str,
    applied_on: dt.date,
    scheme: str = Scheme.PENSION,
    sending_office: str = "",
    acting_user: User,
) -> InsuranceTransfer:
    """The receiving region (this node) accepts a worker's application and sends the contact letter.

    ``sending_office`` names the bureau of the sending region that should answer (it goes to that
    region's top HRSS office when empty or unknown there)."""
    from xietong.core import actions as core_actions

    number = core_actions.parse_id_number(id_number)
    peer = ExchangeNode.objects.filter(node_id=sending_node).first()
    if sending_node == _me() or peer is None or not peer.is_trusted():
        raise ValidationError({"sending_node": "请选择名册中的其他地区节点作为转出地"})
    today = timezone.localdate()
    if applied_on > today:
        raise ValidationError({"applied_on": "申请日期不能晚于今天"})
    transfer = InsuranceTransfer(
        uid=uuid.uuid4().hex,
        side=TransferSide.RECEIVING,
        receiving_node=_me(),
        sending_node=sending_node,
        organization=organization,
        scheme=scheme,
        name=to_simplified(name.strip()),
        applied_on=applied_on,
        letter_sent_on=today,
        peer_office=to_simplified(sending_office.strip())[:200],
        due_on=applied_on,
    )
    _count_deadlines(transfer)  # the letter leaves today: late when the application is older than the limit
    _set_transfer_id(transfer, number)
    transfer.full_clean()
    transfer.save()
    audit.record(AuditAction.CREATE, target=transfer, acting_user=acting_user, after=transfer.snapshot())
    exchange.send(
        to=sending_node,
        kind="insurance.transfer_requested",
        body={
            "uid": transfer.uid,
            "name": transfer.name,
            "id_number": number.number,
            "scheme": scheme,
            "applied_on": applied_on.isoformat(),
            "sent_on": today.isoformat(),
            "authority": organization.name,
            "office": to_simplified(sending_office.strip()),
        },
        idempotency_key=f"transfer.requested:{transfer.uid}",
    )
    return transfer


def _set_transfer_id(transfer: InsuranceTransfer, number: idnumber.IdNumber) -> None:
    transfer.id_number_cipher = pii.encrypt(number.number, field="id_number")
    transfer.id_number_index = pii.blind_index(number.number, purpose="id_number")
    transfer.id_number_masked = number.masked()


@transaction.atomic
def transfer_answer(
    *, transfer: InsuranceTransfer, periods: str | list[Period], personal_account: Decimal, acting_user: User
) -> InsuranceTransfer:
    """The sending region (this node) sends the contribution record and the amounts, and closes here.

    ``periods`` is the record as typed (or pasted from Excel) or already read; it is refused with the
    lines named when a line overlaps another, lies after today's month or before the scheme began,
    and the pooled fund is counted on the months that remain (each once)."""
    if transfer.side != TransferSide.SENDING:
        raise ValidationError("只有转出地可以答复转移申请")
    answered_on = timezone.localdate()
    errors: dict[str, list[str]] = {}
    try:
        read = transfer_periods_read(
            text=periods if isinstance(periods, str) else None,
            periods=None if isinstance(periods, str) else periods,
            scheme=transfer.scheme,
            on=answered_on,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if personal_account < 0:
        errors["personal_account"] = ["个人账户储存额不能为负数"]
    if errors:
        raise ValidationError(errors)
    before = transfer.snapshot()
    transfer.periods = [period.as_json() for period in read]
    transfer.personal_account = personal_account.quantize(Decimal("0.01"))
    transfer.pooled_amount = pooled_amount(read, until=answered_on)
    transfer.fund_transfer_amount = transfer.personal_account + transfer.pooled_amount
    transfer.answered_on = answered_on
    _count_deadlines(transfer, status=TransferStatus.ANSWERED)
    move_audited(transfer, to=TransferStatus.ANSWERED, acting_user=acting_user, before=before)
    exchange.send(
        to=transfer.receiving_node,
        kind="insurance.transfer_answered",
        body={
            "uid": transfer.uid,
            "periods": transfer.periods,
            "personal_account": str(transfer.personal_account),
            "pooled_amount": str(transfer.pooled_amount),
            "answered_on": transfer.answered_on.isoformat(),
        },
        idempotency_key=f"transfer.answered:{transfer.uid}",
    )
    return transfer


@transaction.atomic
def transfer_refuse(*, transfer: InsuranceTransfer, reason: str, acting_user: User) -> InsuranceTransfer:
    """The sending region refuses the transfer, with the reason the worker will read."""
    if transfer.side != TransferSide.SENDING:
        raise ValidationError("只有转出地可以不予转移")
    if not reason.strip():
        raise ValidationError({"reason": "请填写不予转移的原因"})
    before = transfer.snapshot()
    transfer.refusal_reason = reason.strip()[:300]
    move_audited(transfer, to=TransferStatus.REFUSED, acting_user=acting_user, before=before)
    exchange.send(
        to=transfer.receiving_node,
        kind="insurance.transfer_refused",
        body={"uid": transfer.uid, "reason": transfer.refusal_reason},
        idempotency_key=f"transfer.refused:{transfer.uid}",
    )
    return transfer


@transaction.atomic
def transfer_complete(*, transfer: InsuranceTransfer, acting_user: User) -> InsuranceTransfer:
    """The receiving region has checked the amount and continued the record: the transfer is closed."""
    if transfer.side != TransferSide.RECEIVING:
        raise ValidationError("只有转入地可以办结接续")
    before = transfer.snapshot()
    transfer.completed_on = timezone.localdate()
    _count_deadlines(transfer, status=TransferStatus.COMPLETED)
    move_audited(transfer, to=TransferStatus.COMPLETED, acting_user=acting_user, before=before)
    received = transfer.funds_received_on
    exchange.send(
        to=transfer.sending_node,
        kind="insurance.transfer_completed",
        body={
            "uid": transfer.uid,
            "completed_on": transfer.completed_on.isoformat(),
            "funds_received_on": received.isoformat() if received else None,
        },
        idempotency_key=f"transfer.completed:{transfer.uid}",
    )
    return transfer


def top_hrss_office() -> Organization | None:
    """This node's top HRSS office: the one ``XIETONG_HRSS_OFFICE`` names, else the HRSS bureau
    nearest the root of the tree (then the oldest)."""
    offices = Organization.objects.filter(kind=OrganizationKind.HRSS_BUREAU)
    configured = offices.filter(code=settings.XIETONG_HRSS_OFFICE).first()
    return configured or offices.order_by(Length("path"), "pk").first()


def _owning_office(named: str) -> Organization:
    """The office an incoming request belongs to: the HRSS bureau it names, or the top one."""
    office = None
    if named.strip():
        office = Organization.objects.filter(
            kind=OrganizationKind.HRSS_BUREAU, name=to_simplified(named.strip())
        ).first()
    office = office or top_hrss_office()
    if office is None:
        raise Refused("本节点没有人力资源和社会保障部门，无法受理转移申请")
    return office


@transaction.atomic
def transfer_assign(
    *, transfer: InsuranceTransfer, organization: Organization, acting_user: User
) -> InsuranceTransfer:
    """Hand a transfer to another HRSS office within the owning office's subtree (e.g. the city
    bureau to a district bureau). Audited; the other region is not told (it is this node's affair)."""
    if organization.kind != OrganizationKind.HRSS_BUREAU:
        raise ValidationError({"organization": "只能交由人力资源和社会保障部门办理"})
    owner = transfer.organization
    if owner is not None and not organization.path.startswith(owner.path):
        raise ValidationError({"organization": "只能交由本机构或其下级机构办理"})
    if owner == organization:
        return transfer
    before = transfer.snapshot()
    transfer.organization = organization
    transfer.save(update_fields=["organization", "updated_at"])
    audit.record(
        AuditAction.UPDATE, target=transfer, acting_user=acting_user, before=before,
        after=transfer.snapshot(), detail={"assigned_to": organization.name},
    )  # fmt: skip
    return transfer


def _date(value: object) -> dt.date | None:
    """A date from a message body: validated bodies carry dates, direct callers ISO strings."""
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)) if value else None


def _peer_transfer(body: dict[str, Any], sender: ExchangeNode, *, side: str) -> InsuranceTransfer:
    transfer = InsuranceTransfer.objects.filter(uid=str(body["uid"]), side=side).first()
    peer_field = "sending_node" if side == TransferSide.RECEIVING else "receiving_node"
    if transfer is None or getattr(transfer, peer_field) != sender.node_id:
        raise Refused(f"转移申请 {body['uid']} 不存在")
    return transfer


def transfer_apply_remote(kind: str, body: dict[str, Any], sender: ExchangeNode) -> InsuranceTransfer:
    """Apply a step the other region took (a handler of the exchange), recording the date it arrived
    here where the law counts the next step from it."""
    today = timezone.localdate()
    if kind == "insurance.transfer_requested":
        return _letter_received(body, sender, today)
    if kind == "insurance.transfer_received":
        return _receipt_received(body, sender)
    transfer = _peer_transfer(
        body, sender, side=TransferSide.SENDING if kind.endswith("completed") else TransferSide.RECEIVING
    )
    before = transfer.snapshot()
    if kind == "insurance.transfer_answered":
        transfer.periods = [
            {"start": p["start"], "end": p["end"], "base": str(p["base"])} for p in body["periods"]
        ]
        transfer.personal_account = body["personal_account"]
        transfer.pooled_amount = body["pooled_amount"]
        transfer.fund_transfer_amount = transfer.personal_account + transfer.pooled_amount
        transfer.answered_on = _date(body["answered_on"])
        transfer.funds_received_on = today
        to = TransferStatus.ANSWERED
    elif kind == "insurance.transfer_refused":
        transfer.refusal_reason = body["reason"][:300]
        to = TransferStatus.REFUSED
    else:
        transfer.completed_on = _date(body["completed_on"])
        transfer.funds_received_on = _date(body.get("funds_received_on")) or transfer.funds_received_on
        to = TransferStatus.COMPLETED
    _count_deadlines(transfer, status=to)
    move_audited(
        transfer,
        to=to,
        acting_user=None,
        action=AuditAction.RECEIVE,
        before=before,
        detail={"from": sender.node_id},
    )
    return transfer


def _letter_received(body: dict[str, Any], sender: ExchangeNode, today: dt.date) -> InsuranceTransfer:
    """The receiving region's contact letter arrived: this node (the sending region) opens its record,
    its limit running from today, and tells the other region it has the letter and which office
    took it (``insurance.transfer_received``)."""
    from xietong.core import actions as core_actions

    if InsuranceTransfer.objects.filter(uid=body["uid"]).exists():
        raise Refused("转移申请已存在")
    applied_on = _date(body["applied_on"]) or today
    if applied_on > today + dt.timedelta(days=1):  # a day's grace for the clocks
        raise Refused("申请日期晚于今天")
    transfer = InsuranceTransfer(
        uid=body["uid"],
        organization=_owning_office(body.get("office", "")),
        side=TransferSide.SENDING,
        receiving_node=sender.node_id,
        sending_node=_me(),
        scheme=Scheme(body["scheme"]),
        name=body["name"],
        applied_on=applied_on,
        letter_sent_on=_date(body.get("sent_on")) or applied_on,
        letter_received_on=today,
        peer_office=str(body.get("authority", ""))[:200],
        due_on=today,
    )
    _count_deadlines(transfer)
    _set_transfer_id(transfer, core_actions.parse_id_number(body["id_number"]))
    transfer.full_clean()
    transfer.save()
    audit.record(
        AuditAction.RECEIVE, target=transfer, after=transfer.snapshot(), detail={"from": sender.node_id}
    )
    exchange.send(
        to=sender.node_id,
        kind="insurance.transfer_received",
        body={
            "uid": transfer.uid,
            "received_on": today.isoformat(),
            "office": transfer.organization.name if transfer.organization else "",
        },
        idempotency_key=f"transfer.received:{transfer.uid}",
    )
    return transfer


def _receipt_received(body: dict[str, Any], sender: ExchangeNode) -> InsuranceTransfer:
    """The sending region has the letter: the date its limit runs from, and the office that took it."""
    transfer = _peer_transfer(body, sender, side=TransferSide.RECEIVING)
    before = transfer.snapshot()
    transfer.letter_received_on = _date(body["received_on"])
    transfer.peer_office = str(body.get("office") or transfer.peer_office)[:200]
    _count_deadlines(transfer)
    transfer.save()
    audit.record(
        AuditAction.RECEIVE, target=transfer, acting_user=None, before=before,
        after=transfer.snapshot(), detail={"from": sender.node_id},
    )  # fmt: skip
    return transfer

"""Every write of the services app: the service network, 12351 service requests (filing, routing,
the thread, hand-over to another node, closure and follow-up, escalation), the knowledge base and
legal aid. Keyword-only, transactional, audited (ARCHITECTURE.md §3 rule 1).

The request actions take the requester as data (``member``, ``requester_user``), so that the member
portal files and rates requests through the same functions as the hotline desk."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xietong import exchange
from xietong.core import audit, pii
from xietong.core.actions import notify
from xietong.core.choices import AuditAction, OrganizationKind
from xietong.core.models import Employer, Organization, Region
from xietong.core.workflows import move_audited
from xietong.exchange.envelope import Refused
from xietong.lib import idnumber, phone, workdays
from xietong.lib.names import to_simplified

from . import selectors
from .choices import DEFAULT_CATEGORIES, BenefitPeriod, Channel, EntryKind, LegalAidStage, RequestStatus
from .models import (
    Benefit,
    BenefitProvider,
    BenefitUse,
    KnowledgeAnswer,
    Lawyer,
    LegalAidCase,
    LegalAidMilestone,
    RequestEntry,
    ServiceCategory,
    ServiceRequest,
    ServiceStation,
)

if TYPE_CHECKING:
    from xietong.core.models import User
    from xietong.exchange.models import ExchangeNode
    from xietong.membership.desk import Redemption
    from xietong.membership.models import Member, ServicePoint


def _me() -> str:
    return str(settings.XIETONG_NODE_ID)


def _text(value: str) -> str:
    return to_simplified((value or "").strip())


# The service network ------------------------------------------------------------------------------------

STATION_FIELDS = ("name", "level", "district", "address", "hours", "phone", "description", "active")


@transaction.atomic
def station_create(
    *,
    organization: Organization,
    name: str,
    level: str,
    district: Region,
    address: str,
    hours: str = "",
    phone: str = "",
    description: str = "",
    active: bool = True,
    services: Iterable[ServiceCategory] = (),
    acting_user: User | None,
) -> ServiceStation:
    """Open a service centre or station of ``organization``. Audited."""
    if not organization.is_union:
        raise ValidationError({"organization": _("服务站点只能隶属于工会")})
    station = ServiceStation(
        organization=organization,
        name=_text(name),
        level=level,
        district=district,
        address=_text(address),
        hours=hours.strip(),
        phone=phone.strip(),
        description=description.strip(),
        active=active,
    )
    station.full_clean()
    station.save()
    station.services.set(list(services))
    audit.record(AuditAction.CREATE, target=station, acting_user=acting_user, after=station.snapshot())
    return station


@transaction.atomic
def station_update(
    *,
    station: ServiceStation,
    services: Iterable[ServiceCategory] | None = None,
    acting_user: User,
    **fields: Any,
) -> ServiceStation:
    """Change a station's details (``STATION_FIELDS``) and the services it offers. Audited."""
    unknown = set(fields) - set(STATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown station fields: {sorted(unknown)}")
    before = station.snapshot()
    for name, value in fields.items():
        setattr(station, name, _text(value) if name in ("name", "address") else value)
    station.full_clean()
    station.save()
    detail = None
    if services is not None:
        station.services.set(list(services))
        detail = {"services": [category.name for category in station.services.all()]}
    audit.record(
        AuditAction.UPDATE,
        target=station,
        acting_user=acting_user,
        before=before,
        after=station.snapshot(),
        detail=detail,
    )
    return station


# Request categories (node-wide reference data) ---------------------------------------------------------

CATEGORY_MAX_DAYS = 30


@transaction.atomic
def category_save(
    *,
    category: ServiceCategory,
    name: str,
    acknowledge_days: int,
    answer_days: int,
    legal_aid: bool,
    active: bool,
    order: int,
    acting_user: User,
) -> ServiceCategory:
    """Change a request category: its name, its time limits in working days (1–30, acknowledge no
    later than answer), whether it may become legal aid, whether it is offered, its place. New
    requests take the new limits; filed ones keep their due dates. Audited."""
    errors: dict[str, str] = {}
    for field, days in (("acknowledge_days", acknowledge_days), ("answer_days", answer_days)):
        if not 1 <= days <= CATEGORY_MAX_DAYS:
            errors[field] = _("时限应为1至%(max)s个工作日") % {"max": CATEGORY_MAX_DAYS}
    if not errors and acknowledge_days > answer_days:
        errors["acknowledge_days"] = _("签收时限不能长于答复时限")
    name = _text(name)
    if not name:
        errors["name"] = _("请填写类别名称")
    elif ServiceCategory.objects.filter(name=name).exclude(pk=category.pk).exists():
        errors["name"] = _("已有同名的服务类别")
    if errors:
        raise ValidationError(errors)
    before = category.snapshot()
    category.name, category.legal_aid, category.active, category.order = name, legal_aid, active, order
    category.acknowledge_days, category.answer_days = acknowledge_days, answer_days
    category.full_clean()
    category.save()
    audit.record(
        AuditAction.UPDATE, target=category, acting_user=acting_user, before=before, after=category.snapshot()
    )
    return category


# Filing and routing ------------------------------------------------------------------------------------


def _set_phone(service_request: ServiceRequest, value: str) -> None:
    """Keep the caller's phone encrypted, with a blind index for search and a masked copy to show."""
    if not (value or "").strip():
        return
    try:
        number = phone.parse(value)
    except phone.InvalidPhone as exc:
        raise ValidationError({"requester_phone": str(exc)}) from exc
    service_request.requester_phone_cipher = pii.encrypt(number, field="phone")
    service_request.requester_phone_index = pii.blind_index(number, purpose="phone")
    service_request.requester_phone_masked = pii.mask_phone(number)


def requester_phone(service_request: ServiceRequest) -> str:
    """The caller's full phone number, for a call back or a hand-over (the caller checks the right)."""
    if not service_request.requester_phone_cipher:
        return ""
    return pii.decrypt(service_request.requester_phone_cipher, field="phone")


def _limits(category: ServiceCategory, start: dt.date) -> tuple[dt.date, dt.date]:
    """The acknowledge and answer limits of a request filed on ``start`` (working days)."""
    return (
        workdays.add_working_days(start, category.acknowledge_days),
        workdays.add_working_days(start, category.answer_days),
    )


def route(
    *,
    member: Member | None = None,
    employer: Employer | None = None,
    district: Region | None = None,
    fallback: Organization | None = None,
) -> Organization:
    """The union responsible for a request: the worker's union (membership); for a non-member the
    union of the employer's district, else of the caller's district; else ``fallback`` (the union
    that took the call), else the node's top union."""
    if member is not None:
        return member.organization
    for region in (employer.region if employer is not None else None, district):
        union = selectors.union_for_district(region) if region is not None else None
        if union is not None:
            return union
    union = fallback if fallback is not None and fallback.is_union else selectors.top_union()
    if union is None:
        raise ValidationError(_("本节点没有工会组织，无法受理诉求"))
    return union


def _number(uid: str, on: dt.date) -> str:
    return f"12351-{on:%Y%m%d}-{uid[:6].upper()}"


@transaction.atomic
def request_file(
    *,
    channel: str,
    category: ServiceCategory,
    subject: str,
    description: str,
    requester_name: str,
    requester_phone: str = "",
    member: Member | None = None,
    id_number: str = "",
    employer: Employer | None = None,
    employer_name: str = "",
    district: Region | None = None,
    station: ServiceStation | None = None,
    received_by: Organization | None = None,
    call_taken_by: User | None = None,
    call_seconds: int | None = None,
    requester_user: User | None = None,
    acting_user: User | None,
) -> ServiceRequest:
    """File a request from any channel and route it (``route``). A hotline call names the operator
    who took it and its length; a portal request names the member and their account. With an ID
    number and no member, the worker's current membership (if any) routes the request."""
    if channel not in Channel.values:
        raise ValidationError({"channel": _("请选择受理渠道")})
    if channel == Channel.HOTLINE and call_taken_by is None:
        raise ValidationError({"call_taken_by": _("热线来电请注明接听话务员")})
    if call_seconds is not None and call_seconds < 0:
        raise ValidationError({"call_seconds": _("通话时长不能为负数")})
    if not category.active:
        raise ValidationError({"category": _("该服务类别已停用")})
    if member is None and id_number.strip():
        try:
            number = idnumber.parse(id_number)
        except idnumber.InvalidIdNumber as exc:
            raise ValidationError({"id_number": str(exc)}) from exc
        member = selectors.current_membership(pii.lookup_indexes(number.number, purpose="id_number"))
    fallback = received_by or (station.organization if station is not None else None)
    organization = route(member=member, employer=employer, district=district, fallback=fallback)
    today = timezone.localdate()
    acknowledge_due, answer_due = _limits(category, today)
    uid = uuid.uuid4().hex
    service_request = ServiceRequest(
        uid=uid,
        number=_number(uid, today),
        organization=organization,
        channel=channel,
        category=category,
        subject=_text(subject),
        description=(description or "").strip(),
        requester_name=_text(requester_name),
        member=member,
        requester_user=requester_user,
        employer_name=_text(employer_name) or (employer.name if employer is not None else ""),
        district=district or (employer.region if employer is not None else None),
        station=station,
        call_taken_by=call_taken_by,
        call_seconds=call_seconds,
        acknowledge_due=acknowledge_due,
        answer_due=answer_due,
    )
    _set_phone(service_request, requester_phone)
    service_request.full_clean()
    service_request.save()
    audit.record(
        AuditAction.CREATE, target=service_request, acting_user=acting_user, after=service_request.snapshot()
    )
    return service_request


def _event(service_request: ServiceRequest, text: str, acting_user: User | None) -> RequestEntry:
    """A line in the thread recording a step (only staff see it)."""
    return RequestEntry.objects.create(
        request=service_request,
        kind=EntryKind.EVENT,
        text=text,
        author=acting_user,
        author_name=_author(acting_user),
    )


def _author(user: User | None) -> str:
    if user is None:
        return ""
    return str(getattr(user, "display_name", "") or user.get_username())


def _open_here(service_request: ServiceRequest) -> None:
    if service_request.status == RequestStatus.HANDED_OVER:
        raise ValidationError(
            _("该诉求已转交%(node)s办理，答复将由对方传回") % {"node": service_request.handled_by}
        )
    if service_request.status not in ServiceRequest.OPEN:
        raise ValidationError(_("该诉求已答复或办结"))


@transaction.atomic
def request_acknowledge(*, service_request: ServiceRequest, acting_user: User) -> ServiceRequest:
    """Take the request on (签收); a request handed here by another node tells that node."""
    before = service_request.snapshot()
    service_request.acknowledged_at = timezone.now()
    move_audited(service_request, to=RequestStatus.ACKNOWLEDGED, acting_user=acting_user, before=before)
    _event(service_request, _("已签收"), acting_user)
    if service_request.origin_node:
        exchange.send(
            to=service_request.origin_node,
            kind="services.request.acknowledged",
            body={"uid": service_request.uid, "acknowledged_at": service_request.acknowledged_at.isoformat()},
            idempotency_key=f"services.request.acknowledged:{service_request.uid}",
        )
    return service_request


def check_attachment(upload: UploadedFile) -> None:
    """Refuse an attachment that is too large, of a type not on the list, or whose content does not
    match its name (a renamed program is not a PDF)."""
    limit = settings.XIETONG_SERVICES_ATTACHMENT_MAX_MB
    if (upload.size or 0) > limit * 1024 * 1024:
        raise ValidationError(
            {
                "attachment": _("附件不能超过 %(limit)s MB（此文件 %(size).1f MB）")
                % {"limit": limit, "size": (upload.size or 0) / 1024 / 1024}
            }
        )
    suffix = Path(upload.name or "").suffix.lower()
    allowed = settings.XIETONG_SERVICES_ATTACHMENT_TYPES
    if suffix not in allowed:
        raise ValidationError(
            {
                "attachment": _("不接受此类文件（%(suffix)s），可上传：%(allowed)s")
                % {"suffix": suffix or _("无扩展名"), "allowed": "、".join(allowed)}
            }
        )
    magic = {".pdf": (b"%PDF",), ".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8",), ".jpeg": (b"\xff\xd8",)}
    if suffix in magic:
        upload.seek(0)
        head = upload.read(8)
        upload.seek(0)
        if not head.startswith(magic[suffix]):
            raise ValidationError(
                {"attachment": _("文件内容与扩展名（%(suffix)s）不符") % {"suffix": suffix}}
            )


@transaction.atomic
def request_reply(
    *,
    service_request: ServiceRequest,
    text: str,
    kind: str = EntryKind.REPLY,
    final: bool = False,
    attachment: UploadedFile | None = None,
    acting_user: User,
) -> RequestEntry:
    """Add a reply to the worker or an internal note (with an optional attachment). A ``final``
    reply is the answer: the request moves to answered, and a request handed here by another node
    sends the answer back there."""
    if kind not in (EntryKind.REPLY, EntryKind.NOTE):
        raise ValidationError({"kind": _("请选择答复职工或内部备注")})
    text = (text or "").strip()
    if not text and attachment is None:
        raise ValidationError({"text": _("请填写内容或上传附件")})
    if final and (kind != EntryKind.REPLY or not text):
        raise ValidationError({"text": _("正式答复须填写答复职工的内容")})
    if kind == EntryKind.REPLY or final:
        _open_here(service_request)
    if attachment is not None:
        check_attachment(attachment)
    entry = RequestEntry(
        request=service_request, kind=kind, text=text, author=acting_user, author_name=_author(acting_user)
    )
    if attachment is not None:
        entry.attachment_name = Path(attachment.name or "").name[:120]
        entry.attachment_size = attachment.size or 0
        entry.attachment.save(
            f"{service_request.uid}-{uuid.uuid4().hex[:8]}{Path(entry.attachment_name).suffix}",
            attachment,
            save=False,
        )
    entry.full_clean()
    entry.save()
    audit.record(
        AuditAction.UPDATE,
        target=service_request,
        acting_user=acting_user,
        detail={"entry": entry.get_kind_display(), "attachment": entry.attachment_name},
    )
    if final:
        _answer(service_request, text, acting_user=acting_user)
    return entry


def _answer(service_request: ServiceRequest, text: str, *, acting_user: User | None) -> None:
    before = service_request.snapshot()
    service_request.answer = text
    service_request.answered_at = timezone.now()
    service_request.acknowledged_at = service_request.acknowledged_at or service_request.answered_at
    move_audited(service_request, to=RequestStatus.ANSWERED, acting_user=acting_user, before=before)
    if service_request.origin_node:
        exchange.send(
            to=service_request.origin_node,
            kind="services.request.answered",
            body={
                "uid": service_request.uid,
                "answer": text,
                "answered_at": service_request.answered_at.isoformat(),
                "union": service_request.organization.name,
            },
            idempotency_key=f"services.request.answered:{service_request.uid}",
        )


@transaction.atomic
def request_reassign(
    *, service_request: ServiceRequest, organization: Organization, acting_user: User
) -> ServiceRequest:
    """Give the request to another union (the view offers only unions in the officer's scope). The
    limits stay: the worker's clock does not restart. Audited, recorded in the thread."""
    _open_here(service_request)
    if not organization.is_union:
        raise ValidationError({"organization": _("只能交由工会办理")})
    if organization == service_request.organization:
        return service_request
    before = service_request.snapshot()
    service_request.organization = organization
    service_request.save(update_fields=["organization", "updated_at"])
    audit.record(
        AuditAction.UPDATE,
        target=service_request,
        acting_user=acting_user,
        before=before,
        after=service_request.snapshot(),
        detail={"assigned_to": organization.name},
    )
    _event(service_request, _("转交%(union)s办理") % {"union": organization.name}, acting_user)
    return service_request


@transaction.atomic
def request_handover(
    *, service_request: ServiceRequest, to_node: str, union_code: str = "", note: str = "", acting_user: User
) -> ServiceRequest:
    """Hand the request to a union on another node (a 廊坊 worker calling Beijing's line). The
    message waits in the outbox until that node takes it (a node that is down gets it when it is
    back); its acknowledgement and answer come back here (``request_apply_remote``)."""
    from xietong.exchange.models import ExchangeNode

    _open_here(service_request)
    if service_request.origin_node:
        raise ValidationError(_("该诉求由其他节点转来，不能再转出"))
    peer = ExchangeNode.objects.filter(node_id=to_node).first()
    if to_node == _me() or peer is None or not peer.is_trusted():
        raise ValidationError({"to_node": _("请选择名册中的其他地区节点")})
    before = service_request.snapshot()
    service_request.handled_by = to_node
    move_audited(
        service_request,
        to=RequestStatus.HANDED_OVER,
        acting_user=acting_user,
        before=before,
        detail={"to": to_node, "union": union_code},
    )
    _event(
        service_request,
        _("转交%(node)s办理。%(note)s") % {"node": peer.name, "note": note.strip()},
        acting_user,
    )
    exchange.send(
        to=to_node,
        kind="services.request.handover",
        body={
            "uid": service_request.uid,
            "number": service_request.number,
            "category": service_request.category.code,
            "channel": service_request.channel,
            "subject": service_request.subject,
            "description": service_request.description,
            "requester_name": service_request.requester_name,
            "requester_phone": requester_phone(service_request),
            "employer_name": service_request.employer_name,
            "district": service_request.district_id or "",
            "union": union_code.strip(),
            "note": note.strip(),
            "filed_at": service_request.created_at.isoformat(),
        },
        idempotency_key=f"services.request.handover:{service_request.uid}",
    )
    return service_request


@transaction.atomic
def request_close(
    *, service_request: ServiceRequest, satisfaction: int | None, comment: str = "", acting_user: User | None
) -> ServiceRequest:
    """Close an answered request with the worker's rating (1–5; given on the phone, at the desk or
    in the portal). A rating at or below ``XIETONG_SERVICES_FOLLOWUP_BELOW`` calls for a follow-up
    call (回访)."""
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise ValidationError({"satisfaction": _("满意度应为1到5分")})
    if service_request.status != RequestStatus.ANSWERED:
        raise ValidationError(_("答复后才能办结"))
    before = service_request.snapshot()
    service_request.satisfaction = satisfaction
    service_request.satisfaction_comment = (comment or "").strip()[:300]
    service_request.closed_at = timezone.now()
    service_request.followup_due = (
        satisfaction is not None and satisfaction <= settings.XIETONG_SERVICES_FOLLOWUP_BELOW
    )
    move_audited(service_request, to=RequestStatus.CLOSED, acting_user=acting_user, before=before)
    return service_request


@transaction.atomic
def request_followup(*, service_request: ServiceRequest, note: str, acting_user: User) -> ServiceRequest:
    """Record the follow-up call (回访) after a low rating."""
    if not service_request.followup_due:
        raise ValidationError(_("该诉求无需回访"))
    if not (note or "").strip():
        raise ValidationError({"note": _("请填写回访情况")})
    before = service_request.snapshot()
    service_request.followup_note = note.strip()
    service_request.followup_at = timezone.now()
    service_request.followup_due = False
    service_request.save()
    audit.record(
        AuditAction.UPDATE,
        target=service_request,
        acting_user=acting_user,
        before=before,
        after=service_request.snapshot(),
        detail={"followup": True},
    )
    _event(service_request, _("已回访：%(note)s") % {"note": service_request.followup_note}, acting_user)
    return service_request


@transaction.atomic
def requests_escalate_overdue(*, today: dt.date | None = None) -> list[ServiceRequest]:
    """Escalate every overdue request, once, to the parent of its union (督办): the parent's officers
    see it among their overdue requests and are notified. Run by ``xietong notify_due`` (the check
    in ``home.py``, every few minutes under ``xietong serve``) or by hand with ``xietong
    services_escalate``; safe to run again."""
    today = today or timezone.localdate()
    escalated = []
    for service_request in selectors.requests_to_escalate(today).select_for_update(of=("self",)):
        parent = service_request.organization.parent
        assert parent is not None  # requests_to_escalate keeps only unions with a parent
        before = service_request.snapshot()
        service_request.escalated_to = parent
        service_request.escalated_at = timezone.now()
        service_request.save(update_fields=["escalated_to", "escalated_at", "updated_at"])
        audit.record(
            AuditAction.UPDATE,
            target=service_request,
            before=before,
            after=service_request.snapshot(),
            detail={"escalated_to": parent.name},
        )
        _event(service_request, _("逾期未办，已提交%(union)s督办") % {"union": parent.name}, None)
        notify(
            kind="services.request_escalated",
            target=service_request,
            perm="services.change_servicerequest",
            organization=parent,
            text=_("12351服务诉求 %(number)s（%(union)s）逾期未办，已提交%(parent)s督办")
            % {
                "number": service_request.number,
                "union": service_request.organization.name,
                "parent": parent.name,
            },
            link=reverse("services:request_detail", args=[service_request.pk]),
        )
        escalated.append(service_request)
    return escalated


# Messages from other nodes ---------------------------------------------------------------------------


def _received_union(body: dict[str, Any]) -> Organization:
    code = str(body.get("union") or "")
    union = (
        Organization.objects.filter(code=code, kind__in=OrganizationKind.union_kinds()).first()
        if code
        else None
    )
    if union is None and body.get("district"):
        union = selectors.union_for_district(Region.objects.filter(code=body["district"]).first())
    union = union or selectors.top_union()
    if union is None:
        raise Refused("本节点没有工会组织，无法接收诉求")
    return union


def request_apply_remote(kind: str, body: dict[str, Any], sender: ExchangeNode) -> ServiceRequest:
    """Apply what another node sent about a request (a handler of the exchange): a request handed
    here, or the acknowledgement and answer of one this node handed there."""
    if kind == "services.request.handover":
        if ServiceRequest.objects.filter(uid=body["uid"]).exists():
            raise Refused("诉求已存在")
        category = (
            ServiceCategory.objects.filter(code=body["category"]).first()
            or ServiceCategory.objects.filter(active=True).order_by("order", "pk").first()
        )
        if category is None:
            raise Refused("本节点未设置服务类别")
        today = timezone.localdate()
        acknowledge_due, answer_due = _limits(category, today)
        district = Region.objects.filter(code=body.get("district") or "").first()
        service_request = ServiceRequest(
            uid=body["uid"],
            number=body["number"],
            organization=_received_union(body),
            channel=body["channel"],
            category=category,
            subject=body["subject"],
            description=body["description"],
            requester_name=body["requester_name"],
            employer_name=body.get("employer_name", ""),
            district=district,
            acknowledge_due=acknowledge_due,
            answer_due=answer_due,
            origin_node=sender.node_id,
        )
        _set_phone(service_request, body.get("requester_phone", ""))
        service_request.full_clean()
        service_request.save()
        audit.record(
            AuditAction.RECEIVE,
            target=service_request,
            after=service_request.snapshot(),
            detail={"from": sender.node_id},
        )
        note = str(body.get("note") or "")
        _event(service_request, _("由%(node)s转来。%(note)s") % {"node": sender.name, "note": note}, None)
        return service_request
    handed = selectors.request_by_uid(str(body["uid"]))
    if handed is None or handed.handled_by != sender.node_id:
        raise Refused(f"诉求 {body['uid']} 不存在")
    service_request = handed
    if kind == "services.request.acknowledged":
        before = service_request.snapshot()
        service_request.acknowledged_at = service_request.acknowledged_at or body["acknowledged_at"]
        service_request.save()
        audit.record(
            AuditAction.RECEIVE,
            target=service_request,
            before=before,
            after=service_request.snapshot(),
            detail={"from": sender.node_id},
        )
        _event(service_request, _("%(node)s已签收") % {"node": sender.name}, None)
        return service_request
    before = service_request.snapshot()
    service_request.answer = body["answer"]
    service_request.answered_at = body["answered_at"]
    move_audited(
        service_request,
        to=RequestStatus.ANSWERED,
        acting_user=None,
        action=AuditAction.RECEIVE,
        before=before,
        detail={"from": sender.node_id},
    )
    _event(
        service_request,
        _("%(union)s（%(node)s）已答复") % {"union": body.get("union", ""), "node": sender.name},
        None,
    )
    return service_request


# Knowledge base ------------------------------------------------------------------------------------


@transaction.atomic
def knowledge_save(
    *,
    answer: KnowledgeAnswer | None = None,
    organization: Organization,
    category: ServiceCategory,
    question: str,
    text: str,
    keywords: str = "",
    public: bool = True,
    acting_user: User,
) -> KnowledgeAnswer:
    """Write a standard answer, or change one (``answer``). Audited."""
    before = answer.snapshot() if answer is not None else None
    answer = answer or KnowledgeAnswer()
    answer.organization, answer.category = organization, category
    answer.question, answer.answer = _text(question), (text or "").strip()
    answer.keywords, answer.public = _text(keywords), public
    answer.full_clean()
    answer.save()
    audit.record(
        AuditAction.UPDATE if before else AuditAction.CREATE,
        target=answer,
        acting_user=acting_user,
        before=before,
        after=answer.snapshot(),
    )
    return answer


# Legal aid -----------------------------------------------------------------------------------------


@transaction.atomic
def lawyer_create(
    *,
    organization: Organization,
    name: str,
    firm: str,
    phone: str = "",
    specialties: str = "",
    acting_user: User,
) -> Lawyer:
    """Put a lawyer on a union's legal-aid roster. Audited."""
    lawyer = Lawyer(
        organization=organization,
        name=_text(name),
        firm=_text(firm),
        phone=phone.strip(),
        specialties=_text(specialties),
    )
    lawyer.full_clean()
    lawyer.save()
    audit.record(AuditAction.CREATE, target=lawyer, acting_user=acting_user, after=lawyer.snapshot())
    return lawyer


@transaction.atomic
def legal_aid_open(*, service_request: ServiceRequest, lawyer: Lawyer, acting_user: User) -> LegalAidCase:
    """Turn a request into a legal-aid case assigned to a lawyer from the roster of its union or a
    union above it. The request stays open until it is answered."""
    if not service_request.category.legal_aid:
        raise ValidationError(_("只有“%(name)s”类诉求可以转为法律援助案件") % {"name": _("法律援助")})
    if LegalAidCase.objects.filter(request=service_request).exists():
        raise ValidationError(_("该诉求已立案"))
    if service_request.status == RequestStatus.HANDED_OVER:
        raise ValidationError(_("该诉求已转交其他节点办理"))
    if not selectors.roster_for(service_request).filter(pk=lawyer.pk).exists():
        raise ValidationError({"lawyer": _("请从本工会或上级工会的律师库中选择在库律师")})
    case = LegalAidCase(
        request=service_request,
        organization=service_request.organization,
        lawyer=lawyer,
        opened_on=timezone.localdate(),
    )
    case.full_clean()
    case.save()
    audit.record(AuditAction.CREATE, target=case, acting_user=acting_user, after=case.snapshot())
    _event(service_request, _("已转法律援助，承办律师：%(lawyer)s") % {"lawyer": str(lawyer)}, acting_user)
    return case


@transaction.atomic
def legal_aid_milestone(
    *,
    case: LegalAidCase,
    stage: str,
    happened_on: dt.date,
    note: str = "",
    outcome: str = "",
    acting_user: User,
) -> LegalAidMilestone:
    """Record the case's next milestone (the workflow says which may follow); closing needs the outcome."""
    if stage == LegalAidStage.CLOSED and not outcome:
        raise ValidationError({"outcome": _("结案请选择结果")})
    if happened_on > timezone.localdate():
        raise ValidationError({"happened_on": _("日期不能晚于今天")})
    before = case.snapshot()
    if stage == LegalAidStage.CLOSED:
        case.outcome, case.outcome_note, case.closed_on = outcome, (note or "").strip(), happened_on
    move_audited(case, to=stage, acting_user=acting_user, before=before)
    milestone = LegalAidMilestone(
        case=case, stage=stage, happened_on=happened_on, note=(note or "").strip(), recorded_by=acting_user
    )
    milestone.full_clean()
    milestone.save()
    return milestone


@transaction.atomic
def categories_sync() -> list[ServiceCategory]:
    """Write the default request categories that are missing (a node's set-up, like ``roles_sync``);
    categories a node has changed are left as they are."""
    made = []
    for order, (code, name, legal_aid) in enumerate(DEFAULT_CATEGORIES, start=1):
        category, created = ServiceCategory.objects.get_or_create(
            code=code, defaults={"name": name, "legal_aid": legal_aid, "order": order}
        )
        if created:
            made.append(category)
    return made


# Universal benefits on the card (普惠服务) --------------------------------------------------------


@transaction.atomic
def provider_save(
    *,
    provider: BenefitProvider | None = None,
    organization: Organization,
    name: str,
    kind: str,
    district: Region | None = None,
    address: str = "",
    phone: str = "",
    active: bool = True,
    service_points: Iterable[ServicePoint] = (),
    acting_user: User | None,
) -> BenefitProvider:
    """Register a partner provider of a union, or change one (``provider``), with the card desks
    (service points) where its staff redeem benefits. Audited."""
    if not organization.is_union:
        raise ValidationError({"organization": _("普惠服务合作单位只能由工会签约")})
    before = provider.snapshot() if provider is not None else None
    provider = provider or BenefitProvider()
    provider.organization, provider.name, provider.kind = organization, _text(name), kind
    provider.district, provider.address, provider.phone = district, _text(address), phone.strip()
    provider.active = active
    provider.full_clean()
    provider.save()
    provider.service_points.set(list(service_points))
    audit.record(
        AuditAction.UPDATE if before else AuditAction.CREATE,
        target=provider,
        acting_user=acting_user,
        before=before,
        after=provider.snapshot(),
        detail={"service_points": [point.name for point in provider.service_points.all()]},
    )
    return provider


@transaction.atomic
def benefit_save(
    *,
    benefit: Benefit | None = None,
    provider: BenefitProvider,
    name: str,
    kind: str,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    limit_count: int | None = None,
    limit_period: str = BenefitPeriod.YEAR,
    description: str = "",
    active: bool = True,
    unions: Iterable[Organization] = (),
    regions: Iterable[Region] = (),
    acting_user: User | None,
) -> Benefit:
    """Offer a benefit item at a provider, or change one (``benefit``): eligibility (unions,
    regions), the limit per member per period and the validity dates. Audited."""
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError({"valid_until": _("截止日期不能早于生效日期")})
    if limit_count is not None and limit_count < 1:
        raise ValidationError({"limit_count": _("次数上限至少为1次，不限次数请留空")})
    before = benefit.snapshot() if benefit is not None else None
    benefit = benefit or Benefit()
    benefit.provider, benefit.name, benefit.kind = provider, _text(name), kind
    benefit.valid_from, benefit.valid_until = valid_from, valid_until
    benefit.limit_count, benefit.limit_period = limit_count, limit_period
    benefit.description, benefit.active = (description or "").strip(), active
    benefit.full_clean()
    benefit.save()
    benefit.unions.set(list(unions))
    benefit.regions.set(list(regions))
    audit.record(
        AuditAction.UPDATE if before else AuditAction.CREATE,
        target=benefit,
        acting_user=acting_user,
        before=before,
        after=benefit.snapshot(),
    )
    return benefit


def _period_label(benefit: Benefit) -> str:
    return {
        BenefitPeriod.DAY: _("今天"),
        BenefitPeriod.WEEK: _("本周"),
        BenefitPeriod.MONTH: _("本月"),
        BenefitPeriod.YEAR: _("本年度"),
        BenefitPeriod.TOTAL: _("累计"),
    }[BenefitPeriod(benefit.limit_period)]


@transaction.atomic
def benefit_redeem(
    *,
    benefit: Benefit,
    service_point: ServicePoint,
    token: str = "",
    card_number: str = "",
    id_last4: str = "",
    acting_user: User,
) -> Redemption:
    """Redeem a benefit item at a provider's desk: the card is verified by membership (a scanned
    token, or a typed number with the ID's last four characters) and the card use recorded; then the
    member's eligibility and the item's limit are checked, and the use is recorded against the item.
    A refusal (``CardRefused`` with the reason) rolls the card use back: nothing is recorded.

    The member's row is locked while the uses are counted, so two desks cannot both take the last
    use of a period."""
    from xietong.membership.actions import CardRefused, card_verify, card_verify_by_number
    from xietong.membership.desk import Redemption
    from xietong.membership.models import CardUse, Member

    today = timezone.localdate()
    if not selectors.benefit_offered_at(benefit, service_point):
        raise CardRefused(_("本服务点不提供所选的普惠服务项目"))
    if not benefit.active or today < benefit.valid_from:
        raise CardRefused(_("该普惠服务项目尚未开始或已停用"))
    if benefit.valid_until is not None and today > benefit.valid_until:
        raise CardRefused(
            _("该普惠服务项目已于%(date)s截止") % {"date": benefit.valid_until.strftime("%Y-%m-%d")}
        )
    if token:
        verification = card_verify(
            token=token, service_point=service_point, benefit=benefit.kind, acting_user=acting_user
        )
    else:
        verification = card_verify_by_number(
            card_number=card_number,
            id_last4=id_last4,
            service_point=service_point,
            benefit=benefit.kind,
            acting_user=acting_user,
        )
    # Lock the member's row only (not the union's: other members' redemptions go on).
    member = (
        Member.objects.select_for_update(of=("self",))
        .select_related("organization__region")
        .get(cards__pk=verification.card.id)
    )
    reason = selectors.benefit_ineligible(benefit, member)
    if reason:
        raise CardRefused(reason)
    used = selectors.benefit_uses_in_period(benefit, member, today).count()
    period = _period_label(benefit)
    if benefit.limit_count is not None and used >= benefit.limit_count:
        raise CardRefused(
            _("%(period)s已使用%(used)s次，已达上限%(limit)s次，不能再使用")
            % {"period": period, "used": used, "limit": benefit.limit_count}
        )
    use = BenefitUse.objects.create(
        benefit=benefit,
        member=member,
        card_use=CardUse.objects.get(pk=verification.use_id),
        service_point=service_point,
    )
    audit.record(
        AuditAction.CREATE,
        target=use,
        acting_user=acting_user,
        detail={"benefit": benefit.name, "service_point": service_point.name},
    )
    note = ""
    if benefit.limit_count is not None:
        note = _("%(period)s已使用%(used)s次，还可使用%(left)s次") % {
            "period": period,
            "used": used + 1,
            "left": benefit.limit_count - used - 1,
        }
    return Redemption(verification=verification, label=benefit.name, note=note)


class DeskBenefitItems:
    """The services app's benefit items at membership's card desk (``membership.desk``): the items
    of the providers a desk's service points belong to, redeemed by ``benefit_redeem``."""

    prefix = "benefit-"

    def choices(self, points: Any) -> list[tuple[str, str]]:
        return [(f"{self.prefix}{item.pk}", item.name) for item in selectors.desk_benefits(points)]

    def redeem(
        self,
        *,
        choice: str,
        service_point: ServicePoint,
        token: str,
        card_number: str,
        id_last4: str,
        acting_user: User,
    ) -> Redemption:
        from xietong.membership.actions import CardRefused

        benefit = selectors.benefit_by_choice(choice.removeprefix(self.prefix))
        if benefit is None:
            raise CardRefused(_("本服务点不提供所选的普惠服务项目"))
        return benefit_redeem(
            benefit=benefit,
            service_point=service_point,
            token=token,
            card_number=card_number,
            id_last4=id_last4,
            acting_user=acting_user,
        )

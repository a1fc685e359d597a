"""Every write of the membership app (ARCHITECTURE.md §3.1): keyword-only, transactional, audited."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from xietong.core import actions as core_actions
from xietong.core import audit, bulk, pii
from xietong.core.choices import AuditAction
from xietong.core.models import Employer, Organization, Person, Region
from xietong.core.workflows import move_audited
from xietong.lib import idnumber, names, phone

from . import cardtokens, imports, selectors
from .choices import ApplicationStatus, CardStatus, ImportStatus, MemberSource, MemberStatus, TransferStatus
from .models import (
    CardUse,
    JoinApplication,
    Member,
    MemberCard,
    MemberImport,
    MembershipTransfer,
    OutreachEvent,
    ServicePoint,
)
from .numbers import card_number, card_numbers, member_number, member_numbers

logger = logging.getLogger(__name__)


# Joining ------------------------------------------------------------------------------------------


def _employer_named(name: str) -> Employer | None:
    return Employer.objects.filter(name=names.to_simplified(name.strip())).first()


@transaction.atomic
def join_application_submit(
    *,
    organization: Organization,
    name: str,
    id_number: str,
    phone_number: str,
    employer_name: str,
    consent: bool,
    event: OutreachEvent | None = None,
) -> JoinApplication:
    """A worker's application from the QR-code page. Validates every field with a Chinese reason;
    a second application for the same union while one is pending is refused."""
    errors: dict[str, str] = {}
    if not consent:
        errors["consent"] = "请阅读并同意个人信息处理规则后再提交"
    normalized = names.normalize_name(name)
    if not normalized.simplified:
        errors["name"] = "请填写姓名"
    parsed = None
    try:
        parsed = core_actions.parse_id_number(id_number)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    number = ""
    try:
        number = phone.parse(phone_number)
    except phone.InvalidPhone as exc:
        errors["phone_number"] = str(exc)
    if not employer_name.strip():
        errors["employer_name"] = "请填写工作单位"
    if errors or parsed is None:
        raise ValidationError(errors)
    index = pii.blind_index(parsed.number, purpose="id_number")
    pending = JoinApplication.objects.filter(
        organization=organization, id_number_index=index, status=ApplicationStatus.SUBMITTED
    )
    if pending.exists():
        raise ValidationError({"id_number": "您已提交过入会申请，正在审核中，请勿重复提交"})
    current = Member.objects.filter(
        person__id_number_index=index, organization=organization, status__in=MemberStatus.current()
    )
    if current.exists():
        raise ValidationError({"id_number": "您已是本工会会员，无需再次申请"})
    application = JoinApplication(
        organization=organization,
        event=event,
        name=normalized.simplified,
        id_number_cipher=pii.encrypt(parsed.number, field="id_number"),
        id_number_index=index,
        id_number_masked=parsed.masked(),
        phone_cipher=pii.encrypt(number, field="phone"),
        phone_masked=pii.mask_phone(number),
        employer_name=names.to_simplified(employer_name.strip()),
        employer=_employer_named(employer_name),
        consented_at=timezone.now(),
        access_token=secrets.token_urlsafe(32),
    )
    application.full_clean()
    application.save()
    audit.record(AuditAction.SUBMIT, target=application, after=application.snapshot())
    return application


@transaction.atomic
def join_application_approve(*, application: JoinApplication, acting_user: Any) -> Member:
    """Approve: link or register the person (blind index), make the member, issue the e-card.

    A person who already holds a current membership on this node is refused with the union's name:
    the officer starts a membership transfer instead of creating a second membership.
    """
    person = Person.objects.filter(id_number_index=application.id_number_index).first()
    if person is not None:
        current = Member.objects.filter(person=person, status__in=MemberStatus.current()).first()
        if current is not None:
            raise ValidationError(
                f"{application.name}已是{current.organization.name}的会员（会员编号{current.number}），"
                "不能重复入会；请办理会员关系转接"
            )
    else:
        person = core_actions.person_create(
            name=application.name,
            id_number=pii.decrypt(application.id_number_cipher, field="id_number"),
            phone=pii.decrypt(application.phone_cipher, field="phone"),
            organization=application.organization,
            acting_user=acting_user,
        )
    member = member_create(
        person=person,
        organization=application.organization,
        employer=application.employer,
        joined_on=timezone.localdate(),
        source=MemberSource.JOIN,
        acting_user=acting_user,
    )
    card_issue(member=member, acting_user=acting_user)
    before = application.snapshot()
    application.member = member
    application.reviewed_by = acting_user
    application.reviewed_at = timezone.now()
    move_audited(
        application,
        to=ApplicationStatus.APPROVED,
        acting_user=acting_user,
        action=AuditAction.APPROVE,
        before=before,
    )
    return member


@transaction.atomic
def join_application_reject(
    *, application: JoinApplication, reason: str, acting_user: Any
) -> JoinApplication:
    """Reject with a reason the worker reads on the status page."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写不通过的原因，申请人会看到它"})
    before = application.snapshot()
    application.reason = reason[:200]
    application.reviewed_by = acting_user
    application.reviewed_at = timezone.now()
    move_audited(
        application,
        to=ApplicationStatus.REJECTED,
        acting_user=acting_user,
        action=AuditAction.REJECT,
        before=before,
    )
    return application


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk approval did: the members made and, per refused application, the reason."""

    approved: list[Member]
    refused: list[tuple[JoinApplication, str]]


def join_applications_approve_bulk(*, applications: list[JoinApplication], acting_user: Any) -> BulkOutcome:
    """Approve each application in its own transaction; one refusal does not undo the others."""
    approved: list[Member] = []
    refused: list[tuple[JoinApplication, str]] = []
    for application in applications:
        try:
            approved.append(join_application_approve(application=application, acting_user=acting_user))
        except ValidationError as exc:
            refused.append((application, "；".join(exc.messages)))
    return BulkOutcome(approved, refused)


@transaction.atomic
def outreach_event_create(
    *,
    organization: Organization,
    title: str,
    held_on: date,
    acting_user: Any,
    employer: Employer | None = None,
) -> OutreachEvent:
    """A join drive at a workplace, with its own QR code."""
    event = OutreachEvent(
        organization=organization,
        employer=employer,
        title=title.strip(),
        held_on=held_on,
        code=secrets.token_urlsafe(9),
    )
    return core_actions.save_with_audit(event, acting_user=acting_user)


# Members ------------------------------------------------------------------------------------------


@transaction.atomic
def member_create(
    *,
    person: Person,
    organization: Organization,
    joined_on: date,
    source: str,
    acting_user: Any,
    employer: Employer | None = None,
) -> Member:
    """Enrol a person in a union; refused if the person already holds a current membership."""
    current = Member.objects.filter(person=person, status__in=MemberStatus.current()).first()
    if current is not None:
        raise ValidationError(f"{person.name}已是{current.organization.name}的会员，不能重复入会")
    member = Member(
        person=person,
        organization=organization,
        employer=employer,
        joined_on=joined_on,
        source=source,
        number=member_number(),
    )
    try:
        with transaction.atomic():
            return core_actions.save_with_audit(member, acting_user=acting_user)
    except IntegrityError as exc:  # a concurrent enrolment of the same person
        raise ValidationError(f"{person.name}已是会员，不能重复入会") from exc


@transaction.atomic
def member_set_status(
    *, member: Member, status: str, acting_user: Any, left_on: date | None = None
) -> Member:
    """Suspend, reinstate, record leaving or death; cards stop verifying unless the member is active."""
    if status in (MemberStatus.LEFT, MemberStatus.DECEASED):
        member.left_on = left_on or timezone.localdate()
    move_audited(member, to=status, acting_user=acting_user)
    return member


# Cards --------------------------------------------------------------------------------------------


@transaction.atomic
def card_issue(*, member: Member, acting_user: Any, replaces: MemberCard | None = None) -> MemberCard:
    """Issue a member's card (the e-card at once; a physical card is printed from the same number)."""
    card = MemberCard(member=member, number=card_number(), issued_on=timezone.localdate(), replaces=replaces)
    return core_actions.save_with_audit(card, acting_user=acting_user)


@transaction.atomic
def cards_issue_bulk(*, members: list[Member], acting_user: Any) -> int:
    """Issue cards to many members at once (a print batch, a scaled demo); members that already hold
    an active card are skipped. One audit event for the batch. Returns the number issued."""
    holding = set(
        MemberCard.objects.filter(member__in=members, status=CardStatus.ACTIVE).values_list(
            "member_id", flat=True
        )
    )
    todo = [m for m in members if m.pk not in holding and m.status == MemberStatus.ACTIVE]
    now, today = timezone.now(), timezone.localdate()
    size = len(todo)
    issued = bulk.insert(MemberCard, [{
        "id": bulk.allocate_ids(MemberCard, size), "member_id": [member.pk for member in todo],
        "number": card_numbers(size), "status": CardStatus.ACTIVE.value, "issued_on": today,
        "replaces_id": None, "created_at": now, "updated_at": now,
    }] if size else [])  # fmt: skip
    audit.record(AuditAction.CREATE, target_type="membership.membercard", acting_user=acting_user,
                 detail={"issued": issued})  # fmt: skip
    return issued


PRINT_BATCH_LIMIT = 1000


def card_print_batch(*, cards: list[MemberCard], acting_user: Any, title: str) -> bytes:
    """The PDF print sheet of physical cards, each QR code a signed credential; audited as an export."""
    from . import printing

    key, node = pii.node_signing_key(), settings.XIETONG_NODE_ID
    printed = [
        printing.PrintedCard(
            union=card.member.organization.name,
            name=card.member.person.name,
            number=card.number,
            credential=cardtokens.issue_physical(card_number=card.number, node=node, private_key=key),
        )
        for card in cards[:PRINT_BATCH_LIMIT]
    ]
    audit.record(AuditAction.EXPORT, target_type="membership.membercard", acting_user=acting_user,
                 detail={"printed": len(printed), "title": title})  # fmt: skip
    return printing.card_sheet(printed, title=title)


@transaction.atomic
def card_report_lost(*, card: MemberCard, acting_user: Any) -> MemberCard:
    """Mark the card lost; its tokens stop verifying at once."""
    move_audited(card, to=CardStatus.LOST, acting_user=acting_user)
    return card


@transaction.atomic
def card_suspend(*, card: MemberCard, acting_user: Any) -> MemberCard:
    """Suspend the card (e.g. while a membership question is settled)."""
    move_audited(card, to=CardStatus.SUSPENDED, acting_user=acting_user)
    return card


@transaction.atomic
def card_resume(*, card: MemberCard, acting_user: Any) -> MemberCard:
    """Put a suspended card back into use."""
    move_audited(card, to=CardStatus.ACTIVE, acting_user=acting_user)
    return card


@transaction.atomic
def card_replace(*, card: MemberCard, acting_user: Any) -> MemberCard:
    """Replace a card (lost, damaged): the old one is retired at once, a new number is issued."""
    move_audited(card, to=CardStatus.REPLACED, acting_user=acting_user)
    return card_issue(member=card.member, acting_user=acting_user, replaces=card)


@dataclass(frozen=True)
class Verification:
    """An accepted card at a service point: what the desk may see, and the recorded use."""

    card: selectors.DeskCard
    use_id: int
    benefit: str


class CardRefused(ValidationError):
    """A card or token that a service point must refuse; ``messages[0]`` is the reason."""


REFUSAL_BY_CARD_STATUS: dict[str, str] = {
    CardStatus.LOST: "此卡已挂失，不能使用",
    CardStatus.SUSPENDED: "此卡已暂停使用",
    CardStatus.REPLACED: "此卡已补换，请使用新卡",
}


def card_verify(*, token: str, service_point: ServicePoint, benefit: str, acting_user: Any) -> Verification:
    """Check a scanned token (signature, expiry, card and membership status, never used before) and
    record the use. Raises ``CardRefused`` with the reason otherwise; nothing is recorded then."""
    if benefit not in service_point.benefits:
        raise CardRefused("本服务点不提供所选的普惠服务")
    try:
        checked = cardtokens.check(token, public_key=pii.node_public_key())
    except cardtokens.InvalidToken as exc:
        raise CardRefused(str(exc)) from exc
    if checked.node != settings.XIETONG_NODE_ID:
        raise CardRefused("此卡不是本节点签发的")
    card, use_id = _record_use(
        number=checked.card_number,
        point_id=service_point.pk,
        benefit=benefit,
        token_id=checked.token_id,
        user_id=getattr(acting_user, "pk", None),
    )
    if card is None:
        raise CardRefused("卡号不存在")
    if card.status != CardStatus.ACTIVE:
        raise CardRefused(REFUSAL_BY_CARD_STATUS.get(card.status, "此卡不能使用"))
    if card.member_status != MemberStatus.ACTIVE:
        raise CardRefused(f"会员会籍状态为“{MemberStatus(card.member_status).label}”，不能享受会员服务")
    if use_id is None:
        raise CardRefused("此二维码已使用过（重复扫码），请会员刷新电子卡")
    return Verification(card, use_id, benefit)


_USE_COLUMNS = "(created_at, updated_at, card_id, service_point_id, benefit, token_id, verified_by_id)"


_PG_RECORD_USE = (
    f"WITH c AS ({selectors.desk_card_sql()}), u AS (INSERT INTO {CardUse._meta.db_table} {_USE_COLUMNS} "  # noqa: S608
    "SELECT %s::timestamptz, %s::timestamptz, c.id, %s::bigint, %s, %s, %s::bigint FROM c "
    "WHERE c.status = %s AND c.member_status = %s "
    "ON CONFLICT (token_id) DO NOTHING RETURNING id) SELECT c.*, (SELECT id FROM u) FROM c"
)


def _record_use(
    *, number: str, point_id: int, benefit: str, token_id: str, user_id: int | None
) -> tuple[selectors.DeskCard | None, int | None]:
    """Look the card up and, when card and membership are active, record its use unless the token
    was used before (a replay). Returns the card (``None``: no such number) and the new use's id
    (``None``: nothing recorded).

    ``INSERT … ON CONFLICT (token_id) DO NOTHING RETURNING`` needs no transaction or savepoint; on
    PostgreSQL the lookup and the insert are one statement (one round trip per scan at a busy desk).
    """
    from django.db import connection

    table = CardUse._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    use = [now, now, point_id, benefit, token_id, user_id]
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        # A server-side bound, prepared statement: PostgreSQL plans it once per connection.
        with psycopg.Cursor(connection.connection) as raw:
            raw.execute(_PG_RECORD_USE, [number, *use, CardStatus.ACTIVE, MemberStatus.ACTIVE], prepare=True)
            row = raw.fetchone()
        return (selectors.DeskCard(*row[:-1]), row[-1]) if row else (None, None)
    with connection.cursor() as cursor:
        card = selectors.desk_card(number)
        if card is None or card.status != CardStatus.ACTIVE or card.member_status != MemberStatus.ACTIVE:
            return card, None
        cursor.execute(
            f"INSERT INTO {table} {_USE_COLUMNS} VALUES (%s, %s, %s, %s, %s, %s, %s) "  # noqa: S608
            "ON CONFLICT (token_id) DO NOTHING RETURNING id",
            [now, now, card.id, point_id, benefit, token_id, user_id],
        )
        inserted = cursor.fetchone()
    return card, int(inserted[0]) if inserted else None


# Bulk import --------------------------------------------------------------------------------------

IMPORT_CHUNK = 20_000  # rows encrypted and sent to the database at a time


@transaction.atomic
def member_import_start(
    *,
    organization: Organization,
    uploaded: Any,
    acting_user: Any,
    skip_invalid: bool = False,
    dry_run: bool = False,
) -> MemberImport:
    """Keep the uploaded file and queue its import (a background task reports progress on the job)."""
    from .tasks import run_member_import

    job = MemberImport(
        organization=organization,
        original_name=str(uploaded.name)[:200],
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    job.file.save(f"{secrets.token_hex(8)}{Path(uploaded.name).suffix.lower()}", uploaded, save=False)
    job.save()
    audit.record(AuditAction.CREATE, target=job, acting_user=acting_user, after=job.snapshot())
    run_member_import.enqueue(job.pk)
    return job


def _fail(job: MemberImport, message: str) -> MemberImport:
    return core_actions.job_finish(job, status=ImportStatus.FAILED, message=message)


def member_import_run(
    *, job: MemberImport, progress: Callable[[int, int], None] | None = None, today: date | None = None
) -> MemberImport:
    """Check every row, then (unless a dry run, or bad rows without ``skip_invalid``) write them.

    Checking reports progress on the job; writing is one transaction, so a failed batch commits
    nothing. Importing the same file again updates the same people and members: nothing is
    duplicated. Bad rows go to an .xlsx report with their line number and reasons.
    """
    today = today or timezone.localdate()
    laps = _Laps()
    job.status = ImportStatus.CHECKING
    job.save(update_fields=["status", "updated_at"])
    try:
        with job.file.open("rb") as handle:
            roll = imports.read_file(handle, job.original_name)
        laps.lap("read")
    except imports.ImportFileError as exc:
        return _fail(job, str(exc))
    job.total_rows = len(roll)
    job.save(update_fields=["total_rows", "updated_at"])
    employers = dict(Employer.objects.values_list("name", "pk"))
    checked = imports.check_roll(roll, today=today, employers=employers)
    laps.lap("check")
    job.checked_rows = len(roll)
    job.save(update_fields=["checked_rows", "updated_at"])
    if progress:
        progress(len(roll), len(roll))
    id_index = pii.blind_indexes(checked.id_number, purpose="id_number")
    laps.lap("blind indexes")
    people = selectors.people_by_id_index(
        [index for index, number in zip(id_index, checked.id_number, strict=True) if number]
    )
    current = selectors.current_memberships([person.pk for person in people.values()])
    laps.lap("look-up")
    for position in checked.good():
        person = people.get(id_index[position])
        member = current.get(person.pk) if person else None
        if member is not None and member.organization_id != job.organization_id:
            checked.fail(
                position,
                f"已是{member.organization_name}的会员（会员编号{member.number}），请办理会员关系转接",
            )
    job.invalid_rows = len(checked.errors)
    if checked.errors:
        _write_report(job, checked)
    if checked.errors and not job.skip_invalid:
        return _fail(
            job,
            f"有{job.invalid_rows}行有误，未导入任何数据；请下载错误报告，改正后重新导入（或选择跳过有误的行）",
        )
    good = checked.good()
    if job.dry_run:
        job.status, job.finished_at = ImportStatus.DONE, timezone.now()
        job.message = f"校验完成：{len(good)}行可以导入，{job.invalid_rows}行有误（只校验，未导入）"
        job.save()
        return job
    job.status = ImportStatus.WRITING
    job.save(update_fields=["status", "updated_at"])
    rows = _ImportRows(checked, id_index, good, people, current, employers, today)
    try:
        with transaction.atomic():
            created, updated = _write_members(job, rows, laps)
            job.created_count, job.updated_count = created, updated
            job.status, job.finished_at = ImportStatus.DONE, timezone.now()
            skipped = f"，跳过有误的{job.invalid_rows}行" if job.invalid_rows else ""
            unchanged = len(good) - created - updated
            job.message = f"导入完成：新增{created}名会员，更新{updated}名，{unchanged}名无变化{skipped}"
            job.save()
            audit.record(
                AuditAction.IMPORT,
                target=job,
                acting_user=job.created_by,
                detail={"created": created, "updated": updated, "invalid": job.invalid_rows},
            )
        laps.lap("commit")
        logger.info("member import %s: %s rows; seconds: %s", job.pk, len(roll), laps)
    except IntegrityError:
        return _fail(
            job, "写入时与同时进行的其他操作冲突（例如另一份名册导入了同一人），未导入任何数据；请重新导入"
        )
    return job


@dataclass
class _ImportRows:
    """What writing an import needs: the checked file, each row's ID blind index, the rows to write,
    the people and current memberships already on the node, the employers, and today."""

    checked: imports.CheckedRoll
    id_index: list[str]
    good: list[int]
    people: dict[str, selectors.KnownPerson]
    current: dict[int, selectors.KnownMembership]
    employers: dict[str, int]
    today: date

    def chunks(self, positions: list[int]) -> Iterator[list[int]]:
        for start in range(0, len(positions), IMPORT_CHUNK):
            yield positions[start : start + IMPORT_CHUNK]

    def employer_id(self, position: int) -> int | None:
        name = self.checked.employer_name[position]
        return self.employers.get(name) if name else None


class _Laps:
    """Seconds spent in each phase of an import, for the log (where a slow import spends its time)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._since = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(now - self._since, 2)
        self._since = now

    def __str__(self) -> str:
        return ", ".join(f"{phase} {seconds}" for phase, seconds in self.seconds.items())


def _write_members(job: MemberImport, rows: _ImportRows, laps: _Laps) -> tuple[int, int]:
    """Create or update people and members; returns (created, updated) member counts.

    New people and members go in with ``core.bulk.insert`` (COPY on PostgreSQL), encrypted a chunk
    at a time while the database stores the previous chunk; changed rows are updated through the
    ORM. Unchanged rows are left alone, so importing a file again is cheap.
    """
    checked, now = rows.checked, timezone.now()
    person_ids = {index: person.pk for index, person in rows.people.items()}
    fresh = [p for p in rows.good if rows.id_index[p] not in person_ids]
    fresh_ids = bulk.allocate_ids(Person, len(fresh))
    person_ids.update((rows.id_index[p], pk) for p, pk in zip(fresh, fresh_ids, strict=True))
    regions = set(Region.objects.values_list("code", flat=True))
    bulk.insert(Person, _person_batches(rows, fresh, person_ids, regions, job.organization_id, now))
    laps.lap("people")
    known = [p for p in rows.good if rows.id_index[p] in rows.people]
    phones = [checked.phone[p] for p in known]
    phone_index = dict(zip(phones, pii.blind_indexes(phones, purpose="phone"), strict=True))
    changed_people = []
    for position in known:
        person, number = rows.people[rows.id_index[position]], checked.phone[position]
        new_phone = bool(number) and phone_index[number] != person.phone_index
        if person.name != checked.name[position] or new_phone:
            changed = Person(pk=person.pk, name=checked.name[position], updated_at=now)
            changed.phone_cipher, changed.phone_index, changed.phone_masked = (
                (pii.encrypt(number, field="phone"), phone_index[number], pii.mask_phone(number))
                if new_phone
                else (person.phone_cipher, person.phone_index, person.phone_masked)
            )
            changed_people.append(changed)
    Person.objects.bulk_update(
        changed_people, ["name", "phone_cipher", "phone_index", "phone_masked", "updated_at"], batch_size=2000
    )
    joining = [p for p in rows.good if person_ids[rows.id_index[p]] not in rows.current]
    numbers = member_numbers(len(joining))
    member_ids = bulk.allocate_ids(Member, len(joining))
    laps.lap("numbers")
    created = bulk.insert(
        Member, _member_batches(rows, joining, member_ids, numbers, person_ids, job.organization_id, now)
    )
    changed_members = []
    for position in rows.good:
        member = rows.current.get(person_ids[rows.id_index[position]])
        if member is None:
            continue
        employer_id, joined_on = rows.employer_id(position), checked.joined_on[position]
        moved = bool(employer_id) and member.employer_id != employer_id
        if moved or (joined_on and member.joined_on != joined_on):
            changed_members.append(
                Member(pk=member.pk, employer_id=employer_id or member.employer_id,
                       joined_on=joined_on or member.joined_on, updated_at=now)
            )  # fmt: skip
    Member.objects.bulk_update(changed_members, ["employer", "joined_on", "updated_at"], batch_size=2000)
    laps.lap("members")
    return created, len(changed_members)


def _person_batches(
    rows: _ImportRows,
    positions: list[int],
    person_ids: dict[str, int],
    regions: set[str],
    organization_id: int,
    now: dt.datetime,
) -> Iterator[bulk.Columns]:
    """New people's columns a chunk at a time: ID numbers and phones encrypted, indexed and masked."""
    checked = rows.checked
    for chunk in rows.chunks(positions):
        numbers = [checked.id_number[p] for p in chunk]
        phones = [checked.phone[p] for p in chunk]
        given = [number for number in phones if number]
        ciphers = iter(pii.encrypt_many(given, field="phone"))
        indexes = iter(pii.blind_indexes(given, purpose="phone"))
        yield {
            "id": [person_ids[rows.id_index[p]] for p in chunk],
            "name": [checked.name[p] for p in chunk],
            "name_original": "",
            "id_number_cipher": pii.encrypt_many(numbers, field="id_number"),
            "id_number_index": [rows.id_index[p] for p in chunk],
            "id_number_masked": [idnumber.mask(number) for number in numbers],
            "id_valid_until": None,
            "birth_date": [checked.birth_date[p] for p in chunk],
            "gender": [checked.gender[p] for p in chunk],
            "id_region_id": [number[:6] if number[:6] in regions else None for number in numbers],
            "phone_cipher": [next(ciphers) if number else "" for number in phones],
            "phone_index": [next(indexes) if number else "" for number in phones],
            "phone_masked": [pii.mask_phone(number) if number else "" for number in phones],
            "is_migrant_worker": False,
            "organization_id": organization_id,
            "tags": "[]",
            "created_at": now,
            "updated_at": now,
        }


def _member_batches(
    rows: _ImportRows,
    positions: list[int],
    member_ids: list[int],
    numbers: list[str],
    person_ids: dict[str, int],
    organization_id: int,
    now: dt.datetime,
) -> Iterator[bulk.Columns]:
    """New memberships' columns a chunk at a time."""
    checked, offset = rows.checked, 0
    for chunk in rows.chunks(positions):
        end = offset + len(chunk)
        yield {
            "id": member_ids[offset:end],
            "person_id": [person_ids[rows.id_index[p]] for p in chunk],
            "organization_id": organization_id,
            "employer_id": [rows.employer_id(p) for p in chunk],
            "number": numbers[offset:end],
            "status": MemberStatus.ACTIVE.value,
            "joined_on": [checked.joined_on[p] or rows.today for p in chunk],
            "left_on": None,
            "source": MemberSource.IMPORT.value,
            "created_at": now,
            "updated_at": now,
        }
        offset = end


def _write_report(job: MemberImport, checked: imports.CheckedRoll) -> None:
    """The bad rows as an .xlsx: line number, the row as written, and what is wrong with it."""
    from django.core.files.base import ContentFile

    from xietong.core.exports import workbook_bytes

    roll, bad = checked.roll, sorted(checked.errors)
    rows = (
        [roll.lines[position], *cells, "；".join(checked.errors[position])]
        for position, cells in zip(bad, roll.cells(bad), strict=True)
    )
    content = workbook_bytes(["行号", *roll.headers, "错误"], rows, title="错误报告")
    job.report.save(f"{Path(job.file.name or 'import').stem}-report.xlsx", ContentFile(content), save=False)


def members_export_rows(members: Any) -> Any:
    """The roll as rows in the import template's columns (so an export can be imported again)."""
    for member in members.iterator(chunk_size=2000):
        person = member.person
        yield [
            person.name,
            pii.decrypt(person.id_number_cipher, field="id_number"),
            person.get_gender_display(),
            person.birth_date.isoformat(),
            pii.decrypt(person.phone_cipher, field="phone") if person.phone_cipher else "",
            member.employer.name if member.employer else "",
            member.joined_on.isoformat(),
        ]


# Transfers ----------------------------------------------------------------------------------------


@transaction.atomic
def transfer_request(
    *, member: Member, to_organization: Organization, acting_user: Any
) -> MembershipTransfer:
    """Ask the receiving union to take the member; one pending transfer per member."""
    if not to_organization.is_union:
        raise ValidationError({"to_organization": f"“{to_organization.name}”不是工会，不能转入会员"})
    if to_organization.pk == member.organization_id:
        raise ValidationError({"to_organization": "转入工会与会员现在所在的工会相同"})
    if member.status not in MemberStatus.current():
        raise ValidationError(f"会籍状态为“{member.get_status_display()}”的会员不能转接")
    if MembershipTransfer.objects.filter(member=member, status=TransferStatus.REQUESTED).exists():
        raise ValidationError("该会员已有一份待办理的转接，请等待转入工会办理或先撤回")
    transfer = MembershipTransfer(
        member=member,
        from_organization=member.organization,
        to_organization=to_organization,
        requested_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    return core_actions.save_with_audit(transfer, acting_user=acting_user)


def _decide(transfer: MembershipTransfer, *, to: str, acting_user: Any, reason: str = "") -> None:
    transfer.reason = reason[:200]
    transfer.decided_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    transfer.decided_at = timezone.now()
    move_audited(transfer, to=to, acting_user=acting_user)


@transaction.atomic
def transfer_accept(*, transfer: MembershipTransfer, acting_user: Any) -> Member:
    """The receiving union takes the member: the membership moves, its number and cards stay."""
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    _decide(transfer, to=TransferStatus.ACCEPTED, acting_user=acting_user)
    before = member.snapshot()
    member.organization = transfer.to_organization
    member.save()
    audit.record(
        AuditAction.UPDATE,
        target=member,
        acting_user=acting_user,
        before=before,
        after=member.snapshot(),
        detail={"transfer": transfer.pk},
    )
    return member


@transaction.atomic
def transfer_refuse(*, transfer: MembershipTransfer, reason: str, acting_user: Any) -> MembershipTransfer:
    """The receiving union declines, saying why."""
    if not reason.strip():
        raise ValidationError({"reason": "请填写拒绝的原因"})
    _decide(transfer, to=TransferStatus.REFUSED, acting_user=acting_user, reason=reason.strip())
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: MembershipTransfer, acting_user: Any) -> MembershipTransfer:
    """The sending union withdraws a request not yet decided."""
    _decide(transfer, to=TransferStatus.CANCELLED, acting_user=acting_user)
    return transfer

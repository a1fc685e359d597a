"""Bulk import of a union's member roll (checked, encrypted and written in chunks)."""

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

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xietong.core import audit, bulk, pii
from xietong.core.choices import AuditAction, JobStatus
from xietong.core.jobs import job_enqueue, job_progress, job_transition
from xietong.core.models import Employer, Organization, Person, Region, User
from xietong.lib import idnumber

from .. import imports, selectors
from ..choices import MemberSource, MemberStatus
from ..models import (
    Member,
    MemberImport,
)
from ..numbers import member_numbers
from .cards import cards_issue_bulk
from .figures import figures_recount

logger = logging.getLogger(__name__)


# Bulk import --------------------------------------------------------------------------------------

IMPORT_CHUNK = 20_000  # rows encrypted and sent to the database at a time


@transaction.atomic
def member_import_start(
    *,
    organization: Organization,
    uploaded: Any,
    acting_user: User,
    skip_invalid: bool = False,
    dry_run: bool = False,
    issue_cards: bool = False,
) -> MemberImport:
    """Keep the uploaded file and queue its import once this transaction commits (the worker runs
    ``member_import_run`` and reports progress on the job)."""
    job = MemberImport(
        organization=organization,
        original_name=str(uploaded.name)[:200],
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        issue_cards=issue_cards,
        created_by=acting_user,
    )
    job.file.save(f"{secrets.token_hex(8)}{Path(uploaded.name).suffix.lower()}", uploaded, save=False)
    job.save()
    audit.record(AuditAction.CREATE, target=job, acting_user=acting_user, after=job.snapshot())
    job_enqueue(job=job)
    return job


def _fail(job: MemberImport, message: str) -> MemberImport:
    return job_transition(job=job, to=JobStatus.FAILED, message=message)


def member_import_run(
    *, job: MemberImport, progress: Callable[[int, int], None] | None = None, today: date | None = None
) -> MemberImport:
    """Check every row, then (unless a dry run, or bad rows without ``skip_invalid``) write them.

    The runner of ``MemberImport`` (``xietong.core.jobs``): the worker calls it with the job
    ``running``; the command line and the demo call it with the job still queued. Checking reports
    its progress and phase on the job; writing is one transaction, so a failed batch commits
    nothing. Importing the same file again updates the same people and members: nothing is
    duplicated. Bad rows go to an .xlsx report with their line number and reasons.
    """
    today = today or timezone.localdate()
    laps = _Laps()
    if job.status == JobStatus.QUEUED:  # run directly, not by the worker
        job_transition(job=job, to=JobStatus.RUNNING)
    job_progress(job=job, phase=_("正在读取和校验文件"))
    try:
        with job.file.open("rb") as handle:
            roll = imports.read_file(handle, job.original_name)
        laps.lap("read")
    except imports.ImportFileError as exc:
        return _fail(job, str(exc))
    job_progress(job=job, total=len(roll))
    employers = dict(Employer.objects.values_list("name", "pk"))
    checked = imports.check_roll(roll, today=today, employers=employers)
    laps.lap("check")
    job_progress(job=job, done=len(roll), phase=_("正在核对已有的人员和会员"))
    if progress:
        progress(len(roll), len(roll))
    id_index = pii.blind_indexes(checked.id_number, purpose="id_number")
    laps.lap("blind indexes")
    given = [(index, number) for index, number in zip(id_index, checked.id_number, strict=True) if number]
    aliases = pii.old_lookup_indexes([n for _i, n in given], [i for i, _n in given], purpose="id_number")
    people = selectors.people_by_id_index([index for index, _n in given], aliases=aliases)
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
        message = f"校验完成：{len(good)}行可以导入，{job.invalid_rows}行有误（只校验，未导入）"
        job_transition(job=job, to=JobStatus.DONE, message=message)
        return job
    job_progress(job=job, phase=_("校验完成，正在写入数据库…"))
    rows = _ImportRows(checked, id_index, good, people, current, employers, today)
    try:
        with transaction.atomic():
            created, updated, new_ids = _write_members(job, rows, laps)
            figures_recount(organization_ids=[job.organization_id])  # the figures page's aggregates
            job.created_count, job.updated_count = created, updated
            if job.issue_cards and new_ids:
                job.cards_issued = cards_issue_bulk(
                    members=list(Member.objects.filter(pk__in=new_ids)), acting_user=job.created_by
                )
            skipped = f"，跳过有误的{job.invalid_rows}行" if job.invalid_rows else ""
            unchanged = len(good) - created - updated
            message = f"导入完成：新增{created}名会员，更新{updated}名，{unchanged}名无变化{skipped}"
            if job.issue_cards:
                message += _("，发放互助服务卡%(count)d张") % {"count": job.cards_issued}
            job_transition(job=job, to=JobStatus.DONE, message=message)
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


def _write_members(job: MemberImport, rows: _ImportRows, laps: _Laps) -> tuple[int, int, list[int]]:
    """Create or update people and members; returns (created, updated) member counts and the new
    members' ids.

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
    return created, len(changed_members), member_ids


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
            "employer_name": [checked.employer_name[p] or "" for p in chunk],
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

"""Every write of the core app (ARCHITECTURE.md §3.1): keyword-only, transactional, validated, audited."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xietong.lib import crypto, idnumber, names, phone

from . import audit, jobs, pii
from .choices import AuditAction, JobStatus
from .jobs import job_progress, job_transition
from .models import (
    Employer,
    ExportJob,
    Notification,
    Organization,
    Person,
    PiiKeyRotation,
    Region,
    Role,
    RoleAssignment,
    User,
    WorkCalendarYear,
)
from .permissions import forget
from .validators import refuse_control_characters

M = TypeVar("M", bound=models.Model)


def save_with_audit(instance: M, *, acting_user: User | None, before: dict[str, Any] | None = None) -> M:
    """Validate (``full_clean``), save and audit one instance; the building block of simple actions.

    ``before`` is the instance's ``snapshot()`` taken before the caller changed it; ``None`` means
    the instance is new.
    """
    with transaction.atomic():
        instance.full_clean()
        instance.save()
        audit.record(
            AuditAction.CREATE if before is None else AuditAction.UPDATE,
            target=instance,
            acting_user=acting_user,
            before=before,
            after=instance.snapshot(),  # type: ignore[attr-defined]
        )
    return instance


# Organisations and employers ----------------------------------------------------------------------


@transaction.atomic
def organization_save(*, organization: Organization, acting_user: User | None) -> Organization:
    """Create or update an organisation (the tree paths follow the parent)."""
    before = Organization.objects.get(pk=organization.pk).snapshot() if organization.pk else None
    return save_with_audit(organization, acting_user=acting_user, before=before)


@transaction.atomic
def employer_save(*, employer: Employer, acting_user: User | None) -> Employer:
    """Create or update an employer; the credit code is normalised and checked."""
    if employer.credit_code:
        from xietong.lib import creditcode

        employer.credit_code = creditcode.normalize(employer.credit_code)
    else:
        employer.credit_code = None
    employer.name = names.to_simplified(employer.name.strip())
    before = Employer.objects.get(pk=employer.pk).snapshot() if employer.pk else None
    return save_with_audit(employer, acting_user=acting_user, before=before)


# People -------------------------------------------------------------------------------------------


def _id_index(number: str) -> str:
    return pii.blind_index(number, purpose="id_number")


def _phone_index(number: str) -> str:
    return pii.blind_index(number, purpose="phone")


def parse_id_number(value: str, *, field: str = "id_number") -> idnumber.IdNumber:
    """Parse an ID number or raise ``ValidationError`` on ``field`` with the library's Chinese reason."""
    try:
        return idnumber.parse(value)
    except idnumber.InvalidIdNumber as exc:
        raise ValidationError({field: str(exc)}) from exc


def _set_phone(person: Person, value: str) -> None:
    if not value:
        person.phone_cipher = person.phone_index = person.phone_masked = ""
        return
    try:
        number = phone.parse(value)
    except phone.InvalidPhone as exc:
        raise ValidationError({"phone": str(exc)}) from exc
    person.phone_cipher = pii.encrypt(number, field="phone")
    person.phone_index = _phone_index(number)
    person.phone_masked = pii.mask_phone(number)


def _refuse_control_characters(**values: str) -> None:
    """Names are normalised before they reach the model's check, which would then never see a
    control character: refuse them as typed, naming the field (``validators``)."""
    errors: dict[str, list[ValidationError]] = {}
    for field, value in values.items():
        try:
            label = getattr(Person._meta.get_field(field), "verbose_name", field)
            refuse_control_characters(value, label=str(label))
        except ValidationError as exc:
            errors[field] = [exc]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def person_create(
    *,
    name: str,
    id_number: str,
    organization: Organization,
    acting_user: User | None,
    phone: str = "",
    id_valid_until: date | None = None,
    is_migrant_worker: bool = False,
) -> Person:
    """Register a person: validate the ID number, derive birth date, gender and region, encrypt, audit.

    A person already known by the same ID number (blind index) is refused with a clear message,
    so the same worker is never registered twice on one node.
    """
    parsed = parse_id_number(id_number)
    index = _id_index(parsed.number)
    if Person.objects.filter(
        id_number_index__in=pii.lookup_indexes(parsed.number, purpose="id_number")
    ).exists():
        raise ValidationError({"id_number": f"身份证号码为{parsed.masked()}的人员已登记，请勿重复登记"})
    _refuse_control_characters(name=name)
    normalized = names.normalize_name(name)
    if not normalized.simplified:
        raise ValidationError({"name": "姓名不能为空"})
    person = Person(
        name=normalized.simplified,
        name_original=normalized.original if normalized.original != normalized.simplified else "",
        id_number_cipher=pii.encrypt(parsed.number, field="id_number"),
        id_number_index=index,
        id_number_masked=parsed.masked(),
        id_valid_until=id_valid_until,
        birth_date=parsed.birth_date,
        gender=parsed.gender,
        id_region=Region.objects.filter(code=parsed.region_code).first(),
        is_migrant_worker=is_migrant_worker,
        organization=organization,
    )
    _set_phone(person, phone)
    return save_with_audit(person, acting_user=acting_user)


@transaction.atomic
def person_update(
    *,
    person: Person,
    acting_user: User,
    name: str | None = None,
    phone: str | None = None,
    id_valid_until: date | None = None,
    is_migrant_worker: bool | None = None,
) -> Person:
    """Change a person's editable details (the ID number itself is fixed once registered)."""
    before = person.snapshot()
    if name is not None:
        _refuse_control_characters(name=name)
        normalized = names.normalize_name(name)
        person.name = normalized.simplified
        person.name_original = normalized.original if normalized.original != normalized.simplified else ""
    if phone is not None:
        _set_phone(person, phone)
    if id_valid_until is not None:
        person.id_valid_until = id_valid_until
    if is_migrant_worker is not None:
        person.is_migrant_worker = is_migrant_worker
    return save_with_audit(person, acting_user=acting_user, before=before)


@dataclass(frozen=True)
class RevealedPerson:
    """The full personal data of one person, as shown after an audited reveal."""

    id_number: str
    phone: str


def person_reveal(*, person: Person, acting_user: User) -> RevealedPerson:
    """Decrypt a person's ID and phone number for display. The caller has checked the permission;
    every reveal writes an audit event naming who saw whose data."""
    revealed = RevealedPerson(
        id_number=pii.decrypt(person.id_number_cipher, field="id_number"),
        phone=pii.decrypt(person.phone_cipher, field="phone") if person.phone_cipher else "",
    )
    audit.record(AuditAction.REVEAL, target=person, acting_user=acting_user)
    return revealed


def person_lookup(*, queryset: models.QuerySet[Person], id_number: str, acting_user: User) -> Person | None:
    """Find a person by resident ID number (blind index) within ``queryset`` (the user's scope).

    Audited whether or not a person is found, since asking is itself a use of personal data; the
    log keeps only the masked number. Raises ``ValidationError`` for an invalid number.
    """
    parsed = parse_id_number(id_number)
    person = queryset.filter(
        id_number_index__in=pii.lookup_indexes(parsed.number, purpose="id_number")
    ).first()
    audit.record(
        AuditAction.LOOKUP,
        target=person,
        target_type="core.person",
        acting_user=acting_user,
        detail={"query": parsed.masked(), "found": person is not None},
    )
    return person


# Accounts and roles -------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    acting_user: User | None,
    display_name: str = "",
    organization: Organization | None = None,
    is_superuser: bool = False,
) -> User:
    """Create an account with a validated password (argon2-hashed)."""
    from django.contrib.auth.password_validation import validate_password

    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": f"账号“{username}”已存在"})
    user = User(
        username=username,
        display_name=display_name,
        organization=organization,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(AuditAction.CREATE, target=user, acting_user=acting_user, after={"username": username})
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, acting_user: User | None) -> User:
    """Enable or disable an account. Disabling also ends its sessions and deletes its API tokens,
    so a desk or a browser signed in before stops at its next request. Nobody disables their own
    account (they would lock themselves out mid-task)."""
    if acting_user is not None and acting_user.pk == user.pk and not active:
        raise ValidationError(_("不能停用自己的账号"))
    before = {"is_active": user.is_active}
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        AuditAction.UPDATE, target=user, acting_user=acting_user, before=before, after={"is_active": active}
    )
    if not active:
        user_sign_out_everywhere(user=user)
    return user


@transaction.atomic
def user_sign_out_everywhere(*, user: User) -> int:
    """End every session of ``user`` and delete its API tokens (after deactivation or a lock-out);
    returns how many sessions ended. Sessions live in the database (Django's default engine), so
    they are found by decoding the unexpired ones; a node has few."""
    from django.contrib.sessions.models import Session
    from rest_framework.authtoken.models import Token

    from .api.authentication import forget_tokens

    Token.objects.filter(user=user).delete()
    forget_tokens()
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def user_locked_out(*, username: str) -> None:
    """django-axes locked ``username`` out after repeated wrong passwords: its sessions and tokens
    stop too, so whoever guessed nothing but holds a stolen token or cookie is stopped as well."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        user_sign_out_everywhere(user=user)
        audit.record(AuditAction.UPDATE, target=user, detail={"locked_out": True})


def user_signed_in(*, user: User) -> None:
    """Audit a sign-in (the client's address is taken from the request by ``audit.record``)."""
    audit.record(AuditAction.LOGIN, target=user, acting_user=user)


def user_signed_out(*, user: User | None) -> None:
    """Audit a sign-out; an anonymous request to the sign-out page leaves no trace."""
    if user is not None and user.is_authenticated:
        audit.record(AuditAction.LOGOUT, target=user, acting_user=user)


def user_sign_in_failed(*, username: str) -> None:
    """Audit a failed sign-in with the user name as typed (never the password). When the name is an
    account of this node the event is that account's, so its organisation's auditors see it too."""
    username = username[:150]
    account = User.objects.filter(username=username).select_related("organization").first()
    audit.record(
        AuditAction.LOGIN_FAILED,
        target=account,
        target_type="" if account is not None else User._meta.label_lower,
        detail={"username": username},
    )


def _refuse(
    reason: str,
    *,
    account: User,
    role: Role,
    organization: Organization | None,
    acting_user: User | None,
    attempt: str,
) -> ValidationError:
    """Audit a refused grant or revoke (in its own transaction, so it stays) and build the error."""
    audit.record(
        AuditAction.DENIED,
        target=account,
        organization=organization,
        acting_user=acting_user,
        detail={
            "attempt": attempt,
            "role": role.code,
            "organization": organization.code if organization else None,
            "reason": str(reason),
        },
    )
    return ValidationError(reason)


def _role_change_refusal(
    *, account: User, role: Role, organization: Organization | None, acting_user: User | None
) -> str | None:
    """Why ``acting_user`` may not grant or take back ``role`` at ``organization`` for ``account``
    (ADR 011), or None. ``acting_user`` None is set-up (the demo, the command line)."""
    from .permissions import has_node_wide
    from .selectors import grantable_roles

    if acting_user is None:
        return None
    if acting_user.pk == account.pk:
        return _("不能授予、修改或撤销自己的角色，请联系上级账号管理员")
    if not grantable_roles(user=acting_user).filter(pk=role.pk).exists():
        return _("您的角色不能授予或撤销“%(role)s”角色") % {"role": role.name}
    if organization is None:
        if not has_node_wide(acting_user, "core.manage_accounts"):
            return _("只有节点管理员可以授予全节点角色，请选择授权范围")
    elif not acting_user.has_perm("core.manage_accounts", organization):
        return _("不能在您的管理范围以外授予或撤销角色")
    return None


def role_grant(
    *, user: User, role: Role, organization: Organization | None, acting_user: User | None
) -> RoleAssignment:
    """Grant ``role`` to ``user`` at ``organization`` (its subtree), or node-wide when None.

    Refused (``ValidationError`` in Chinese, and an audited ``denied`` event) when ``acting_user``
    grants to itself, grants a role its own roles may not grant, or grants outside its scope.
    """
    reason = _role_change_refusal(account=user, role=role, organization=organization, acting_user=acting_user)
    if reason:
        raise _refuse(
            reason,
            account=user,
            role=role,
            organization=organization,
            acting_user=acting_user,
            attempt="grant",
        )
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, organization=organization
        )
        if created:
            audit.record(
                AuditAction.GRANT,
                target=user,
                organization=organization,
                acting_user=acting_user,
                detail={"role": role.code, "organization": organization.code if organization else None},
            )
    forget(user)
    return assignment


def role_revoke(*, assignment: RoleAssignment, acting_user: User | None) -> None:
    """Take a role back; refused (and audited) under the same rules as granting it."""
    account, role, organization = assignment.user, assignment.role, assignment.organization
    reason = _role_change_refusal(
        account=account, role=role, organization=organization, acting_user=acting_user
    )
    if reason:
        raise _refuse(
            reason,
            account=account,
            role=role,
            organization=organization,
            acting_user=acting_user,
            attempt="revoke",
        )
    with transaction.atomic():
        audit.record(
            AuditAction.REVOKE,
            target=account,
            organization=organization,
            acting_user=acting_user,
            detail={"role": role.code, "organization": getattr(organization, "code", None)},
        )
        assignment.delete()
    forget(account)


@transaction.atomic
def role_define(*, code: str, name: str, permissions: list[str], description: str = "") -> Role:
    """Create or update a role from permission names (``app.codename``); used by set-up and the demo."""
    role, _created = Role.objects.update_or_create(
        code=code, defaults={"name": name, "description": description}
    )
    perms = []
    for full in permissions:
        app_label, codename = full.split(".", 1)
        perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    role.permissions.set(perms)
    return role


# Regions ------------------------------------------------------------------------------------------


@transaction.atomic
def regions_load(*, model: Any = Region) -> int:
    """Load or refresh every GB/T 2260 code from python-stdnum's maintained table; returns the count.

    Historical codes stay, marked abolished. ``model`` lets the data migration pass its historical model.
    """
    rows = sorted(idnumber.iter_regions(), key=lambda row: (len(row[0].rstrip("0")), row[0]))
    existing = set(model.objects.values_list("code", flat=True))
    new: list[Any] = []
    changed: list[Any] = []
    known = {row[0] for row in rows}
    for code, name, level, parent, abolished, valid_from, valid_to in rows:
        full_name = idnumber.region_name(code)[0]
        region = model(
            code=code,
            name=name,
            full_name=full_name,
            level=level,
            parent_id=parent if parent in known else None,
            abolished=abolished,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        (changed if code in existing else new).append(region)
    model.objects.bulk_create(new, batch_size=1000)
    model.objects.bulk_update(
        changed,
        ["name", "full_name", "level", "parent", "abolished", "valid_from", "valid_to"],
        batch_size=1000,
    )
    return len(rows)


@transaction.atomic
def roles_sync() -> list[Role]:
    """Create or update the default roles of ``xietong.core.roles``, with the roles each may grant."""
    from .roles import DEFAULT_ROLES

    roles = [
        role_define(
            code=spec.code, name=spec.name, description=spec.description, permissions=list(spec.permissions)
        )
        for spec in DEFAULT_ROLES
    ]
    by_code = {role.code: role for role in roles}
    for spec, role in zip(DEFAULT_ROLES, roles, strict=True):
        role.grantable.set([by_code[code] for code in spec.grantable])
    return roles


# Working-day calendar -------------------------------------------------------------------------------


@transaction.atomic
def calendar_year_set(
    *,
    year: int,
    holidays: list[date],
    workdays: list[date],
    source: str,
    acting_user: User | None,
) -> WorkCalendarYear:
    """Enter (or correct) a year's official holidays and make-up working days from the State Council's
    notice; from then on every deadline reaching that year counts with it. Audited with before/after."""
    errors: dict[str, list[str]] = {}
    outside = [d for d in [*holidays, *workdays] if d.year != year]
    if outside:
        errors.setdefault("holidays", []).append(
            _("日期 %(day)s 不在 %(year)s 年") % {"day": outside[0].isoformat(), "year": year}
        )
    both = sorted(set(holidays) & set(workdays))
    if both:
        errors.setdefault("workdays", []).append(_("%(day)s 不能既放假又上班") % {"day": both[0].isoformat()})
    weekday_workdays = [d for d in workdays if d.weekday() < 5]
    if weekday_workdays:
        errors.setdefault("workdays", []).append(
            _("调休上班日应为周六或周日：%(day)s 是工作日") % {"day": weekday_workdays[0].isoformat()}
        )
    if not holidays:
        errors.setdefault("holidays", []).append(_("请填写放假日期"))
    if errors:
        raise ValidationError(errors)
    entry = WorkCalendarYear.objects.filter(year=year).first()
    before = entry.snapshot() if entry else None
    entry = entry or WorkCalendarYear(year=year)
    entry.holidays = [d.isoformat() for d in sorted(set(holidays))]
    entry.workdays = [d.isoformat() for d in sorted(set(workdays))]
    entry.source = source.strip()
    return save_with_audit(entry, acting_user=acting_user, before=before)


# Notifications (issue 12 §2) ------------------------------------------------------------------------


def notify(
    *,
    kind: str,
    text: str,
    link: str = "",
    target: models.Model | None = None,
    key: str = "",
    users: Iterable[User] | None = None,
    perm: str = "",
    organization: Organization | None = None,
) -> None:
    """Tell staff about something to act on, once the current transaction commits (at once outside one).

    Recipients are ``users``, or else the active accounts holding ``perm`` over ``organization``
    (``selectors.users_with_perm_over``; no organisation: every holder of ``perm`` on the node).
    ``target`` (or ``key``, for a step of a record) names what it is about: a recipient gets one
    notification per ``kind`` and key, so a retried job or a check run twice never duplicates one.
    A rolled-back transaction notifies nobody. Not audited: a notification changes no record, and
    the change that causes it is audited by the action that calls this.
    """
    if not key and target is not None:
        key = f"{target._meta.label_lower}:{target.pk}"

    def send() -> None:
        from .selectors import users_with_perm_over

        recipients = users if users is not None else users_with_perm_over(perm, organization)
        notifications_write(recipients=recipients, kind=kind, key=key, text=text, link=link)

    transaction.on_commit(send)


def notifications_write(*, recipients: Iterable[User], kind: str, key: str, text: str, link: str) -> int:
    """Write the notifications ``notify`` sends, skipping recipients who already have this kind and
    key (the unique constraint refuses the duplicate). Returns how many rows were offered."""
    rows = [
        Notification(recipient=user, kind=kind[:64], key=key[:128], text=str(text)[:300], link=link[:300])
        for user in recipients
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def notification_mark_read(*, notification: Notification, acting_user: User) -> Notification:
    """Mark one of ``acting_user``'s notifications read (already read: left as it was). Not audited:
    it is the account's own reading state, not a record of the node."""
    if notification.recipient_id != acting_user.pk:
        raise ValidationError(_("只能标记自己的通知"))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notifications_mark_all_read(*, acting_user: User) -> int:
    """Mark every unread notification of ``acting_user`` read; returns how many."""
    return Notification.objects.filter(recipient=acting_user, read_at__isnull=True).update(
        read_at=timezone.now(), updated_at=timezone.now()
    )


# Exports written in the background (issue 16) ----------------------------------------------------


def export_job_start(
    *, view: str, list_path: str, permission: str, params: dict[str, str], filename: str,
    target_type: str, total_rows: int, acting_user: User,
) -> ExportJob:  # fmt: skip
    """Queue the export of a list too long for a request: ``view`` is the dotted path of its
    ``ScopedListView``, ``params`` the query string's filters. Not audited here: the download is
    (``export_download``), as an immediate export is. Expired exports are purged on the way."""
    from .jobs import job_enqueue

    export_jobs_purge()
    with transaction.atomic():
        job = ExportJob.objects.create(
            view=view,
            list_path=list_path,
            permission=permission,
            params=params,
            filename=filename,
            target_type=target_type,
            total_rows=total_rows,
            organization=acting_user.organization,
            created_by=acting_user,
            message=_("排队等待导出"),
        )
        job_enqueue(job=job)
    return job


def export_job_run(*, job: ExportJob) -> ExportJob:
    """The runner of ``ExportJob``: read the list again as its creator with the saved filters and
    write the workbook a row at a time (openpyxl write-only, rows from ``.iterator``), so memory stays
    the same for a thousand rows or a million; progress every few thousand rows."""
    import tempfile

    from django.conf import settings
    from django.core.files import File
    from django.utils.module_loading import import_string

    from .exports import write_workbook
    from .jobs import job_progress, job_transition

    if job.created_by is None:
        return job_transition(job=job, to="failed", message=_("导出任务没有经办人，无法按其权限读取数据"))
    view_class: Any = import_string(job.view)
    headers, rows, total = view_class.export_source(
        user=job.created_by, params=job.params, path=job.list_path
    )
    job_progress(job=job, done=0, total=total, phase=_("正在写入导出文件"))
    with tempfile.TemporaryFile(suffix=".xlsx") as handle:
        written = write_workbook(
            handle, headers, rows, title=job.filename.rsplit(".", 1)[0],
            progress=lambda done: job_progress(job=job, done=done),
        )  # fmt: skip
        handle.seek(0)
        job.file.save(f"{job.pk}-{timezone.now():%Y%m%d%H%M%S}.xlsx", File(handle), save=False)
    job.written_rows = written
    job.total_rows = max(total, written)
    job.expires_at = timezone.now() + timedelta(hours=settings.XIETONG_EXPORT_KEEP_HOURS)
    return job_transition(
        job=job,
        to="done",
        message=_("导出完成：共 %(rows)s 行，保留至 %(until)s")
        % {"rows": written, "until": timezone.localtime(job.expires_at).strftime("%Y-%m-%d %H:%M")},
    )


def export_download(*, job: ExportJob, acting_user: User) -> ExportJob:
    """Record that ``acting_user`` downloads the export ``job``: one ``export`` event with the list's
    filters and the file name, the same event an immediate export writes."""
    audit.record(
        AuditAction.EXPORT,
        target_type=job.target_type,
        acting_user=acting_user,
        detail={**job.params, "filename": job.filename, "export_job": job.pk, "rows": job.written_rows},
    )
    return job


def export_jobs_purge(*, now: Any = None) -> int:
    """Remove the exports past their keeping time, files and rows; returns how many. Called whenever
    an export starts or is looked at, and by ``xietong exports purge`` (for a cron job)."""
    now = now or timezone.now()
    expired = list(ExportJob.objects.filter(expires_at__lte=now))
    for job in expired:
        if job.file:
            job.file.delete(save=False)
    ExportJob.objects.filter(pk__in=[job.pk for job in expired]).delete()
    return len(expired)


# PII key rotation ---------------------------------------------------------------------------------

#: Every encrypted column of the node: (model label, ((cipher field, field bound in as associated
#: data, blind index field or "", index purpose or ""), …)). The rotation job walks them in this
#: order; a new encrypted column must be listed here (its test checks the list against the models).
PII_TABLES: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = (
    (
        "core.Person",
        (
            ("id_number_cipher", "id_number", "id_number_index", "id_number"),
            ("phone_cipher", "phone", "phone_index", "phone"),
        ),
    ),
    (
        "membership.JoinApplication",
        (
            ("id_number_cipher", "id_number", "id_number_index", "id_number"),
            ("phone_cipher", "phone", "", ""),
        ),
    ),
    ("insurance.InsuranceTransfer", (("id_number_cipher", "id_number", "id_number_index", "id_number"),)),
    ("insurance.RosterEntry", (("id_number_cipher", "id_number", "id_number_index", "id_number"),)),
    ("services.ServiceRequest", (("requester_phone_cipher", "phone", "requester_phone_index", "phone"),)),
    ("portal.CodeRequest", (("phone_cipher", "phone", "phone_index", "phone"),)),
)


def _pii_write_state(state: dict[str, Any]) -> None:
    """Replace the key state file in one step (every process reads it by its change time)."""
    path = Path(settings.KEY_DIR) / pii.STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


def _pii_state() -> dict[str, Any]:
    path = Path(settings.KEY_DIR) / pii.STATE_FILE
    return (
        json.loads(path.read_text()) if path.exists() else {"keys": [], "current": pii.KEY_ID, "retired": []}
    )


@transaction.atomic
def pii_key_rotate(*, acting_user: User | None) -> PiiKeyRotation:
    """Make a new PII key current (``xietong keys rotate-pii``) and queue the job that re-encrypts and
    re-indexes the existing rows. New values use the new key from this moment on, in every process;
    the old keys stay in the ring for reading and, until the job ends, for look-ups. Refused while an
    earlier rotation is unfinished."""
    unfinished = PiiKeyRotation.objects.exclude(status=JobStatus.DONE).first()
    if unfinished is not None:
        raise ValidationError(
            _("上一次密钥轮换（%(key)s）尚未完成：请先用 keys rotate-pii --resume 继续")
            % {"key": unfinished.key_id}
        )
    state = _pii_state()
    ring = pii.key_ring()
    number = 1 + max(int(key_id[1:]) for key_id in ring.masters if key_id[1:].isdigit())
    key_id = f"k{number}"
    path = Path(settings.KEY_DIR) / f"pii-{key_id}.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(crypto.generate_key() + "\n")
    job = PiiKeyRotation.objects.create(
        key_id=key_id, old_key_ids=list(ring.masters), created_by=acting_user, message=_("排队等待重新加密")
    )
    _pii_write_state({**state, "keys": [*state.get("keys", []), key_id], "current": key_id})
    audit.record(
        AuditAction.KEY_ROTATE,
        target=job,
        acting_user=acting_user,
        detail={"key": key_id, "replaces": ring.current},
    )
    jobs.job_enqueue(job=job)
    return job


@transaction.atomic
def pii_key_rotation_resume(*, acting_user: User | None) -> PiiKeyRotation | None:
    """Queue again the unfinished rotation (its worker was killed, or it failed): it continues from the
    table and primary key it had reached. ``None`` if every rotation has finished."""
    job = PiiKeyRotation.objects.select_for_update().exclude(status=JobStatus.DONE).first()
    if job is None:
        return None
    if job.status != JobStatus.QUEUED:
        job.finished_at = None
        job_transition(job=job, to=JobStatus.QUEUED, message=_("已重新排队，将从中断处继续"))
    audit.record(AuditAction.KEY_ROTATE, target=job, acting_user=acting_user, detail={"resume": job.key_id})
    jobs.job_enqueue(job=job)
    return job


def _pii_rewrite(row: models.Model, fields: tuple[tuple[str, str, str, str], ...]) -> list[str]:
    """Re-encrypt ``row``'s tokens made with an older key and set their blind indexes to the current
    key's; the names of the fields changed. The index is checked even when the token is current: a
    value written in the instant of the switch may have been indexed with the old key."""
    changed: list[str] = []
    for cipher_field, aad, index_field, purpose in fields:
        token = getattr(row, cipher_field)
        if not token:
            continue
        plain = pii.decrypt(token, field=aad)
        if pii.needs_rotation(token):
            setattr(row, cipher_field, pii.encrypt(plain, field=aad))
            changed.append(cipher_field)
        if index_field and getattr(row, index_field):
            index = pii.blind_index(plain, purpose=purpose)
            if index != getattr(row, index_field):
                setattr(row, index_field, index)
                changed.append(index_field)
    return changed


def pii_key_rotation_run(*, job: PiiKeyRotation) -> PiiKeyRotation:
    """The runner of a ``PiiKeyRotation``: table by table, batches keyset by primary key, each batch
    locked, rewritten and saved with the job's position in one short transaction, so the node keeps
    serving and a restart continues after the last batch saved. At the end the old keys are retired
    for look-ups (kept for reading older backups)."""
    batch = getattr(settings, "XIETONG_PII_ROTATION_BATCH", 1000)
    if not job.total_rows:
        job.total_rows = sum(apps.get_model(label)._base_manager.count() for label, _fields in PII_TABLES)
        job.save(update_fields=["total_rows", "updated_at"])
    while job.table < len(PII_TABLES):
        label, fields = PII_TABLES[job.table]
        model = apps.get_model(label)
        job_progress(job=job, phase=_("正在重新加密：%(table)s") % {"table": model._meta.verbose_name})
        while True:
            with transaction.atomic():
                rows = list(
                    model._base_manager.select_for_update().filter(pk__gt=job.last_pk).order_by("pk")[:batch]
                )
                changed = [(row, _pii_rewrite(row, fields)) for row in rows]
                names = sorted({name for _row, names in changed for name in names})
                if names:
                    model._base_manager.bulk_update([row for row, done in changed if done], names)
                if rows:
                    job.last_pk, job.done_rows = rows[-1].pk, min(job.done_rows + len(rows), job.total_rows)
                else:
                    job.table, job.last_pk = job.table + 1, 0
                job.save(update_fields=["table", "last_pk", "done_rows", "updated_at"])
            if not rows:
                break
    state = _pii_state()
    _pii_write_state(
        {**state, "retired": sorted({*state.get("retired", []), *job.old_key_ids} - {job.key_id})}
    )
    audit.record(AuditAction.KEY_ROTATE, target=job, acting_user=None, detail={"finished": job.key_id})
    job.done_rows = job.total_rows
    return job_transition(
        job=job,
        to=JobStatus.DONE,
        message=_("已用密钥 %(key)s 重新加密 %(rows)s 行；旧密钥已停用于查询，仅保留用于解密旧备份")
        % {"key": job.key_id, "rows": job.total_rows},
    )

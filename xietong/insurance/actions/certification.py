"""Writes of benefit eligibility certification between regions (ADR 009): roster imports, runs sent to
partners, the comparisons this node does for them, and the officers' decisions on findings."""

from __future__ import annotations

import contextlib
import logging
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xietong import exchange
from xietong.core import audit, bulk, pii
from xietong.core.actions import notify
from xietong.core.choices import AuditAction, JobStatus
from xietong.core.jobs import job_enqueue, job_progress, job_transition
from xietong.core.models import Organization, User
from xietong.core.workflows import move_audited
from xietong.exchange import selectors as exchange_selectors
from xietong.exchange.choices import Direction, MessageStatus
from xietong.exchange.models import ExchangeMessage, ExchangeNode
from xietong.lib import idnumber
from xietong.matching.columns import unknown_columns

from .. import encodings
from ..choices import BENEFIT_NAMES, FindingKind, FindingStatus, RequestStatus, RosterKind, RunStage
from ..models import (
    BenefitRoster,
    CertificationAssistance,
    CertificationFinding,
    CertificationRequest,
    EligibilityCheck,
    FindingDismissal,
    RosterEntry,
)
from ..selectors import confirmed_same_person, same_person_findings

logger = logging.getLogger(__name__)

ROSTER_BATCH = 10000  # rows encrypted and written at a time (COPY on PostgreSQL)
# The names of the files certification messages carry (issue 13 §2).
ENCODINGS_FILE = "encodings.parquet"
FINDINGS_FILE = "findings.parquet"


@transaction.atomic
def roster_import_start(
    *,
    organization: Organization,
    kind: str,
    title: str,
    uploaded: Any,
    mapping: dict[str, str],
    acting_user: User | None,
) -> BenefitRoster:
    """Keep the uploaded roster file and queue its import once this transaction commits (the worker
    runs ``roster_import_run``; progress is kept on the roster's row)."""
    unknown = unknown_columns(mapping)
    if unknown:
        raise ValidationError({"mapping": f"列映射中的{'、'.join(unknown)}不是标准列"})
    roster = BenefitRoster(
        organization=organization,
        kind=kind,
        title=title.strip() or Path(str(uploaded.name)).stem[:100],
        original_name=str(uploaded.name)[:200],
        mapping=mapping,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    roster.file.save(f"{secrets.token_hex(8)}{Path(uploaded.name).suffix.lower()}", uploaded, save=False)
    roster.full_clean()
    roster.save()
    audit.record(AuditAction.CREATE, target=roster, acting_user=acting_user, after=roster.snapshot())
    job_enqueue(job=roster)
    return roster


def _read_roster(roster: BenefitRoster, con: Any, workdir: Path) -> int:
    """Read and normalise the roster's file with the comparison engine into the DuckDB table
    ``roster_rows`` (one row per line, in line order); the number of rows (``RosterError`` if the
    file is unreadable)."""
    from xietong.matching import normalize
    from xietong.matching import roster as roster_files

    path = workdir / f"roster{Path(roster.original_name).suffix.lower()}"
    with roster.file.open("rb") as source:
        path.write_bytes(source.read())
    roster_files.load(con, path, "raw", dict(roster.mapping), workdir)
    normalize.normalize_table(con, "raw", "norm")
    con.execute(
        """
        CREATE TABLE roster_rows AS
        SELECT r.line, r.record_id, n.name_norm AS name, n.id_valid,
               coalesce(n.id_any, xt_id_clean(r.id_number)) AS id_any, n.birth, n.gender,
               r.event_date AS event_text, xt_date(r.event_date) AS event_date
        FROM raw r JOIN norm n USING (record_id) ORDER BY r.line
        """
    )
    return int(con.execute("SELECT count(*) FROM roster_rows").fetchall()[0][0])


def _roster_problems(con: Any, kind: str, limit: int = 20) -> tuple[list[str], int]:
    """The first ``limit`` problems of the roster's rows, by line, and how many there are: the
    checks run on whole columns in DuckDB (issue 13 §3)."""
    death = "TRUE" if kind == RosterKind.DEATH else "FALSE"
    problems = f"""
        SELECT line, 1 AS k,
               '第' || line || '行：身份证号码无效或缺失，且姓名、出生日期不全，无法比对' AS problem
        FROM roster_rows WHERE coalesce(id_valid, '') = '' AND (coalesce(name, '') = '' OR birth IS NULL)
        UNION ALL
        SELECT line, 2, '第' || line || '行：日期“' || event_text || '”无法识别（应如 2025-03-02）'
        FROM roster_rows WHERE coalesce(event_text, '') <> '' AND event_date IS NULL
        UNION ALL
        SELECT line, 3, '第' || line || '行：死亡登记缺少死亡日期'
        FROM roster_rows WHERE {death} AND coalesce(event_text, '') = ''
    """  # noqa: S608 - no user input in the SQL
    total = int(con.execute(f"SELECT count(*) FROM ({problems})").fetchall()[0][0])  # noqa: S608
    first = con.execute(f"SELECT problem FROM ({problems}) ORDER BY line, k LIMIT {int(limit)}").fetchall()  # noqa: S608
    return [row[0] for row in first], total


def roster_import_run(*, job: BenefitRoster) -> BenefitRoster:
    """Read, check and store a roster: the runner of ``BenefitRoster`` (``xietong.core.jobs``), called
    with the job ``running``. Any bad row fails the whole file with the lines named; nothing is
    written until every row is good. The checks run as whole columns, and the rows are written as the
    member import writes (``core.bulk``: batch encryption and blind indexes, COPY on PostgreSQL), in
    one transaction that also supersedes the office's older roster of the same kind. Then the roster
    is encoded once for every run (ADR 018)."""
    from xietong.matching import duck
    from xietong.matching import roster as roster_files
    from xietong.matching.errors import RosterError

    roster = job
    job_progress(job=roster, phase=_("正在读取和校验名册"))
    con = duck.connect()
    try:
        try:
            with roster_files.make_workdir() as workdir:
                count = _read_roster(roster, con, Path(workdir))
        except RosterError as exc:
            return job_transition(
                job=roster,
                to=JobStatus.FAILED,
                message=f"{exc.problem}{f'（第{exc.line}行）' if exc.line else ''}",
            )
        roster.total_rows = count
        problems, total = _roster_problems(con, roster.kind)
        if problems:
            more = f"……共{total}处" if total > len(problems) else ""
            return job_transition(
                job=roster,
                to=JobStatus.FAILED,
                message="名册有误，未导入任何数据：" + "；".join(problems) + more,
            )
        columns = "record_id, name, id_valid, id_any, birth, gender, event_date"
        table = con.sql(f"SELECT {columns} FROM roster_rows ORDER BY line").to_arrow_table()  # noqa: S608
        blank = "SELECT count(*) FROM roster_rows WHERE coalesce(id_valid, '') = ''"
        invalid = int(con.execute(blank).fetchall()[0][0])
    finally:
        con.close()
    job_progress(job=roster, done=0, total=count, phase=_("正在加密身份证号码并写入数据库"))
    ids = bulk.allocate_ids(RosterEntry, count)
    with transaction.atomic():
        bulk.insert(RosterEntry, _entry_batches(roster, table, ids))
        BenefitRoster.objects.filter(
            organization=roster.organization, kind=roster.kind, status=JobStatus.DONE, superseded=False
        ).exclude(pk=roster.pk).update(superseded=True)
        roster.processed_rows, roster.invalid_ids = count, invalid
        note = f"（其中{invalid}人身份证号无效，按姓名和出生日期比对）" if invalid else ""
        # The clear-text upload goes once the rows are committed.
        storage, uploaded = roster.file.storage, str(roster.file.name)
        roster.file = None  # clears the FileField
        job_transition(job=roster, to=JobStatus.DONE, message=f"导入完成：{count}人{note}")
        transaction.on_commit(lambda: storage.delete(uploaded))
        audit.record(AuditAction.IMPORT, target=roster, acting_user=roster.created_by, detail={"rows": count})
    try:  # encoded once, now, for every run and partner (ADR 018); without a key, at the first use
        roster_encode(roster=roster, columns=_clear_columns(table, ids))
    except ImproperlyConfigured:
        logger.info("roster %s not encoded: no group key", roster.pk)
    return roster


def _clear_columns(table: Any, ids: list[int]) -> dict[str, list[Any]]:
    """The rows just read, as ``encodings.encode_columns`` takes them (row ids as references)."""
    valid, other = table["id_valid"].to_pylist(), table["id_any"].to_pylist()
    return {
        "record_id": [str(pk) for pk in ids],
        "name": table["name"].to_pylist(),
        "id_number": [v or a or None for v, a in zip(valid, other, strict=True)],
        "birth_date": [d.isoformat() if d else None for d in table["birth"].to_pylist()],
        "gender": table["gender"].to_pylist(),
    }


def _entry_batches(roster: BenefitRoster, table: Any, ids: list[int]) -> Iterator[bulk.Columns]:
    """The entries' columns ``ROSTER_BATCH`` rows at a time: ID numbers encrypted (the valid ones
    blind-indexed) and masked in batches. No progress is written between batches: on PostgreSQL the
    connection is busy with the COPY they feed."""
    now = timezone.now()
    for start in range(0, table.num_rows, ROSTER_BATCH):
        part = table.slice(start, ROSTER_BATCH).to_pydict()
        valid = [value or "" for value in part["id_valid"]]
        numbers = [v or (a or "") for v, a in zip(valid, part["id_any"], strict=True)]
        given = [number for number in numbers if number]
        ciphers = iter(pii.encrypt_many(given, field="id_number"))
        indexes = iter(pii.blind_indexes([v for v in valid if v], purpose="id_number"))
        yield {
            "id": ids[start : start + len(numbers)],
            "roster_id": roster.pk,
            "record_id": [str(value)[:64] for value in part["record_id"]],
            "name": [(value or "")[:64] for value in part["name"]],
            "id_number_cipher": [next(ciphers) if number else "" for number in numbers],
            "id_number_index": [next(indexes) if v else "" for v in valid],
            "id_number_masked": [idnumber.mask(number) if number else "" for number in numbers],
            "birth_date": part["birth"],
            "gender": [value or "" for value in part["gender"]],
            "event_date": part["event_date"],
            "suspended_at": None,
            "created_at": now,
            "updated_at": now,
        }


def roster_encode(*, roster: BenefitRoster, columns: dict[str, list[Any]] | None = None) -> None:
    """Encode ``roster``'s entries with the group key and keep the Parquet file beside the roster with
    the key's fingerprint (ADR 018). Called once at import (with the rows in clear as ``columns``,
    nothing decrypted), and again only when the key has changed (``encodings.roster_file``).
    ``ImproperlyConfigured`` without a group key."""
    fingerprint = encodings.key_fingerprint()
    if columns is not None:
        table = encodings.encode_columns(columns)
    else:
        table = encodings.encode_entries(roster.entries.order_by("pk").iterator(chunk_size=5000))
    storage, old = roster.encodings.storage, roster.encodings.name
    with tempfile.TemporaryDirectory(prefix="xietong-roster-") as folder:
        path = encodings.write_table(table, Path(folder) / ENCODINGS_FILE)
        with path.open("rb") as handle:
            roster.encodings.save(f"{roster.pk}-{secrets.token_hex(4)}.parquet", File(handle), save=False)
    roster.encodings_key = fingerprint
    # Only these two columns: the import job may still be writing its own.
    BenefitRoster.objects.filter(pk=roster.pk).update(
        encodings=roster.encodings.name, encodings_key=fingerprint, updated_at=timezone.now()
    )
    if old:
        transaction.on_commit(lambda: storage.delete(old))


@transaction.atomic
def certification_run_start(
    *, roster: BenefitRoster, partners: list[str], checks: list[str], acting_user: User
) -> EligibilityCheck:
    """Open a certification run of a roster (for the office that keeps it) and queue the sending of
    its encodings to each partner node once this transaction commits (``certification_run_send``)."""
    if roster.kind == RosterKind.DEATH:
        raise ValidationError({"roster": "死亡登记名册不作资格认证，请选择待遇领取人员名册"})
    if roster.status != JobStatus.DONE:
        raise ValidationError({"roster": "名册尚未导入完成"})
    if not checks or set(checks) - set(FindingKind.values):
        raise ValidationError({"checks": "请选择核查内容"})
    trusted = {node.node_id: node for node in exchange_selectors.trusted_peers()}
    unknown = [p for p in partners if p not in trusted]
    if not partners or unknown:
        raise ValidationError(
            {"partners": f"请选择对方节点{('（' + '、'.join(unknown) + '不在名册中）') if unknown else ''}"}
        )
    run = EligibilityCheck(
        uid=uuid.uuid4().hex,
        organization=roster.organization,
        roster=roster,
        checks=list(dict.fromkeys(checks)),
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    run.full_clean()
    run.save()
    for partner in dict.fromkeys(partners):
        CertificationRequest.objects.create(run=run, partner=partner, partner_name=trusted[partner].name)
    audit.record(AuditAction.CREATE, target=run, acting_user=acting_user, after=run.snapshot())
    job_enqueue(job=run)
    return run


def certification_run_send(*, job: EligibilityCheck) -> EligibilityCheck:
    """Put one ``certification.request`` message per partner in the outbox, all in one transaction,
    each carrying the run's encodings as one Parquet file (the roster's stored encodings less its
    suspended entries; the group key, no names or ID numbers): the runner of ``EligibilityCheck``
    (``xietong.core.jobs``), called with the job ``running``.

    The job ends ``done`` once the requests are in the outbox; the run then waits for the partners
    (``stage`` 等待对方比对) until each has answered or failed (``RequestStatus``)."""
    run = job
    job_progress(job=run, phase=_("正在准备编码并发送"))
    try:
        fingerprint = encodings.key_fingerprint()
        with encodings.run_file(run.roster) as path:
            records = encodings.rows_in(path)
            if not records:
                return job_transition(job=run, to=JobStatus.FAILED, message=_("名册中没有可核查的人员"))
            with transaction.atomic():
                for request in run.requests.all():
                    _send_request(run, request, path, fingerprint)
                run.records, run.chunks, run.stage = records, 1, RunStage.WAITING
                message = _("已发送：%(records)s人，发给%(partners)s个对方节点") % {
                    "records": records, "partners": run.requests.count(),
                }  # fmt: skip
                job_transition(job=run, to=JobStatus.DONE, message=message)
    except ImproperlyConfigured as exc:
        return job_transition(job=run, to=JobStatus.FAILED, message=str(exc))
    return run


def _send_request(run: EligibilityCheck, request: CertificationRequest, path: Path, fingerprint: str) -> None:
    """The run's request to one partner, for its current attempt (a new idempotency key per attempt)."""
    exchange.send(
        to=request.partner,
        kind="certification.request",
        body={
            "run": run.uid,
            "attempt": request.attempt,
            "chunk": 1,
            "chunks": 1,
            "checks": run.checks,
            "roster_kind": run.roster.kind,
            "key": fingerprint,
        },
        idempotency_key=f"certification.request:{run.uid}:{request.attempt}:1",
        files={ENCODINGS_FILE: path},
    )
    request.chunks = 1
    request.save(update_fields=["chunks", "updated_at"])


@transaction.atomic
def certification_request_resend(*, request: CertificationRequest, acting_user: User) -> CertificationRequest:
    """Send a run again to a partner that failed (refused it, or could not compare), as a new attempt:
    a new idempotency key, the roster's current encodings (re-encoded if the group key changed), and
    the run waits for that partner again. Answers to the earlier attempt are then ignored."""
    request = (
        CertificationRequest.objects.select_for_update().select_related("run__roster").get(pk=request.pk)
    )
    run = request.run
    if request.status != RequestStatus.FAILED:
        raise ValidationError(_("只能向失败的对方节点重新发送"))
    if request.partner not in {node.node_id for node in exchange_selectors.trusted_peers()}:
        raise ValidationError(_("对方节点 %(node)s 已不在节点名册中") % {"node": request.partner})
    before = {"attempt": request.attempt, "status": request.status, "error": request.error}
    request.attempt += 1
    request.status, request.error, request.answered = RequestStatus.WAITING, "", []
    request.checked, request.answered_at = 0, None
    request.save()
    try:
        fingerprint = encodings.key_fingerprint()
        with encodings.run_file(run.roster) as path:
            _send_request(run, request, path, fingerprint)
    except ImproperlyConfigured as exc:
        raise ValidationError(str(exc)) from exc
    _settle_run(run)
    audit.record(
        AuditAction.STATUS, target=run, acting_user=acting_user,
        detail={"resend": request.partner, "attempt": request.attempt, "before": before},
    )  # fmt: skip
    return request


def certification_request_refused(
    body: dict[str, Any], reason: str, receiver: str
) -> CertificationRequest | None:
    """A partner refused one of our certification requests (another group key, a malformed file …):
    that partner's request fails with the reason, unless it was for an earlier attempt. The exchange's
    ``on_refused("certification.request")`` calls this (``messages.py``); ``certification_run_check``
    also finds the requests whose file could not be delivered."""
    with transaction.atomic():
        request = (
            CertificationRequest.objects.select_for_update().select_related("run")
            .filter(run__uid=str(body.get("run", "")), partner=receiver).first()
        )  # fmt: skip
        if request is None or request.status != RequestStatus.WAITING or _attempt(body) != request.attempt:
            return request
        request.status = RequestStatus.FAILED
        request.error = (reason or _("对方拒绝了请求"))[:300]
        request.answered_at = timezone.now()
        request.save()
        _settle_run(request.run)
        audit.record(
            AuditAction.STATUS, target=request.run,
            detail={"partner": receiver, "attempt": request.attempt, "failed": request.error},
        )  # fmt: skip
    return request


def _attempt(body: dict[str, Any]) -> int:
    """The attempt a message of a run belongs to (an older node's messages: the first)."""
    try:
        return int(body.get("attempt") or 1)
    except (TypeError, ValueError):
        return 0


def certification_run_check(*, run: EligibilityCheck) -> EligibilityCheck:
    """Fail the requests of ``run`` whose message a partner refused or whose file could not be
    delivered (the outbox says so, with the reason): what the run page and API do when they look, so a
    run always ends (issue 13 §4). Costs one query when nothing is wrong."""
    waiting = {r.partner for r in run.requests.all() if r.status == RequestStatus.WAITING}
    if not waiting:
        return run
    failed = ExchangeMessage.objects.filter(
        direction=Direction.OUT, kind="certification.request", receiver__in=waiting,
        idempotency_key__startswith=f"certification.request:{run.uid}:",
        status__in=(MessageStatus.REFUSED, MessageStatus.FAILED),
    ).order_by("seq")  # fmt: skip
    changed = [certification_request_refused(m.body, m.reason, m.receiver) for m in failed]
    if changed:
        run.refresh_from_db(fields=["stage", "updated_at"])
    return run


def _settle_run(run: EligibilityCheck) -> None:
    """The run's stage from its requests: waiting while one waits, then complete, or partial when a
    partner failed."""
    if run.status != JobStatus.DONE:
        return
    statuses = [request.status for request in run.requests.all()]
    if RequestStatus.WAITING in statuses:
        stage = RunStage.WAITING
    else:
        stage = RunStage.PARTIAL if RequestStatus.FAILED in statuses else RunStage.COMPLETE
    if stage != run.stage:
        run.stage = stage
        run.save(update_fields=["stage", "updated_at"])


def certification_request_apply(
    body: dict[str, Any], sender: ExchangeNode, files: dict[str, Path] | None = None
) -> CertificationAssistance:
    """A partner's request: its encodings (one Parquet file, or an older node's chunk of JSON records)
    checked as a whole and queued for comparison with our rosters once the message's transaction
    commits (``certification_assist``). Another group key or malformed encodings raise
    ``ValidationError``: the message is rejected with the reason, and the requester's run fails for us."""
    chunk, checks, attempt = body["chunk"], list(dict.fromkeys(body["checks"])), _attempt(body)
    if body["key"] != encodings.key_fingerprint():
        raise ValidationError("比对密钥不一致：双方的区域组比对密钥不同，请核对 XIETONG_GROUP_KEY")
    path = (files or {}).get(ENCODINGS_FILE)
    records = body.get("records") or []
    with tempfile.TemporaryDirectory(prefix="xietong-request-") as folder:
        try:
            if path is not None:
                checked, keep = encodings.checked_file(path, Path(folder))
            else:
                checked = encodings.from_wire(body.get("records")).num_rows
        except encodings.EncodingError as exc:
            raise ValidationError(f"编码记录有误：{exc}") from exc
        assistance, created = CertificationAssistance.objects.get_or_create(
            requester=sender.node_id,
            run_uid=body["run"],
            attempt=attempt,
            chunk=chunk,
            defaults={
                "requester_name": sender.name,
                "checks": checks,
                "roster_kind": body["roster_kind"],
                "records": [] if path is not None else records,
                "checked": checked,
            },
        )
        if created and path is not None:  # kept until compared: the exchange's blob folder is not ours
            with keep.open("rb") as handle:
                assistance.encodings.save(f"{secrets.token_hex(8)}.parquet", File(handle), save=True)
    if created:
        audit.record(
            AuditAction.RECEIVE,
            target=assistance,
            detail={"from": sender.node_id, "records": assistance.checked},
        )
        job_enqueue(job=assistance)
    return assistance


def _evidence(kind: str, entry: RosterEntry, reason: str) -> str:
    when = entry.event_date.isoformat() if entry.event_date else "未登记"
    if kind == FindingKind.FRAUD_SUSPECTED:
        return f"死亡登记：死亡日期 {when}；{reason}"[:300]
    return f"正在领取{BENEFIT_NAMES[entry.roster.kind]}：起始日期 {when}；{reason}"[:300]


def _request_file(assistance: CertificationAssistance, stack: contextlib.ExitStack) -> Path:
    """The requester's encodings as a file the engine reads in place: the one kept at receipt, or an
    older node's JSON records (checked as they are read) written out."""
    if assistance.encodings:
        (path,) = stack.enter_context(encodings.local_paths([assistance.encodings]))
        return path
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="xietong-assist-")))
    return encodings.write_table(encodings.from_wire(assistance.records), folder / ENCODINGS_FILE)


def _found(findings: dict[tuple[str, str], dict[str, Any]], kind: str, pairs: list[encodings.Pair]) -> None:
    """Add the pairs of one check to ``findings``: the best pair for each of the requester's records,
    with the evidence our entry gives (its entries read in one query)."""
    matched = RosterEntry.objects.select_related("roster").order_by()
    entries: dict[str, RosterEntry] = {}
    for part in bulk.where_in(matched, "pk", sorted({int(p.right) for p in pairs}), sql_type="bigint"):
        entries.update((str(entry.pk), entry) for entry in part)
    for pair in pairs:
        best = findings.get((pair.left, kind))
        if best is None or pair.score > best["score"]:
            findings[(pair.left, kind)] = {
                "ref": pair.left, "kind": kind, "score": round(pair.score, 4),
                "evidence": _evidence(kind, entries[pair.right], pair.reason),
            }  # fmt: skip


def certification_assist(*, job: CertificationAssistance) -> CertificationAssistance:
    """Compare a requester's encodings with our current rosters and send back the findings (or the
    reason we could not compare, so the requester's run does not wait for ever): the runner of
    ``CertificationAssistance`` (``xietong.core.jobs``), called with the job ``running``. The findings
    travel as one Parquet file when the request came as a file, in the body for an older node's JSON
    chunk. A comparison that fails ends the job ``failed`` with the reason, once the requester has it."""
    assistance = job
    job_progress(job=assistance, phase=_("正在比对"))
    findings: dict[tuple[str, str], dict[str, Any]] = {}
    error = ""
    try:
        with contextlib.ExitStack() as stack:
            left = _request_file(assistance, stack)
            for kind in assistance.checks:
                wanted = RosterKind.DEATH if kind == FindingKind.FRAUD_SUSPECTED else assistance.roster_kind
                with encodings.local_paths(encodings.current_roster_files(wanted)) as ours:
                    pairs = encodings.compare(left, ours)
                _found(findings, kind, pairs)
    except Exception as exc:  # any failure is reported to the requester, not swallowed
        logger.exception("certification comparison failed")
        error = f"对方比对失败：{exc}"[:300]
    with transaction.atomic():
        _answer(assistance, list(findings.values()), error)
        done = _("已比对并答复：核查%(checked)s人，发现%(findings)s条") % {
            "checked": assistance.checked, "findings": len(findings),
        }  # fmt: skip
        job_transition(
            job=assistance, to=JobStatus.FAILED if error else JobStatus.DONE, message=error or done
        )
    return assistance


def certification_assist_abandoned(*, job: CertificationAssistance) -> None:
    """A comparison whose worker died more often than it may be queued again (``xietong.core.jobs``):
    the requester is told we could not compare, so its run ends and its officer can send again."""
    _answer(job, [], _("对方比对进程多次中断，未能完成比对，请稍后重新发送"))
    job.save()


def _answer(assistance: CertificationAssistance, findings: list[dict[str, Any]], error: str) -> None:
    """Send the requester our findings (or why we could not compare) and let go of its encodings:
    one Parquet file when the request came as one, in the body for an older node's JSON chunk; the
    idempotency key makes a second answer to the same attempt a no-op. The caller saves the job."""
    body = {
        "run": assistance.run_uid, "attempt": assistance.attempt, "chunk": assistance.chunk,
        "checked": 0 if error else assistance.checked, "findings": findings, "error": error,
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="xietong-findings-") as folder:
        if assistance.encodings:  # a file for a file: however many findings, one small message
            path = _findings_file(findings, Path(folder) / FINDINGS_FILE)
            exchange.send(
                to=assistance.requester, kind="certification.findings", body={**body, "findings": []},
                idempotency_key=(
                    f"certification.findings:{assistance.run_uid}:{assistance.attempt}:{assistance.chunk}"
                ),
                files={FINDINGS_FILE: path},
            )  # fmt: skip
            storage, name = assistance.encodings.storage, str(assistance.encodings.name)
            assistance.encodings = None  # clears the FileField
            transaction.on_commit(lambda: storage.delete(name))
        else:
            exchange.send(
                to=assistance.requester, kind="certification.findings", body=body,
                idempotency_key=f"certification.findings:{assistance.run_uid}:{assistance.chunk}",
            )  # fmt: skip
    assistance.findings, assistance.records = len(findings), []
    if error:
        assistance.checked = 0


FINDING_COLUMNS = ("ref", "kind", "score", "evidence")


def _findings_file(items: list[dict[str, Any]], path: Path) -> Path:
    """Findings as a Parquet file of ``FINDING_COLUMNS``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [("ref", pa.string()), ("kind", pa.string()), ("score", pa.float64()), ("evidence", pa.string())]
    )
    pq.write_table(pa.Table.from_pylist(items, schema=schema), path)
    return path


def _findings_read(path: Path) -> list[dict[str, Any]]:
    """The findings of a received file, every column checked as a whole as ``FindingItemSerializer``
    checks one JSON item (``ValidationError`` naming the first bad row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        table = encodings.read_table(path)
    except encodings.EncodingError as exc:
        raise ValidationError(f"发现文件有误：{exc}") from exc
    missing = [column for column in FINDING_COLUMNS if column not in table.column_names]
    if missing:
        raise ValidationError(f"发现文件缺少列 {'、'.join(missing)}")
    try:
        ref, kind, evidence = (table[c].cast(pa.string()) for c in ("ref", "kind", "evidence"))
        score = table["score"].cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValidationError(f"发现文件的列类型不对：{exc}") from None
    problems = (
        (pc.and_kleene(pc.is_valid(ref), pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(ref)), 0)), "ref"),
        (pc.less_equal(pc.utf8_length(ref), 64), "ref"),
        (pc.is_in(kind, value_set=pa.array(FindingKind.values, pa.string())), "kind"),
        (pc.and_(pc.greater_equal(score, 0), pc.less_equal(score, 1)), "score"),
        (pc.is_valid(evidence), "evidence"),
    )
    for good, column in problems:
        bad = encodings.first_row(pc.invert(good))
        if bad:
            raise ValidationError(f"发现文件第{bad}行有误：{column} 的值不合要求")
    checked = {"ref": pc.utf8_trim_whitespace(ref), "kind": kind, "score": score, "evidence": evidence}
    return pa.table(checked).to_pylist()


def certification_findings_apply(
    body: dict[str, Any], sender: ExchangeNode, files: dict[str, Path] | None = None
) -> CertificationRequest:
    """A partner's answer (findings in a Parquet file, or in the body from an older node): its
    findings join the run (dismissed ones stay away) and the partner's request is answered, or fails
    with the partner's ``error``. Costs what the answer carries: the entries it names are read in
    one query, and the dismissals of those people only (issue 13 §7). An answer to an earlier
    attempt is ignored (the request was sent again)."""
    run = EligibilityCheck.objects.filter(uid=body["run"]).select_related("roster").first()
    if run is None:
        raise ValidationError(f"没有认证批次 {body['run']}")
    request = run.requests.select_for_update().filter(partner=sender.node_id).first()
    if request is None:
        raise ValidationError(f"认证批次 {run.uid} 没有发给节点 {sender.node_id}")
    chunk, checked = body["chunk"], body["checked"]
    if chunk > max(request.chunks, 1):
        raise ValidationError(f"chunk 应为 1 到 {max(request.chunks, 1)} 之间的整数")
    if checked > run.records:
        raise ValidationError(f"checked 应为 0 到 {run.records} 之间的整数")
    if _attempt(body) != request.attempt or chunk in request.answered:
        return request
    items = list(body["findings"])
    if (files or {}).get(FINDINGS_FILE):
        items += _findings_read(files[FINDINGS_FILE])  # type: ignore[index]
    entries = _named_entries(run, items)
    dismissed: set[tuple[str, str]] = set()
    dismissals = FindingDismissal.objects.filter(partner=sender.node_id).order_by()
    for part in bulk.where_in(dismissals, "person_key", sorted({e.person_key for e in entries.values()})):
        dismissed.update(part.values_list("person_key", "kind"))
    known: set[tuple[int, str]] = set()
    ours = CertificationFinding.objects.filter(run=run, partner=sender.node_id).order_by()
    for part in bulk.where_in(ours, "entry_id", [entry.pk for entry in entries.values()], sql_type="bigint"):
        known.update(part.values_list("entry_id", "kind"))
    new = {}
    for item in items:
        entry = entries[item["ref"]]
        if (entry.person_key, item["kind"]) in dismissed or (entry.pk, item["kind"]) in known:
            continue
        new[(entry.pk, item["kind"])] = CertificationFinding(
            run=run, entry=entry, partner=sender.node_id, partner_name=sender.name, kind=item["kind"],
            evidence=item["evidence"][:300], score=item["score"],
        )  # fmt: skip
    CertificationFinding.objects.bulk_create(new.values(), batch_size=2000)
    created = len(new)
    earlier = confirmed_same_person(run=run, partner=sender.node_id, entries=[f.entry for f in new.values()])
    for finding in new.values():
        decided = earlier.get((finding.entry.person_key, finding.kind))
        if decided is not None:
            _adopt_confirmation(finding, decided)
    request.answered = sorted([*request.answered, chunk])
    request.checked += checked
    request.findings += created
    if body.get("error"):
        request.error = body["error"][:300]
        request.status = RequestStatus.FAILED
    if request.complete:
        request.answered_at = timezone.now()
        if request.status == RequestStatus.WAITING:
            request.status = RequestStatus.ANSWERED
    request.save()
    _settle_run(run)
    if created:  # the officers of the run's office hear once per run and partner (issue 12 §2)
        notify(
            kind="insurance.findings",
            key=f"insurance.eligibilitycheck:{run.pk}:{sender.node_id}",
            perm="insurance.change_certificationfinding",
            organization=run.organization,
            text=_("认证批次 %(run)s 收到%(partner)s的比对发现，请核实")
            % {"run": run.uid, "partner": sender.name},
            link=reverse("insurance:run_detail", args=[run.pk]) + "?status=open",
        )
    audit.record(
        AuditAction.RECEIVE, target=run, detail={"from": sender.node_id, "chunk": chunk, "findings": created}
    )
    return request


def _named_entries(run: EligibilityCheck, items: list[dict[str, Any]]) -> dict[str, RosterEntry]:
    """The run's entries the findings name, by reference, read in one query (a few on SQLite);
    ``ValidationError`` for a finding about a record not in the run or of a check it did not ask."""
    wanted = sorted({int(item["ref"]) for item in items if item["ref"].isdigit()})
    entries: dict[str, RosterEntry] = {}
    for part in bulk.where_in(run.roster.entries.order_by(), "pk", wanted, sql_type="bigint"):
        entries.update((str(entry.pk), entry) for entry in part)
    for item in items:
        if item["ref"] not in entries:
            raise ValidationError(f"发现中的记录 {item['ref']} 不属于本批次")
        if item["kind"] not in run.checks:
            raise ValidationError(f"发现类别“{item['kind']}”不是本批次的核查内容")
        entries[item["ref"]].roster = run.roster  # the person key names the office: no query per entry
    return entries


def _adopt_confirmation(finding: CertificationFinding, earlier: CertificationFinding) -> None:
    """A new finding about a person whose same finding was confirmed (``earlier``) in another run of
    the office arrives decided: the confirmation holds (who, when, in which run), and the entry is
    suspended."""
    before = finding.snapshot()
    finding.status = FindingStatus.CONFIRMED
    finding.decided_by, finding.decided_at = earlier.decided_by, earlier.decided_at
    finding.note = earlier.note
    finding.decided_in = earlier.decided_in or earlier.run
    finding.save()
    audit.record(
        AuditAction.STATUS, target=finding, before=before, after=finding.snapshot(),
        detail={"finding": earlier.pk, "decided_in": finding.decided_in.uid},
    )  # fmt: skip
    _suspend(finding.entry, finding=finding, acting_user=None)


def _suspend(entry: RosterEntry, *, finding: CertificationFinding, acting_user: User | None) -> None:
    """Flag the entry's payment as suspended (once), audited with the finding that caused it."""
    if entry.suspended_at is not None:
        return
    before = entry.snapshot()
    entry.suspended_at = timezone.now()
    entry.save(update_fields=["suspended_at", "updated_at"])
    audit.record(
        AuditAction.STATUS, target=entry, acting_user=acting_user, before=before, after=entry.snapshot(),
        detail={"finding": finding.pk, "reason": finding.get_kind_display()},
    )  # fmt: skip


def _resume(entry: RosterEntry, *, finding: CertificationFinding, acting_user: User) -> None:
    """Lift the suspension an overridden confirmation caused, unless another confirmed finding
    about the entry still stands."""
    if entry.suspended_at is None or entry.findings.filter(status=FindingStatus.CONFIRMED).exists():
        return
    before = entry.snapshot()
    entry.suspended_at = None
    entry.save(update_fields=["suspended_at", "updated_at"])
    audit.record(
        AuditAction.STATUS, target=entry, acting_user=acting_user, before=before, after=entry.snapshot(),
        detail={"finding": finding.pk, "override": finding.override_reason},
    )  # fmt: skip


def _decide(
    finding: CertificationFinding, *, to: str, note: str, override_reason: str, acting_user: User
) -> CertificationFinding:
    """Decide ``finding`` and, with it, every finding about the same person from the same partner
    and of the same kind in the office's other runs (``selectors.same_person_findings``).

    Why propagation in the action rather than a separate decision record: the findings themselves
    are what officers, letters, exports and the API read, so each one carries the decision (who, when,
    the note, and ``decided_in``, the run where it was made) and nothing can list a person as 待核实 in
    one run while another run has decided. ``FindingDismissal`` stays the memory that keeps a
    dismissed finding from being reported again by later answers. A decision contrary to one already
    taken (in this run or another) is refused unless ``override_reason`` is given: the override is
    stored on each finding it changes and audited (``detail.override``); overriding a confirmation
    lifts the suspension, overriding a dismissal forgets it and suspends the payment.
    """
    group = list(same_person_findings(finding).select_for_update(of=("self",)).order_by("pk"))
    override_reason = override_reason.strip()[:300]
    contrary = [f for f in group if f.status not in (FindingStatus.OPEN, to)]
    if finding.status == to:
        raise ValidationError(_("该发现已是“%(status)s”") % {"status": finding.get_status_display()})
    if contrary and not override_reason:
        first = next((f for f in contrary if f.pk == finding.pk), contrary[0])
        where = first.decided_in or first.run
        raise ValidationError(
            _(
                "%(name)s 已在认证批次“%(run)s”由%(who)s于%(when)s%(status)s；"
                "作出相反决定须选择“改判”并说明改判理由"
            )
            % {
                "name": first.entry.name, "run": where, "who": first.decided_by or _("系统"),
                "when": f"{timezone.localtime(first.decided_at):%Y-%m-%d %H:%M}" if first.decided_at else "",
                "status": first.get_status_display().split("，")[0],
            }
        )  # fmt: skip
    now = timezone.now()
    for item in group:
        if item.status == to:
            continue
        before = item.snapshot()
        overridden = item.status != FindingStatus.OPEN
        item.note = note.strip()[:300]
        item.decided_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
        item.decided_at = now
        item.decided_in = finding.run
        item.override_reason = override_reason if overridden else item.override_reason
        detail: dict[str, Any] = {"decided_in": finding.run.uid}
        if item.pk != finding.pk:
            detail["finding"] = finding.pk
        if overridden:
            detail["override"] = override_reason
        move_audited(item, to=to, acting_user=acting_user, before=before, detail=detail)
        if to == FindingStatus.CONFIRMED:
            _suspend(item.entry, finding=item, acting_user=acting_user)
        elif overridden:
            _resume(item.entry, finding=item, acting_user=acting_user)
    entry = finding.entry
    if to == FindingStatus.DISMISSED:
        FindingDismissal.objects.get_or_create(
            person_key=entry.person_key, partner=finding.partner, kind=finding.kind,
            defaults={"organization": finding.run.organization, "finding": finding},
        )  # fmt: skip
    else:
        FindingDismissal.objects.filter(
            person_key=entry.person_key, partner=finding.partner, kind=finding.kind
        ).delete()
    finding.refresh_from_db()
    return finding


@transaction.atomic
def finding_confirm(
    *, finding: CertificationFinding, note: str = "", override_reason: str = "", acting_user: User
) -> CertificationFinding:
    """Confirm a finding, in this run and the office's other runs: the recipient's payment is flagged
    as suspended (a letter can be printed). Against an earlier dismissal only with ``override_reason``."""
    return _decide(
        finding, to=FindingStatus.CONFIRMED, note=note, override_reason=override_reason,
        acting_user=acting_user,
    )  # fmt: skip


@transaction.atomic
def finding_dismiss(
    *, finding: CertificationFinding, note: str, override_reason: str = "", acting_user: User
) -> CertificationFinding:
    """Dismiss a finding with a reason, in this run and the office's other runs; the same person,
    partner and kind will not be reported again. Against a confirmation only with ``override_reason``."""
    if not note.strip():
        raise ValidationError({"note": "排除须说明理由（如：本人已到窗口认证）"})
    return _decide(
        finding, to=FindingStatus.DISMISSED, note=note, override_reason=override_reason,
        acting_user=acting_user,
    )  # fmt: skip


@transaction.atomic
def findings_decide_bulk(
    *, findings: list[CertificationFinding], decision: str, note: str, override_reason: str = "",
    acting_user: User,
) -> int:  # fmt: skip
    """Confirm or dismiss several findings at once (all or none), each as ``finding_confirm`` /
    ``finding_dismiss`` would, in every run; returns how many."""
    decide = {"confirm": finding_confirm, "dismiss": finding_dismiss}.get(decision)
    if decide is None:
        raise ValidationError("请选择确认或排除")
    if not findings:
        raise ValidationError("请先勾选要处理的发现")
    for finding in findings:
        finding.refresh_from_db()  # an earlier one of the batch may have decided it already
        if finding.status == (FindingStatus.CONFIRMED if decision == "confirm" else FindingStatus.DISMISSED):
            continue
        decide(finding=finding, note=note, override_reason=override_reason, acting_user=acting_user)
    return len(findings)


def finding_letter(*, finding: CertificationFinding, acting_user: User) -> bytes:
    """The PDF letter telling a recipient that payment is suspended and how to be certified again."""
    from ..printing import suspension_letter
    from ..selectors import suspension_letter as letter_content

    if finding.status != FindingStatus.CONFIRMED:
        raise ValidationError("只有已确认的发现可以打印告知书")
    audit.record(AuditAction.EXPORT, target=finding, acting_user=acting_user, detail={"letter": True})
    return suspension_letter(letter_content(finding))

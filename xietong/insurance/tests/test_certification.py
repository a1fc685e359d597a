"""Benefit eligibility certification: roster imports, a run's encodings as they leave, a partner's
comparison with its own rosters, findings as they arrive, decisions, letters and figures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from xietong.core.choices import JobStatus
from xietong.core.models import AuditEvent, Organization
from xietong.core.testing import clerk, make_org
from xietong.exchange import actions as exchange_actions
from xietong.exchange import blobs
from xietong.exchange.choices import FileState, MessageStatus
from xietong.exchange.models import ExchangeMessage
from xietong.exchange.testing import receive_and_apply
from xietong.lib import idnumber

from .. import actions, encodings, selectors
from ..actions.certification import ENCODINGS_FILE, FINDINGS_FILE, _findings_file
from ..choices import FindingKind, FindingStatus, RequestStatus, RosterKind, RunStage
from ..models import (
    BenefitRoster,
    CertificationAssistance,
    CertificationFinding,
    EligibilityCheck,
    RosterEntry,
)
from .conftest import Peer


def ident(body: str) -> str:
    """A valid 18-digit ID number from its first 17 digits."""
    return body + idnumber.check_digit(body)


WANG = ident("11010519480307002")
ZHANG = ident("11010819520915003")
LI = ident("11010119600101004")

PENSIONERS = f"""人员编号,姓名,公民身份号码,待遇起始日期
P001,王秀英,{WANG},2008-04-01
P002,張建國,{ZHANG},2012-10-01
P003,李娜,{LI},2020-02-01
"""


HEAD = "人员编号,姓名,公民身份号码"
DEATH_HEAD = f"{HEAD},死亡日期"


def upload(text: str, name: str = "roster.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def import_roster(
    org: Organization, text: str, *, kind: str = RosterKind.PENSION, **kw: Any
) -> BenefitRoster:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the import is queued on commit
        roster = actions.roster_import_start(
            organization=org, kind=kind, title=kw.pop("title", ""), uploaded=upload(text, **kw),
            mapping={}, acting_user=None,
        )  # fmt: skip
    roster.refresh_from_db()
    return roster


@pytest.fixture
def bureau(db: Any) -> Organization:
    return make_org("bj-rs", kind="hrss_bureau")


def test_a_roster_is_stored_encrypted_and_masked_with_traditional_names_simplified(
    bureau: Organization,
) -> None:
    from django.core.files.storage import default_storage

    def stored() -> set[str]:
        return set(default_storage.listdir("rosters")[1]) if default_storage.exists("rosters") else set()

    before = stored()
    roster = import_roster(bureau, PENSIONERS, title="北京市养老金领取人员2026年11月")
    assert roster.status == JobStatus.DONE, roster.message
    assert (roster.processed_rows, roster.total_rows, roster.finished_at is not None) == (3, 3, True)
    assert roster.message == "导入完成：3人"
    entries = {e.record_id: e for e in roster.entries.all()}
    assert entries["P002"].name == "张建国"
    assert entries["P001"].id_number_masked == "110105********" + WANG[-4:]
    assert WANG not in entries["P001"].id_number_cipher
    assert str(entries["P001"].birth_date) == "1948-03-07"
    assert str(entries["P003"].event_date) == "2020-02-01"
    assert not roster.file  # the clear-text upload is gone once the rows are stored
    assert stored() == before


def test_a_newer_roster_of_the_same_kind_supersedes_the_older_one(bureau: Organization) -> None:
    old = import_roster(bureau, PENSIONERS)
    new = import_roster(bureau, PENSIONERS)
    old.refresh_from_db()
    assert old.superseded and not new.superseded


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("姓名,年龄\n王秀英,78\n", RosterKind.PENSION, "找不到记录号列"),
        (f"{DEATH_HEAD}\nD1,王秀英,{WANG},2025-13-45\n", RosterKind.DEATH, "第2行：日期“2025-13-45”无法识别"),
        (f"{HEAD}\nD1,王秀英,{WANG}\n", RosterKind.DEATH, "第2行：死亡登记缺少死亡日期"),
        (f"{HEAD}\nP1,王秀英,110105194803070\n", RosterKind.PENSION, "第2行：身份证号码无效或缺失"),
        (f"{HEAD}\nP1,王秀英,{WANG}\nP1,李娜,{LI}\n", RosterKind.PENSION, "记录号“P1”重复"),
    ],
)  # fmt: skip
def test_a_roster_in_the_wrong_format_is_refused_and_nothing_is_stored(
    bureau: Organization, text: str, kind: str, expected: str
) -> None:
    roster = import_roster(bureau, text, kind=kind)
    assert roster.status == JobStatus.FAILED and roster.finished_at is not None
    assert expected in roster.message
    assert not RosterEntry.objects.exists()


def start_run(bureau: Organization, peer: Peer, **kw: Any) -> EligibilityCheck:
    roster = import_roster(bureau, PENSIONERS)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the sending is queued on commit
        run = actions.certification_run_start(
            roster=roster, partners=["tj"], acting_user=clerk(),
            checks=kw.pop("checks", [FindingKind.FRAUD_SUSPECTED, FindingKind.DUPLICATE]),
        )  # fmt: skip
    run.refresh_from_db()
    return run


def sent_file(message: ExchangeMessage, name: str = ENCODINGS_FILE) -> Path:
    """The file an outgoing message carries, as the exchange keeps it for upload."""
    assert [entry["name"] for entry in message.manifest] == [name]
    return blobs.file_path(message, name)


def sent_refs(roster: BenefitRoster) -> set[str]:
    """The references of the records a run of ``roster`` would send."""
    with encodings.run_file(roster) as path:
        return set(encodings.read_table(path)["record_id"].to_pylist())


def test_a_run_sends_one_file_of_encodings_per_partner_and_never_a_name_or_id_number(
    bureau: Organization, peer: Peer
) -> None:
    run = start_run(bureau, peer)
    # The run's job ends once the requests are in the outbox; the run waits for the partner.
    assert (run.status, run.stage, run.records, run.chunks) == (JobStatus.DONE, RunStage.WAITING, 3, 1)
    assert (run.status_label, run.polling, run.percent, run.progress_line) == (
        "等待对方比对", True, 0, "对方已答复 0 / 1 个节点",
    )  # fmt: skip
    message = ExchangeMessage.objects.get(kind="certification.request")
    assert (message.receiver, message.idempotency_key) == ("tj", f"certification.request:{run.uid}:1:1")
    assert message.body["key"] == encodings.key_fingerprint() and "records" not in message.body
    path = sent_file(message)
    table = encodings.check_table(encodings.read_table(path))
    refs = {str(pk) for pk in run.roster.entries.values_list("pk", flat=True)}
    assert set(table["record_id"].to_pylist()) == refs
    wire = json.dumps(message.body, ensure_ascii=False).encode() + path.read_bytes()
    for secret in (WANG, ZHANG, LI, WANG[:14], "王秀英", "张建国", "張建國", "1948-03-07"):
        assert secret.encode() not in wire
    assert run.requests.get().status == RequestStatus.WAITING


def test_a_roster_is_encoded_once_at_import_and_again_only_under_another_key(
    bureau: Organization, peer: Peer, settings: Any, monkeypatch: Any
) -> None:
    from xietong.core import pii

    roster = import_roster(bureau, PENSIONERS)
    assert roster.encodings and roster.encodings_key == encodings.key_fingerprint()
    calls: list[int] = []
    real = encodings.encode_entries

    def counted(entries: Any) -> Any:
        calls.append(1)
        return real(entries)

    monkeypatch.setattr(encodings, "encode_entries", counted)
    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.certification_run_start(
            roster=roster, partners=["tj"], checks=["duplicate"], acting_user=clerk()
        )
    assert calls == []  # the run re-used the stored encodings
    # Wang's payment is suspended: he is left out by reference, nothing encoded again.
    RosterEntry.objects.filter(roster=roster, record_id="P001").update(suspended_at=roster.created_at)
    assert sent_refs(roster) == {str(e.pk) for e in roster.entries.exclude(record_id="P001")} and calls == []
    settings.XIETONG_GROUP_KEY = "YW5vdGhlci1ncm91cC1rZXktZm9yLXRlc3RzLTAxMjM"
    pii.reset_caches()
    try:
        assert len(sent_refs(roster)) == 2 and calls == [1]
        roster.refresh_from_db()
        assert roster.encodings_key == encodings.key_fingerprint()
        sent_refs(roster)
        assert calls == [1]  # stored again under the new key
    finally:
        pii.reset_caches()


def test_a_death_roster_cannot_be_certified_and_partners_must_be_known(
    bureau: Organization, peer: Peer
) -> None:
    deaths = import_roster(
        bureau, f"人员编号,姓名,公民身份号码,死亡日期\nD1,王秀英,{WANG},2025-03-02\n", kind=RosterKind.DEATH
    )
    with pytest.raises(ValidationError, match="死亡登记名册不作资格认证"):
        actions.certification_run_start(
            roster=deaths, partners=["tj"], checks=["duplicate"], acting_user=clerk()
        )
    pensions = import_roster(bureau, PENSIONERS)
    with pytest.raises(ValidationError, match="sh不在名册中"):
        actions.certification_run_start(
            roster=pensions, partners=["sh"], checks=["duplicate"], acting_user=clerk()
        )


def deliver_with_file(peer: Peer, kind: str, body: dict[str, Any], name: str, data: bytes) -> ExchangeMessage:
    """Tianjin's message carrying one file, delivered and its file arrived (as the upload would
    leave it), then applied as the exchange applies it."""
    manifest = [{"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}]
    content = {**peer.message(kind, body), "files": manifest}
    assert exchange_actions.receive(peer.deliver_bytes(content)).status == 200
    message = ExchangeMessage.objects.get(direction="in", message_id=content["id"])
    path = blobs.file_path(message, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    message.transfers.update(state=FileState.COMPLETE, received=len(data))
    exchange_actions.apply_due()
    message.refresh_from_db()
    return message


def findings_from_tj(
    peer: Peer, run: EligibilityCheck, chunk: int, items: list[dict[str, Any]], *, attempt: int = 1,
    error: str = "", legacy: bool = False,
) -> ExchangeMessage:  # fmt: skip
    """Tianjin's answer: its findings in a Parquet file (``legacy``: in the body, as an older node
    answers a chunk)."""
    body = {"run": run.uid, "chunk": chunk, "checked": 0 if error else 3, "findings": [], "error": error}
    if legacy:
        receive_and_apply(
            peer.deliver_bytes(peer.message("certification.findings", {**body, "findings": items}))
        )
        return ExchangeMessage.objects.filter(direction="in").latest("seq")
    folder = blobs.blob_dir() / "made"
    folder.mkdir(parents=True, exist_ok=True)
    data = _findings_file(items, folder / FINDINGS_FILE).read_bytes()
    return deliver_with_file(
        peer, "certification.findings", {**body, "attempt": attempt}, FINDINGS_FILE, data
    )


def entry_of(run: EligibilityCheck, record_id: str) -> RosterEntry:
    return run.roster.entries.get(record_id=record_id)


def test_findings_arrive_in_a_file_and_the_run_completes(bureau: Organization, peer: Peer) -> None:
    run = start_run(bureau, peer)
    wang = entry_of(run, "P001")
    message = findings_from_tj(
        peer, run, 1,
        [{"ref": str(wang.pk), "kind": "fraud_suspected", "score": 1.0, "evidence": "死亡日期 2025-03-02"}],
    )  # fmt: skip
    assert message.status == MessageStatus.APPLIED, message.reason
    run.refresh_from_db()
    assert (run.status, run.stage, run.status_label, run.polling, run.percent) == (
        JobStatus.DONE, RunStage.COMPLETE, "比对完成", False, 100,
    )  # fmt: skip
    finding = CertificationFinding.objects.get()
    assert (finding.entry, finding.kind, finding.partner_name, finding.status) == (
        wang, FindingKind.FRAUD_SUSPECTED, "天津节点", FindingStatus.OPEN,
    )  # fmt: skip
    request = run.requests.get()
    assert (request.status, request.checked, request.findings) == (RequestStatus.ANSWERED, 3, 1)


def test_an_older_nodes_findings_in_the_body_still_count(bureau: Organization, peer: Peer) -> None:
    run = start_run(bureau, peer)
    item = {"ref": str(entry_of(run, "P002").pk), "kind": "duplicate", "score": 0.97, "evidence": "同项"}
    assert findings_from_tj(peer, run, 1, [item], legacy=True).status == MessageStatus.APPLIED
    run.refresh_from_db()
    assert run.stage == RunStage.COMPLETE and run.findings.count() == 1


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"score": 1.5}, "第2行有误：score"),
        ({"kind": "other"}, "第2行有误：kind"),
        ({"ref": " "}, "第2行有误：ref"),
    ],
)
def test_a_findings_file_with_a_bad_row_is_rejected_naming_the_row(
    bureau: Organization, peer: Peer, bad: dict[str, Any], says: str
) -> None:
    run = start_run(bureau, peer)
    good = {"ref": str(entry_of(run, "P001").pk), "kind": "duplicate", "score": 0.99, "evidence": "同项"}
    message = findings_from_tj(peer, run, 1, [good, {**good, "ref": str(entry_of(run, "P002").pk), **bad}])
    assert message.status == MessageStatus.REJECTED and says in message.reason, message.reason
    assert not CertificationFinding.objects.exists()
    run.refresh_from_db()
    assert run.stage == RunStage.WAITING


def test_findings_for_an_unknown_run_or_record_are_rejected_and_change_nothing(
    bureau: Organization, peer: Peer
) -> None:
    run = start_run(bureau, peer)
    message = findings_from_tj(
        peer, run, 1, [{"ref": "999999", "kind": "duplicate", "score": 0.9, "evidence": "x"}]
    )
    assert message.status == MessageStatus.REJECTED
    assert "不属于本批次" in message.reason
    assert not CertificationFinding.objects.exists()
    raw = peer.deliver_bytes(
        peer.message("certification.findings", {"run": "f" * 32, "chunk": 1, "checked": 0, "findings": []})
    )
    receive_and_apply(raw)
    latest = ExchangeMessage.objects.filter(kind="certification.findings").latest("seq")
    assert "没有认证批次" in latest.reason


def test_a_confirmed_finding_suspends_payment_and_prints_a_letter(bureau: Organization, peer: Peer) -> None:
    run = start_run(bureau, peer)
    wang = entry_of(run, "P001")
    findings_from_tj(
        peer, run, 1, [{"ref": str(wang.pk), "kind": "fraud_suspected", "score": 1.0, "evidence": "死亡"}]
    )
    finding = CertificationFinding.objects.get()
    with pytest.raises(ValidationError, match="只有已确认的发现"):
        actions.finding_letter(finding=finding, acting_user=clerk())
    actions.finding_confirm(finding=finding, note="电话核实家属，确已去世", acting_user=clerk())
    wang.refresh_from_db()
    assert wang.suspended_at is not None
    letter = actions.finding_letter(finding=finding, acting_user=clerk())
    assert letter.startswith(b"%PDF")
    events = AuditEvent.objects.filter(target_type="insurance.certificationfinding").values_list(
        "action", flat=True
    )
    assert set(events) >= {"status", "export"}
    with pytest.raises(ValidationError, match="须选择“改判”"):
        actions.finding_dismiss(finding=finding, note="改判", acting_user=clerk())


def test_a_dismissed_finding_does_not_come_back_in_a_later_run(bureau: Organization, peer: Peer) -> None:
    first = start_run(bureau, peer, checks=["duplicate"])
    item = {"kind": "duplicate", "score": 0.97, "evidence": "正在领取养老保险待遇"}
    findings_from_tj(peer, first, 1, [{**item, "ref": str(entry_of(first, "P002").pk)}])
    with pytest.raises(ValidationError):
        actions.finding_dismiss(finding=CertificationFinding.objects.get(), note=" ", acting_user=clerk())
    actions.finding_dismiss(
        finding=CertificationFinding.objects.get(), note="同名不同人，已核对", acting_user=clerk()
    )
    second = start_run(bureau, peer, checks=["duplicate"])  # a new roster: the same person, another row
    findings_from_tj(peer, second, 1, [{**item, "ref": str(entry_of(second, "P002").pk)}])
    assert second.findings.count() == 0
    second.refresh_from_db()
    assert second.stage == RunStage.COMPLETE


def test_bulk_decisions_are_all_or_nothing(bureau: Organization, peer: Peer) -> None:
    run = start_run(bureau, peer, checks=["duplicate"])
    items = [
        {"ref": str(entry_of(run, r).pk), "kind": "duplicate", "score": 0.99, "evidence": "同项待遇"}
        for r in ("P001", "P003")
    ]
    findings_from_tj(peer, run, 1, items)
    both = list(CertificationFinding.objects.all())
    actions.finding_confirm(finding=both[0], acting_user=clerk())
    with pytest.raises(ValidationError):
        actions.findings_decide_bulk(findings=both, decision="dismiss", note="已核实", acting_user=clerk())
    assert CertificationFinding.objects.filter(status=FindingStatus.DISMISSED).count() == 0
    assert (
        actions.findings_decide_bulk(
            findings=both[1:], decision="dismiss", note="已核实", acting_user=clerk()
        )
        == 1
    )


# This node as the partner: a request from Tianjin compared with our death and pension rosters.

DEATHS = f"""人员编号,姓名,公民身份号码,死亡日期
D001,王秀英,{WANG},2025-03-02
D002,陈桂兰,{ident("11010219400505006")},2024-11-30
"""


def request_from_tj(
    peer: Peer, records: list[dict[str, Any]] | bytes, *, key: str | None = None, attempt: int = 1
) -> ExchangeMessage:
    """Tianjin's request: its encodings as a Parquet file (bytes), or JSON ``records`` as an older
    node sends them in chunks."""
    body = {
        "run": "a" * 32, "chunk": 1, "chunks": 1, "checks": ["fraud_suspected", "duplicate"],
        "roster_kind": "pension", "key": key or encodings.key_fingerprint(),
    }  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):  # the comparison is queued on commit
        if isinstance(records, bytes):
            body["attempt"] = attempt
            return deliver_with_file(peer, "certification.request", body, ENCODINGS_FILE, records)
        receive_and_apply(
            peer.deliver_bytes(peer.message("certification.request", {**body, "records": records}))
        )
    return ExchangeMessage.objects.filter(direction="in").latest("seq")


def parquet(table: Any) -> bytes:
    import io

    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def tianjin_pensioners() -> tuple[Any, dict[str, str]]:
    """Tianjin's pensioners, encoded with the group key (made here from a roster of another office,
    then deleted: only the encodings travel), and their refs by record number."""
    theirs = import_roster(make_org("tj-rs", kind="hrss_bureau"), PENSIONERS)
    table = encodings.encode_entries(theirs.entries.order_by("pk"))
    refs = {e.record_id: str(e.pk) for e in theirs.entries.all()}
    theirs.delete()
    return table, refs


def test_as_partner_we_compare_a_file_and_answer_with_a_file_of_findings(peer: Peer) -> None:
    ours = make_org("bj-rs", kind="hrss_bureau")
    import_roster(ours, DEATHS, kind=RosterKind.DEATH)
    import_roster(ours, f"人员编号,姓名,公民身份号码,待遇起始日期\nB9,李娜,{LI},2019-05-01\n")
    table, refs = tianjin_pensioners()
    assert request_from_tj(peer, parquet(table)).status == MessageStatus.APPLIED
    assistance = CertificationAssistance.objects.get()
    assert (assistance.checked, assistance.findings, assistance.attempt) == (3, 2, 1)
    assert assistance.status == JobStatus.DONE and not assistance.encodings  # compared, then removed
    answer = ExchangeMessage.objects.get(kind="certification.findings", receiver="tj")
    assert answer.idempotency_key == f"certification.findings:{'a' * 32}:1:1"
    assert (answer.body["findings"], answer.body["checked"], answer.body["attempt"]) == ([], 3, 1)
    rows = encodings.read_table(sent_file(answer, FINDINGS_FILE)).to_pylist()
    found = {(f["ref"], f["kind"]): f for f in rows}
    # 王秀英 died here in 2025; 李娜 draws a pension here as well; 张建国 is unknown here.
    assert set(found) == {(refs["P001"], "fraud_suspected"), (refs["P003"], "duplicate")}
    assert found[(refs["P001"], "fraud_suspected")]["evidence"].startswith("死亡登记：死亡日期 2025-03-02")


def test_a_comparison_whose_worker_died_starts_over_and_then_the_requester_is_told(
    peer: Peer, settings: Any
) -> None:
    import subprocess
    import sys

    from django_tasks_db.models import DBTaskResult

    from xietong.core import jobs

    import_roster(make_org("bj-rs", kind="hrss_bureau"), DEATHS, kind=RosterKind.DEATH)
    table, _refs = tianjin_pensioners()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # a worker claims it
    assert request_from_tj(peer, parquet(table)).status == MessageStatus.APPLIED
    assistance = CertificationAssistance.objects.get()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead = f"{jobs.worker_id().split(':')[0]}:{int(ended.stdout)}:abcd"  # a worker that has ended

    def worker_dies() -> None:
        DBTaskResult.objects.filter(status="READY").get().claim(dead)
        jobs.job_transition(job=assistance, to=JobStatus.RUNNING)
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert jobs.jobs_fail_abandoned() == 1
        assistance.refresh_from_db()

    for tries in (1, 2):  # a restart in the middle of a comparison: it starts over
        worker_dies()
        assert (assistance.status, assistance.message) == (
            JobStatus.QUEUED,
            f"后台处理进程中断，已重新排队（第{tries}次）",
        )
        assert not ExchangeMessage.objects.filter(kind="certification.findings").exists()
    worker_dies()  # the third time it fails, and Tianjin hears why, so its run ends
    assert assistance.status == JobStatus.FAILED and not assistance.encodings
    answer = ExchangeMessage.objects.get(kind="certification.findings", receiver="tj")
    assert "多次中断" in answer.body["error"] and answer.body["checked"] == 0


def test_as_partner_we_still_answer_an_older_nodes_json_chunk(peer: Peer) -> None:
    ours = make_org("bj-rs", kind="hrss_bureau")
    import_roster(ours, DEATHS, kind=RosterKind.DEATH)
    table, refs = tianjin_pensioners()
    request_from_tj(peer, encodings.to_wire(table))
    answer = ExchangeMessage.objects.get(kind="certification.findings", receiver="tj")
    assert not answer.manifest and answer.idempotency_key == f"certification.findings:{'a' * 32}:1"
    assert [(f["ref"], f["kind"]) for f in answer.body["findings"]] == [(refs["P001"], "fraud_suspected")]
    assert "王秀英" not in json.dumps(answer.body, ensure_ascii=False)


def test_a_request_made_with_another_key_is_rejected_with_the_reason(peer: Peer) -> None:
    table, _refs = tianjin_pensioners()
    message = request_from_tj(peer, parquet(table), key="0123456789abcdef")
    assert message.status == MessageStatus.REJECTED
    assert "比对密钥不一致" in message.reason
    assert not CertificationAssistance.objects.exists()


def test_malformed_encodings_are_rejected_naming_the_record(peer: Peer) -> None:
    import pyarrow as pa

    table, _refs = tianjin_pensioners()
    blooms = table["id_bloom"].to_pylist()
    blooms[1] = b"short"
    bad = table.set_column(table.column_names.index("id_bloom"), "id_bloom", pa.array(blooms, pa.binary()))
    message = request_from_tj(peer, parquet(bad))
    assert "第2条记录的 id_bloom 长度应为128字节" in message.reason
    refs = table["record_id"].to_pylist()
    twice = table.set_column(0, "record_id", pa.array([refs[0], refs[1], refs[0]], pa.string()))
    assert "ref 重复" in request_from_tj(peer, parquet(twice)).reason
    assert "不是可读的 Parquet" in request_from_tj(peer, b"not parquet").reason
    assert "缺少列 id_hmac" in request_from_tj(peer, parquet(table.drop(["id_hmac"]))).reason
    legacy = request_from_tj(
        peer, [{"ref": "1", "id_hmac": "0" * 32}, {"ref": "2", "id_bloom": "not base64!"}]
    )
    assert "第2条记录的 id_bloom 不是 base64" in legacy.reason
    assert not CertificationAssistance.objects.exists()


def test_figures_count_people_checked_findings_confirmed_and_help_given(
    bureau: Organization, peer: Peer
) -> None:
    run = start_run(bureau, peer)
    wang = entry_of(run, "P001")
    findings_from_tj(
        peer, run, 1, [{"ref": str(wang.pk), "kind": "fraud_suspected", "score": 1.0, "evidence": "死亡"}]
    )
    actions.finding_confirm(finding=CertificationFinding.objects.get(), acting_user=clerk())
    from xietong.core.models import User

    admin = User.objects.create_superuser("root", password="x-test-password-1")
    rows = {(f.region, f.year): f for f in selectors.certification_figures(user=admin)}
    year = run.created_at.year
    mine = rows[("北京市", year)]
    assert (mine.checked, mine.findings, mine.confirmed) == (3, 1, 1)
    assert rows[("天津市", year)].assisted == 3


def test_a_node_without_the_group_key_says_so_and_sends_nothing(
    bureau: Organization, peer: Peer, settings: Any, tmp_path: Any
) -> None:
    from xietong.core import pii

    settings.XIETONG_GROUP_KEY = ""
    settings.XIETONG_GROUP_KEY_FILE = tmp_path / "group-match.key"
    settings.XIETONG_HUB_NODE_ID = "sh"  # not the hub: it must be given the hub's key
    pii.reset_caches()
    try:
        run = start_run(bureau, peer)
    finally:
        pii.reset_caches()
    assert run.status == JobStatus.FAILED and "未配置区域组比对密钥" in run.message
    assert (run.stage, run.status_label) == ("", "未能发起")
    assert not ExchangeMessage.objects.filter(kind="certification.request").exists()


# A decision in one run holds in every run (issue 17, defect 4).


def two_runs_with_zhang(
    bureau: Organization, peer: Peer
) -> tuple[CertificationFinding, CertificationFinding]:
    """Two runs (two imports of the same roster) in which Tianjin found 張建國 drawing a pension."""
    found = []
    for _ in range(2):
        run = start_run(bureau, peer, checks=["duplicate"])
        item = {"ref": str(entry_of(run, "P002").pk), "kind": "duplicate", "score": 0.97, "evidence": "同项"}
        findings_from_tj(peer, run, 1, [item])
        found.append(run.findings.get())
    return found[0], found[1]


def test_a_dismissal_in_one_run_shows_in_the_other_and_a_confirmation_there_needs_an_override(
    bureau: Organization, peer: Peer
) -> None:
    first, second = two_runs_with_zhang(bureau, peer)
    officer = clerk()
    actions.finding_dismiss(finding=second, note="本人已到窗口认证", acting_user=officer)
    first.refresh_from_db()
    assert (first.status, first.decided_in, first.note) == (
        FindingStatus.DISMISSED, second.run, "本人已到窗口认证",
    )  # fmt: skip
    with pytest.raises(ValidationError, match=r"已在认证批次.*排除.*改判"):
        actions.finding_confirm(finding=first, note="", acting_user=officer)
    first.entry.refresh_from_db()
    assert first.entry.suspended_at is None
    # An explicit override with a reason: both runs now say confirmed, payment suspended, audited.
    actions.finding_confirm(
        finding=first, note="对方复核确认", override_reason="对方地区提供了新的领取记录", acting_user=officer
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (FindingStatus.CONFIRMED, FindingStatus.CONFIRMED)
    assert (first.override_reason, second.decided_in) == ("对方地区提供了新的领取记录", first.run)
    second.entry.refresh_from_db()
    assert second.entry.suspended_at is not None
    changes = AuditEvent.objects.filter(target_type="insurance.certificationfinding").values_list(
        "changes", flat=True
    )
    assert any(c.get("detail", {}).get("override") == "对方地区提供了新的领取记录" for c in changes)


def test_a_confirmation_in_one_run_confirms_the_other_and_a_dismissal_needs_an_override(
    bureau: Organization, peer: Peer
) -> None:
    first, second = two_runs_with_zhang(bureau, peer)
    actions.finding_confirm(finding=first, note="电话核实", acting_user=clerk())
    second.refresh_from_db()
    second.entry.refresh_from_db()
    assert (second.status, second.decided_in, second.entry.suspended_at is not None) == (
        FindingStatus.CONFIRMED, first.run, True,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="改判"):
        actions.findings_decide_bulk(
            findings=[second], decision="dismiss", note="同名不同人", acting_user=clerk()
        )
    actions.findings_decide_bulk(
        findings=[second], decision="dismiss", note="同名不同人", override_reason="已到窗口认证本人健在",
        acting_user=clerk(),
    )  # fmt: skip
    first.refresh_from_db()
    first.entry.refresh_from_db()
    assert (first.status, first.entry.suspended_at) == (FindingStatus.DISMISSED, None)


# Letters and figures a citizen and a director can read (issue 17, defect 9).


def test_the_letter_names_the_partner_regions_authority_never_a_node(
    bureau: Organization, peer: Peer
) -> None:
    from ..printing import letter_text

    run = start_run(bureau, peer)
    wang = entry_of(run, "P001")
    findings_from_tj(
        peer, run, 1, [{"ref": str(wang.pk), "kind": "fraud_suspected", "score": 1.0, "evidence": "死亡"}]
    )
    finding = actions.finding_confirm(finding=CertificationFinding.objects.get(), acting_user=clerk())
    text = letter_text(selectors.suspension_letter(finding))
    assert "经与天津市人力资源和社会保障局信息比对" in text
    assert "节点" not in text
    assert (selectors.hrss_authority("130000"), selectors.hrss_authority("130100")) == (
        "河北省人力资源和社会保障厅", "河北省人力资源和社会保障厅",
    )  # fmt: skip
    peer.node.region_code = ""
    peer.node.save()
    assert "节点" not in letter_text(selectors.suspension_letter(finding))


def test_figures_name_regions_not_nodes(bureau: Organization, peer: Peer) -> None:
    from xietong.core.models import User

    run = start_run(bureau, peer)
    findings_from_tj(peer, run, 1, [])
    admin = User.objects.create_superuser("root", password="x-test-password-1")
    regions = {f.region for f in selectors.certification_figures(user=admin)}
    assert regions == {"北京市", "天津市"}


# Findings cost what the answer carries (issue 13 §7): the entries it names, in one query.


def roster_of(count: int) -> str:
    rows = "".join(f"P{i:05d},王秀英,{ident(f'11010519480307{i:03d}')},2008-04-01\n" for i in range(count))
    return f"人员编号,姓名,公民身份号码,待遇起始日期\n{rows}"


def queries_to_apply(bureau: Organization, peer: Peer, people: int, named: int = 2) -> tuple[int, int]:
    """Queries made and roster entries loaded to apply an answer naming ``named`` people."""
    from django.db import connection
    from django.db.models.signals import post_init
    from django.test.utils import CaptureQueriesContext

    roster = import_roster(bureau, roster_of(people))
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = actions.certification_run_start(
            roster=roster, partners=["tj"], checks=["duplicate"], acting_user=clerk()
        )
    refs = list(roster.entries.order_by("pk").values_list("pk", flat=True)[:named])
    items = [{"ref": str(pk), "kind": "duplicate", "score": 0.99, "evidence": "同项"} for pk in refs]
    folder = blobs.blob_dir() / "made"
    folder.mkdir(parents=True, exist_ok=True)
    path = _findings_file(items, folder / FINDINGS_FILE)
    body = {"run": run.uid, "attempt": 1, "chunk": 1, "checked": people, "findings": [], "error": ""}
    loaded: list[int] = []

    def count(sender: Any, **kwargs: Any) -> None:
        loaded.append(1)

    post_init.connect(count, sender=RosterEntry)
    try:
        with CaptureQueriesContext(connection) as queries:
            actions.certification_findings_apply(body, peer.node, {FINDINGS_FILE: path})
    finally:
        post_init.disconnect(count, sender=RosterEntry)
    assert run.findings.count() == named
    return len(queries), len(loaded)


def test_applying_findings_costs_what_they_carry_not_what_the_roster_holds(
    bureau: Organization, peer: Peer
) -> None:
    small = queries_to_apply(bureau, peer, 5)
    large = queries_to_apply(make_org("bj-rs2", kind="hrss_bureau"), peer, 400)
    assert small == large and large[1] == 2  # the two entries named, never the whole roster


def test_applying_many_findings_takes_as_many_queries_as_a_few(bureau: Organization, peer: Peer) -> None:
    few = queries_to_apply(bureau, peer, 60, named=2)
    many = queries_to_apply(make_org("bj-rs2", kind="hrss_bureau"), peer, 60, named=50)
    assert few[0] == many[0] and many[1] == 50  # written together, not a query (or two) per finding


def test_a_refusal_fails_the_current_attempt_only(bureau: Organization, peer: Peer) -> None:
    run = start_run(bureau, peer)
    other = actions.certification_request_refused({"run": run.uid, "attempt": 2}, "旧", "tj")
    assert other is not None and other.status == RequestStatus.WAITING  # not the attempt sent: no change
    request = actions.certification_request_refused({"run": run.uid, "attempt": 1}, "密钥不同", "tj")
    assert request is not None
    run.refresh_from_db()
    assert (request.status, request.error, run.stage, run.status_label) == (
        RequestStatus.FAILED, "密钥不同", RunStage.PARTIAL, "部分完成",
    )  # fmt: skip
    assert actions.certification_request_refused({"run": "x" * 32}, "?", "tj") is None


def test_the_import_encodes_what_it_read_as_a_later_encoding_of_the_stored_entries_would(
    bureau: Organization,
) -> None:
    roster = import_roster(bureau, PENSIONERS)
    with encodings.local_paths([encodings.roster_file(roster)]) as (path,):
        stored = encodings.read_table(path)
    again = encodings.encode_entries(roster.entries.order_by("pk"))
    assert stored.sort_by("record_id").equals(again.sort_by("record_id"))


def test_a_run_to_two_partners_ends_partial_when_one_refuses_and_completes_after_a_resend(
    bureau: Organization, peer: Peer
) -> None:
    from xietong.exchange import actions as exchange_node_actions
    from xietong.lib import crypto

    private, public = crypto.generate_signing_key()
    hebei = Peer(
        exchange_node_actions.node_register(
            node_id="hb", name="河北节点", endpoint="http://127.0.0.1:8003", public_key=public,
            region_code="130000", acting_user=None,
        ),
        private,
    )  # fmt: skip
    roster = import_roster(bureau, PENSIONERS)
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = actions.certification_run_start(
            roster=roster, partners=["tj", "hb"], checks=["duplicate"], acting_user=clerk()
        )
    sent = ExchangeMessage.objects.filter(kind="certification.request")
    assert sorted(sent.values_list("receiver", flat=True)) == ["hb", "tj"]  # both at once, one file each
    findings_from_tj(peer, run, 1, [])  # Tianjin answers
    run.refresh_from_db()
    assert (run.stage, run.progress_line) == (RunStage.WAITING, "对方已答复 1 / 2 个节点")
    # Hebei holds another group key and refuses (what its signed acknowledgement says).
    sent.filter(receiver="hb").update(status=MessageStatus.REFUSED, reason="比对密钥不一致")
    actions.certification_run_check(run=run)
    assert (run.stage, run.status_label, run.polling) == (RunStage.PARTIAL, "部分完成", False)
    states = dict(run.requests.values_list("partner", "status"))
    assert states == {"tj": RequestStatus.ANSWERED, "hb": RequestStatus.FAILED}
    actions.certification_request_resend(request=run.requests.get(partner="hb"), acting_user=clerk())
    run.refresh_from_db()
    assert run.stage == RunStage.WAITING
    findings_from_tj(hebei, run, 1, [], attempt=2)  # Hebei, now with the group's key, answers
    run.refresh_from_db()
    assert (run.stage, run.progress_line) == (RunStage.COMPLETE, "对方已答复 2 / 2 个节点")

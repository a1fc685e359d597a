"""Files carried by exchange messages (ADR 017): the manifest signed in the message, the upload in
signed chunks that resumes, the receiver's checks (each refusal logged with its reason, nothing
applied, nothing half-written left) and the handler that gets the files."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from xietong import exchange
from xietong.core import pii
from xietong.core.testing import client_for, make_user

from .. import actions, blobs, selectors
from ..choices import FileState, MessageStatus
from ..models import ExchangeMessage, MessageFile, RefusedDelivery
from .conftest import Peer

KIND = "test.bundle"
RECEIVED: list[dict[str, Any]] = []
KB = 1024


class BundleSerializer(serializers.Serializer[Any]):
    note = serializers.CharField()


@exchange.handles(KIND, body=BundleSerializer, files=True)
def bundle_received(data: dict[str, Any], sender: Any, files: dict[str, Path]) -> None:
    RECEIVED.append(
        {"note": data["note"], "sender": sender.node_id, **{n: p.read_bytes() for n, p in files.items()}}
    )


@exchange.handles("test.plain", body=BundleSerializer)
def plain_received(data: dict[str, Any], sender: Any) -> None:
    """A kind that takes no files."""


@pytest.fixture(autouse=True)
def blob_settings(settings: Any, tmp_path: Path) -> Any:
    """A blob folder of the test's own, 1 KB chunks, three tries per file."""
    RECEIVED.clear()
    settings.XIETONG_EXCHANGE_BLOB_DIR = tmp_path / "blobs"
    settings.XIETONG_EXCHANGE_CHUNK_MB = 1 / 1024
    settings.XIETONG_EXCHANGE_FILE_ATTEMPTS = 3
    return settings


def entry(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def parts() -> list[Path]:
    return list(blobs.blob_dir().rglob("*.part"))


# The receiving side: the test plays the peer "tj" sending to this node -------------------------------


def announce(peer: Peer, client: Client, files: list[dict[str, Any]], kind: str = KIND) -> str:
    """Deliver a message naming ``files``; its id."""
    content = {**peer.message(kind, {"note": "名册"}), "files": files}
    answer = client.post(
        reverse("exchange:inbox"), peer.deliver_bytes(content), content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    actions.apply_due()  # the worker's pass: a message waiting for files stays waiting
    return str(content["id"])


def upload(
    peer: Peer, client: Client, message_id: str, name: str, data: bytes = b"", *, offset: int = 0,
    method: str = "POST", sha: str | None = None,
) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """One upload request signed with the peer's key."""
    sent_at = timezone.now().isoformat()
    digest = sha or hashlib.sha256(data).hexdigest()
    offset = -1 if method == "GET" else offset
    signature = actions.file_signature(
        peer.private_key, method=method, message_id=message_id, name=name, offset=offset,
        digest=digest, sent_at=sent_at,
    )  # fmt: skip
    headers = {
        "X-Xietong-Sender": "tj", "X-Xietong-Offset": str(offset), "X-Xietong-Sha256": digest,
        "X-Xietong-Sent-At": sent_at, "X-Xietong-Signature": signature,
    }  # fmt: skip
    url = reverse("exchange:file_transfer", args=[message_id, name])
    answer = client.generic(method, url, data, content_type="application/octet-stream", headers=headers)
    actions.apply_due()  # the worker's pass after each request: applies once every file is here
    return answer.status_code, json.loads(answer.content)


def incoming(message_id: str) -> ExchangeMessage:
    return ExchangeMessage.objects.get(direction="in", message_id=message_id)


def reasons() -> list[str]:
    return list(RefusedDelivery.objects.order_by("id").values_list("reason", flat=True))


def test_a_message_waits_for_its_file_and_the_handler_gets_it(peer: Peer, client: Client) -> None:
    data = bytes(range(256)) * 6  # 1536 bytes: two chunks
    message_id = announce(peer, client, [entry("roster.parquet", data)])
    message = incoming(message_id)
    assert message.status == MessageStatus.WAITING and not blobs.files_ready(message)
    assert upload(peer, client, message_id, "roster.parquet", data[:KB]) == (
        200,
        {"received": KB, "complete": False},
    )
    assert RECEIVED == []  # not applied before every file has arrived
    assert upload(peer, client, message_id, "roster.parquet", method="GET")[1]["received"] == KB
    status, answer = upload(peer, client, message_id, "roster.parquet", data[KB:], offset=KB)
    assert status == 200 and answer == {"received": len(data), "complete": True}
    message.refresh_from_db()
    assert message.status == MessageStatus.APPLIED and blobs.files_ready(message)
    assert [{"note": "名册", "sender": "tj", "roster.parquet": data}] == RECEIVED
    assert blobs.message_files(message)["roster.parquet"].read_bytes() == data
    assert parts() == []


def test_a_chunk_sent_again_replaces_the_bytes_from_its_offset(peer: Peer, client: Client) -> None:
    data = b"x" * 1500
    message_id = announce(peer, client, [entry("a.bin", data)])
    upload(peer, client, message_id, "a.bin", data[:KB])
    # the sender never got the answer and sends the same chunk again: nothing is doubled
    assert upload(peer, client, message_id, "a.bin", data[:KB])[1]["received"] == KB
    assert upload(peer, client, message_id, "a.bin", data[KB:], offset=KB)[1]["complete"] is True
    assert RECEIVED[0]["a.bin"] == data


def test_a_file_renamed_before_a_crash_is_recorded_when_the_sender_asks(peer: Peer, client: Client) -> None:
    data = b"r" * 1500
    message_id = announce(peer, client, [entry("a.bin", data)])
    path = blobs.file_path(incoming(message_id), "a.bin")
    path.parent.mkdir(parents=True)
    path.write_bytes(data)  # the node stopped between the rename and its commit
    status, answer = upload(peer, client, message_id, "a.bin", method="GET")
    assert (status, answer) == (200, {"received": 1500, "complete": True})
    assert incoming(message_id).status == MessageStatus.APPLIED and RECEIVED[0]["a.bin"] == data


def test_a_file_whose_hash_does_not_match_is_deleted_and_restarted(peer: Peer, client: Client) -> None:
    message_id = announce(peer, client, [entry("a.bin", b"the declared content")])
    status, answer = upload(peer, client, message_id, "a.bin", b"another content here")  # same size
    assert status == 409 and answer["restart"] is True and answer["received"] == 0
    assert "SHA-256 与清单不符" in reasons()[-1]
    assert incoming(message_id).status == MessageStatus.WAITING and RECEIVED == []
    assert parts() == [] and not blobs.file_path(incoming(message_id), "a.bin").exists()
    assert MessageFile.objects.get(message__direction="in").last_error.startswith("文件 a.bin 的 SHA-256")


def test_a_file_over_the_limit_rejects_the_message(peer: Peer, client: Client, settings: Any) -> None:
    settings.XIETONG_EXCHANGE_MAX_FILE_MB = 1 / 1024
    message_id = announce(peer, client, [entry("big.bin", b"y" * 2000)])
    message = incoming(message_id)
    assert (
        message.status == MessageStatus.REJECTED and "超过本节点的上限 1024 字节：big.bin" in message.reason
    )
    status, answer = upload(peer, client, message_id, "big.bin", b"y" * KB)
    assert status == 409 and "不再接收文件" in answer["error"]
    assert RECEIVED == [] and parts() == []


def test_more_bytes_than_declared_are_refused_and_the_part_removed(peer: Peer, client: Client) -> None:
    message_id = announce(peer, client, [entry("a.bin", b"z" * 1200)])
    upload(peer, client, message_id, "a.bin", b"z" * KB)
    status, answer = upload(peer, client, message_id, "a.bin", b"z" * KB, offset=KB)
    assert status == 409 and answer["restart"] is True
    assert "超过清单声明的 1200 字节" in reasons()[-1] and parts() == []


@pytest.mark.parametrize(
    ("message_id", "name", "offset", "status", "reason"),
    [
        ("f" * 32, "a.bin", 0, 404, "未知消息"),
        (None, "b.bin", 0, 404, "文件 b.bin 不在消息清单中"),
        (None, "a.bin", 500, 409, "偏移 500 超出已收到的 0 字节"),
    ],
)
def test_uploads_that_do_not_fit_are_refused_with_the_reason(
    peer: Peer, client: Client, message_id: str | None, name: str, offset: int, status: int, reason: str
) -> None:
    known = announce(peer, client, [entry("a.bin", b"a" * 800)])
    answer = upload(peer, client, message_id or known, name, b"a" * 100, offset=offset)
    assert answer[0] == status and reason in answer[1]["error"] and reason in reasons()[-1]
    assert RECEIVED == [] and parts() == []


def test_an_upload_not_signed_by_the_sender_is_refused(peer: Peer, client: Client) -> None:
    message_id = announce(peer, client, [entry("a.bin", b"a" * 10)])
    status, answer = upload(peer, client, message_id, "a.bin", b"a" * 10, sha="0" * 64)
    assert status == 400 and "分块内容与签名的摘要不符" in answer["error"]
    peer.private_key = pii.node_signing_key()  # another node's key
    status, answer = upload(peer, client, message_id, "a.bin", b"a" * 10)
    assert status == 403 and "上传请求的签名无效" in answer["error"]
    assert RECEIVED == [] and parts() == []


def test_a_second_delivery_of_a_complete_file_rewrites_nothing(peer: Peer, client: Client) -> None:
    message_id = announce(peer, client, [entry("a.bin", b"a" * 10), entry("b.bin", b"b" * 10)])
    upload(peer, client, message_id, "a.bin", b"a" * 10)
    path = blobs.file_path(incoming(message_id), "a.bin")
    before = path.stat().st_mtime_ns
    status, answer = upload(peer, client, message_id, "a.bin", b"a" * 10)
    assert status == 200 and answer["complete"] is True and "已完整收到，不再重写" in reasons()[-1]
    assert path.stat().st_mtime_ns == before and RECEIVED == []  # b.bin still missing
    upload(peer, client, message_id, "b.bin", b"b" * 10)
    assert [sorted(item) for item in RECEIVED] == [["a.bin", "b.bin", "note", "sender"]]


def test_files_that_never_arrive_reject_the_message_and_leave_nothing(peer: Peer, client: Client) -> None:
    message_id = announce(peer, client, [entry("a.bin", b"t" * 1500)])
    upload(peer, client, message_id, "a.bin", b"t" * KB)  # truncated: the rest never comes
    assert actions.files_expire() == 0
    assert actions.files_expire(now=timezone.now() + dt.timedelta(hours=73)) == 1
    message = incoming(message_id)
    assert message.status == MessageStatus.REJECTED and "72 小时内未全部到达：a.bin" in message.reason
    assert "未全部到达" in reasons()[-1] and RECEIVED == []
    assert parts() == [] and not blobs.message_dir("in", message_id).exists()
    assert upload(peer, client, message_id, "a.bin", b"t" * KB, offset=KB)[0] == 409


def test_a_full_disk_gives_a_clear_error_and_removes_the_part(peer: Peer, client: Client) -> None:
    message_id = announce(peer, client, [entry("a.bin", b"d" * 1500)])
    upload(peer, client, message_id, "a.bin", b"d" * KB)
    with mock.patch("xietong.exchange.blobs.os.write", side_effect=OSError(errno.ENOSPC, "No space left")):
        status, answer = upload(peer, client, message_id, "a.bin", b"d" * 476, offset=KB)
    assert status == 507 and "磁盘空间不足" in answer["error"] and answer["restart"] is True
    assert "磁盘空间不足" in reasons()[-1] and parts() == [] and RECEIVED == []


def test_files_to_a_kind_that_takes_none_reject_the_message(peer: Peer, client: Client) -> None:
    message = incoming(announce(peer, client, [entry("a.bin", b"a")], kind="test.plain"))
    assert message.status == MessageStatus.REJECTED and "此类消息不接收文件" in message.reason


# The sending side: a loopback peer ("tj" is this node under another id, through the real views) ------


@pytest.fixture
def loopback(peer: Peer, client: Client) -> Any:
    """The peer "tj" registered with this node's key: requests to it are answered by this node's own
    views acting as "tj", so the whole path (send, deliver, upload, apply) runs in one process."""
    actions.node_register(
        node_id="tj", name="天津节点", endpoint="http://tj.test", public_key=pii.node_public_key(),
        acting_user=None,
    )  # fmt: skip
    calls: list[tuple[str, int]] = []

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        with override_settings(XIETONG_NODE_ID="tj"):
            answer = client.post(url.removeprefix("http://tj.test"), body, content_type="application/json")
            actions.apply_due()  # "tj"'s worker
        return answer.status_code, answer.content

    def http(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        calls.append((method, int(headers["X-Xietong-Offset"])))
        with override_settings(XIETONG_NODE_ID="tj"):
            answer = client.generic(
                method, url.removeprefix("http://tj.test"), body, content_type="application/octet-stream",
                headers=headers,
            )  # fmt: skip
            actions.apply_due()  # "tj"'s worker
        return answer.status_code, answer.content

    http.calls = calls  # type: ignore[attr-defined]
    return post, http


def send_source(tmp_path: Path, data: bytes = b"data") -> Path:
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    return source


def send_file(tmp_path: Path, data: bytes, name: str = "roster.parquet") -> ExchangeMessage:
    source = send_source(tmp_path, data)
    return exchange.send(to="tj", kind=KIND, body={"note": "名册"}, idempotency_key="k", files={name: source})


def test_a_sent_file_arrives_and_the_handler_gets_it(loopback: Any, tmp_path: Path) -> None:
    post, http = loopback
    data = b"0123456789" * 300
    message = send_file(tmp_path, data)
    assert message.manifest == [entry("roster.parquet", data)]
    assert message.content()["files"] == message.manifest  # signed and hash-chained
    report = actions.deliver_due(post=post, http=http)
    assert report.delivered == 1 and report.files == 1 and report.failed == 0
    message.refresh_from_db()
    assert message.status == MessageStatus.ACKED
    sent = MessageFile.objects.get(message=message)
    assert sent.state == FileState.COMPLETE and sent.received == len(data)
    assert [method for method, _ in http.calls] == ["GET", "POST", "POST", "POST"]
    assert [{"note": "名册", "sender": "bj", "roster.parquet": data}] == RECEIVED
    assert incoming(message.message_id).status == MessageStatus.APPLIED
    assert selectors.verify_log()[1] == []
    assert actions.deliver_due(post=post, http=http).files == 0  # nothing left


def test_an_empty_file_arrives_too(loopback: Any, tmp_path: Path) -> None:
    post, http = loopback
    send_file(tmp_path, b"")
    assert actions.deliver_due(post=post, http=http).files == 1
    assert RECEIVED[0]["roster.parquet"] == b""


def test_a_chunk_bigger_than_djangos_upload_limit_is_read_from_the_stream(
    loopback: Any, tmp_path: Path, settings: Any
) -> None:
    post, http = loopback
    settings.XIETONG_EXCHANGE_CHUNK_MB = 4
    data = bytes(range(256)) * 12 * KB  # 3 MB, over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    assert len(data) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    send_file(tmp_path, data)
    assert actions.deliver_due(post=post, http=http).files == 1
    assert RECEIVED[0]["roster.parquet"] == data and http.calls == [("GET", -1), ("POST", 0)]


def test_a_message_the_peer_rejects_uploads_no_files(loopback: Any, tmp_path: Path, settings: Any) -> None:
    post, http = loopback
    message = exchange.send(
        to="tj", kind="test.unknown", body={}, idempotency_key="u", files={"a.bin": send_source(tmp_path)}
    )
    actions.deliver_due(post=post, http=http)
    message.refresh_from_db()
    assert message.status == MessageStatus.REFUSED and "本节点不处理此类消息" in message.reason
    assert MessageFile.objects.get(message=message).state == FileState.FAILED and http.calls == []


def test_an_upload_broken_mid_file_resumes_where_the_receiver_stands(loopback: Any, tmp_path: Path) -> None:
    post, http = loopback
    data = bytes(range(256)) * 10  # 2560 bytes: three chunks
    message = send_file(tmp_path, data)

    def breaking(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if method == "POST" and headers["X-Xietong-Offset"] != "0":
            raise ConnectionResetError("Connection reset by peer")
        return http(method, url, body, headers)

    report = actions.deliver_due(post=post, http=breaking)
    assert report.failed == 1 and "reset" in report.errors["tj"]
    sent = MessageFile.objects.get(message=message)
    assert sent.state == FileState.PENDING and sent.received == KB and "reset" in sent.last_error
    assert blobs.held(incoming(message.message_id), "roster.parquet") == KB  # the receiver kept it
    # the sending node restarts and has lost its own progress: it asks the receiver and goes on
    MessageFile.objects.filter(pk=sent.pk).update(received=0, next_attempt_at=None)
    http.calls.clear()
    assert actions.deliver_due(post=post, http=http).files == 1
    assert http.calls == [("GET", -1), ("POST", KB), ("POST", 2 * KB)]
    assert RECEIVED[0]["roster.parquet"] == data and parts() == []


def test_a_file_refused_again_and_again_fails_its_message(loopback: Any, tmp_path: Path) -> None:
    post, http = loopback
    message = send_file(tmp_path, b"c" * 100)
    blobs.file_path(message, "roster.parquet").write_bytes(b"C" * 100)  # corrupted in the blob folder
    actions.deliver_due(post=post, http=http)
    for _attempt in range(2):
        MessageFile.objects.filter(message=message).update(next_attempt_at=None)
        actions.deliver_due(post=post, http=http)
    message.refresh_from_db()
    sent = MessageFile.objects.get(message=message)
    assert sent.attempts == 3 and sent.state == FileState.FAILED
    assert message.status == MessageStatus.FAILED and "SHA-256 与清单不符" in message.reason
    assert RECEIVED == [] and parts() == []
    assert incoming(message.message_id).status == MessageStatus.WAITING  # until the wait runs out


def test_send_refuses_a_file_over_the_limit(peer: Peer, tmp_path: Path, settings: Any) -> None:
    settings.XIETONG_EXCHANGE_MAX_FILE_MB = 1 / 1024
    with pytest.raises(ValidationError, match="超过本节点的上限 1024 字节"):
        send_file(tmp_path, b"x" * 2000)
    assert not ExchangeMessage.objects.exists() and not list(blobs.blob_dir().rglob("*"))


def test_send_on_a_full_disk_says_so_and_leaves_nothing(peer: Peer, tmp_path: Path) -> None:
    full = OSError(errno.ENOSPC, "No space left on device")
    refused = pytest.raises(ValidationError, match="无法保存待发送的文件：磁盘空间不足")
    with mock.patch("xietong.exchange.blobs.os.replace", side_effect=full), refused:
        send_file(tmp_path, b"x" * 10)
    assert not ExchangeMessage.objects.exists() and not list(blobs.blob_dir().rglob("*.*"))


def test_an_oversized_upload_request_is_refused_at_the_door(peer: Peer, client: Client) -> None:
    message_id = announce(peer, client, [entry("a.bin", b"a" * 10)])
    url = reverse("exchange:file_transfer", args=[message_id, "a.bin"])
    answer = client.generic(
        "POST", url, b"a" * 10, content_type="application/octet-stream", CONTENT_LENGTH=str(65 * 1024 * KB)
    )
    assert answer.status_code == 400 and "上传分块过大" in reasons()[-1] and parts() == []


def test_messages_without_files_keep_their_hash(peer: Peer) -> None:
    message = exchange.send(to="tj", kind="arrears.listed", body={"uid": "a"}, idempotency_key="a")
    assert "files" not in message.content() and message.manifest == []
    assert selectors.verify_log()[1] == []


def test_prune_removes_a_messages_files(loopback: Any, tmp_path: Path) -> None:
    post, http = loopback
    message = send_file(tmp_path, b"p" * 10)
    actions.deliver_due(post=post, http=http)
    received = incoming(message.message_id)
    blobs.prune(received)
    blobs.prune(message)
    assert not list(blobs.blob_dir().rglob("*.*"))
    assert selectors.verify_log()[1] == []  # the hashes stay


def test_the_operator_page_shows_each_files_progress_and_error(peer: Peer, client: Client) -> None:
    message_id = announce(peer, client, [entry("a.bin", b"o" * 1500)])
    upload(peer, client, message_id, "a.bin", b"o" * KB)
    upload(peer, client, message_id, "a.bin", b"o" * 100, offset=2000)
    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert "a.bin" in page and "1024 / 1500" in page
    assert 'data-testid="file-error">偏移 2000 超出已收到的 1024 字节' in page


def test_the_sweep_removes_files_no_transfer_will_finish(peer: Peer, client: Client, tmp_path: Path) -> None:
    orphan = blobs.message_dir("out", "0" * 32)  # a send whose transaction rolled back
    orphan.mkdir(parents=True)
    (orphan / "a.bin").write_bytes(b"a")
    message_id = announce(peer, client, [entry("a.bin", b"s" * 1500)])
    upload(peer, client, message_id, "a.bin", b"s" * KB)
    assert blobs.sweep(older_than_seconds=0) == 1  # the orphan folder
    assert not orphan.exists() and len(parts()) == 1  # the message still waits: its part stays
    ExchangeMessage.objects.filter(message_id=message_id).update(status=MessageStatus.REJECTED)
    assert blobs.sweep(older_than_seconds=0) == 1 and parts() == []

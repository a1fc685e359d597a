"""Retention of the message log (issue 13 §5): finished messages lose their body and files after
``XIETONG_EXCHANGE_RETENTION_DAYS``, keep their hash, link and signature, and the chain still
verifies; a message not yet that old, or not finished, keeps everything."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from xietong import exchange

from .. import actions, blobs, selectors
from ..choices import FileState, MessageStatus
from ..models import ExchangeMessage, MessageFile
from . import test_files
from .conftest import Peer
from .test_files import KIND, announce, entry, incoming, send_file

# The fixtures of the file tests: a blob folder of the test's own, and a loopback peer.
blob_settings, loopback = test_files.blob_settings, test_files.loopback
pytestmark = pytest.mark.usefixtures("blob_settings")


def later(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def exchanged(loopback: Any, tmp_path: Path) -> ExchangeMessage:
    """A message with a file and one without, sent to the loopback peer and applied there: four
    rows in the log (two out, two in), all finished now; the one with the file."""
    post, http = loopback
    with_file = send_file(tmp_path, b"f" * 3000)
    exchange.send(to="tj", kind="test.plain", body={"note": "无文件"}, idempotency_key="plain")
    report = actions.deliver_due(post=post, http=http)
    assert report.delivered == 2 and report.files == 1 and report.failed == 0
    assert incoming(with_file.message_id).status == MessageStatus.APPLIED
    return with_file


def verify() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("exchange", "verify", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_prune_clears_bodies_and_files_and_the_chain_still_verifies(loopback: Any, tmp_path: Path) -> None:
    message = exchanged(loopback, tmp_path)
    assert blobs.file_path(message, "roster.parquet").is_file()
    assert actions.messages_prune(now=later(91)) == 4
    for row in ExchangeMessage.objects.all():
        assert row.body == {} and row.pruned_at is not None
        assert row.hash and row.signature and row.prev_hash and row.kind
    assert incoming(message.message_id).manifest == message.manifest  # the files' hashes stay
    assert not list(blobs.blob_dir().rglob("*.*"))
    result = selectors.check_log()
    assert (result.checked, result.pruned, result.problems) == (4, 4, [])
    code, out, _ = verify()
    assert code == 0 and "其中 4 条的内容已按保留期清除" in out
    assert actions.messages_prune(now=later(200)) == 0  # once only


def test_prune_from_the_command_line(loopback: Any, tmp_path: Path) -> None:
    exchanged(loopback, tmp_path)
    out = StringIO()
    call_command("exchange", "prune", "--days", "0", stdout=out)
    assert "已清除 4 条" in out.getvalue()
    assert not ExchangeMessage.objects.filter(pruned_at__isnull=True).exists()


def test_a_tampered_hash_of_a_pruned_message_fails_verify(loopback: Any, tmp_path: Path) -> None:
    message = exchanged(loopback, tmp_path)
    actions.messages_prune(now=later(91))
    ExchangeMessage.objects.filter(pk=message.pk).update(hash="0" * 64)
    code, _, err = verify()
    assert code == 1 and "签名无效" in err and "链条断裂" in err


def test_a_message_not_yet_old_enough_keeps_its_body_and_files(
    loopback: Any, tmp_path: Path, settings: Any
) -> None:
    settings.XIETONG_EXCHANGE_RETENTION_DAYS = 90
    message = exchanged(loopback, tmp_path)
    assert actions.messages_prune(now=later(89)) == 0
    message.refresh_from_db()
    assert message.body == {"note": "名册"} and message.pruned_at is None
    assert blobs.file_path(message, "roster.parquet").is_file()
    assert selectors.check_log().pruned == 0


def test_unfinished_messages_are_never_pruned(peer: Peer, tmp_path: Path) -> None:
    pending = exchange.send(to="tj", kind=KIND, body={"note": "待投递"}, idempotency_key="p")
    assert actions.messages_prune(now=later(1000), days=0) == 0
    pending.refresh_from_db()
    assert pending.status == MessageStatus.PENDING and pending.body == {"note": "待投递"}


def test_a_delivered_message_whose_file_is_still_uploading_keeps_it(loopback: Any, tmp_path: Path) -> None:
    post, _http = loopback

    def broken(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        raise OSError("connection reset")

    message = send_file(tmp_path, b"u" * 3000)
    actions.deliver_due(post=post, http=broken)
    message.refresh_from_db()
    assert message.status == MessageStatus.ACKED
    assert MessageFile.objects.get(message=message).state == FileState.PENDING
    assert incoming(message.message_id).status == MessageStatus.WAITING
    assert actions.messages_prune(now=later(1000), days=0) == 0
    assert blobs.file_path(message, "roster.parquet").is_file()


def test_a_received_message_rejected_before_its_files_came_is_pruned(
    peer: Peer, client: Client, settings: Any
) -> None:
    settings.XIETONG_EXCHANGE_MAX_FILE_MB = 1 / 1024
    message = incoming(announce(peer, client, [entry("big.bin", b"y" * 2000)]))
    assert message.status == MessageStatus.REJECTED  # its file entry never completes
    assert actions.messages_prune(now=later(91)) == 1
    message.refresh_from_db()
    assert message.pruned_at is not None and selectors.check_log().problems == []

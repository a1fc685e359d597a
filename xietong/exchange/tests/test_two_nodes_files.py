"""Two real nodes on loopback carry a message with a file: the receiving node is killed in the middle
of the upload and restarted; the sender resumes where the receiver stands, the file arrives whole,
the handler runs once, nothing half-written is left, and both logs verify (ADR 017)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..localnodes import LocalNode, region_group, wait_for

pytestmark = pytest.mark.nodes

MB = 1024 * 1024
SIZE = 24 * MB

SEND = """
import hashlib, os
from pathlib import Path
from django.conf import settings
from django.db import transaction
from xietong import exchange
source = Path(settings.VAR_DIR) / "roll.bin"
source.write_bytes(os.urandom({size}))
with transaction.atomic():
    message = exchange.send(to="tj", kind="test.files", body={{"note": "名册"}}, idempotency_key="roll",
        files={{"roll.bin": source}})
print(message.message_id, hashlib.sha256(source.read_bytes()).hexdigest())
"""


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, LocalNode]]:
    base: Path = tmp_path_factory.mktemp("filenodes")
    env = {
        "DJANGO_SETTINGS_MODULE": "xietong.exchange.tests.filenode.settings",
        "XIETONG_EXCHANGE_CHUNK_MB": "0.25",
        "XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2",
        "XIETONG_EXCHANGE_REGISTRY_SECONDS": "2",
    }
    bj, tj = region_group(base, count=2, extra_env=env)
    try:
        bj.start()
        tj.start()
        yield bj, tj
    finally:
        bj.stop()
        tj.stop()


def test_a_file_survives_the_receiver_restarting_mid_transfer(nodes: tuple[LocalNode, LocalNode]) -> None:
    bj, tj = nodes
    wait_for(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
    message_id, digest = bj.shell(SEND.format(size=SIZE)).split()
    part = tj.var_dir / "exchange" / "blobs" / "in" / message_id / "roll.bin.part"
    wait_for(lambda: part.exists() and part.stat().st_size >= MB, seconds=180)
    tj.stop()  # killed in the middle of the file
    held = part.stat().st_size
    assert 0 < held < SIZE
    time.sleep(1)
    tj.start()
    record = tj.var_dir / "files-received.json"
    wait_for(lambda: record.exists(), seconds=120)
    assert json.loads(record.read_text()) == [
        {"sender": "bj", "name": "roll.bin", "size": SIZE, "sha256": digest}
    ]
    assert tj.query("SELECT status FROM exchange_exchangemessage WHERE message_id = ?", (message_id,)) == [
        ("applied",)
    ]
    wait_for(lambda: bj.query("SELECT state, received FROM exchange_messagefile") == [("complete", SIZE)])
    assert not list((tj.var_dir / "exchange" / "blobs").rglob("*.part"))
    refused = [row[0] for row in tj.query("SELECT reason FROM exchange_refuseddelivery")]
    assert not [reason for reason in refused if "SHA-256" in reason]  # resumed, never restarted
    for node in (bj, tj):
        assert node.run("exchange", "verify", check=False).returncode == 0

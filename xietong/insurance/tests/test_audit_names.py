"""Audit details staff read name the region group's nodes and the facts certification keeps, instead
of showing node ids (``tj``) and raw keys (``chunk``)."""

from __future__ import annotations

from xietong.core import audit
from xietong.core.models import AuditEvent

from .conftest import Peer


def test_a_received_chunk_reads_in_words(peer: Peer) -> None:
    event = AuditEvent(
        target_type="insurance.eligibilitycheck",
        changes={"detail": {"from": "tj", "chunk": 2, "findings": 3}},
    )
    assert str(audit.describe(event)) == "来源节点：天津节点；批次：2；核查发现数：3"


def test_a_transfers_nodes_are_named(peer: Peer) -> None:
    event = AuditEvent(
        target_type="insurance.insurancetransfer",
        changes={"fields": {"receiving_node": [None, "bj"], "sending_node": [None, "tj"]}},
    )
    assert str(audit.describe(event)) == "转入地节点：— → 北京节点；转出地节点：— → 天津节点"


def test_the_workers_status_page_names_the_regions_nodes(peer: Peer) -> None:
    from django.test import Client
    from django.urls import reverse

    from .test_transfers import request_one

    transfer = request_one()
    page = Client().get(reverse("insurance:transfer_status", args=[transfer.status_token])).content.decode()
    assert "北京" in page and "天津" in page  # the regions by name (or their nodes' names)
    assert "bj →" not in page and "→ bj" not in page and "tj →" not in page and "→ tj" not in page

"""A non-hub node accepts the hub's registry only when the hub signed it and it is newer."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from xietong.lib import crypto

from .. import actions, envelope
from ..envelope import Refused
from ..models import ExchangeNode


def _entry(node_id: str, *, revoked: bool) -> dict[str, Any]:
    return {
        "node_id": node_id,
        "name": f"{node_id}节点",
        "region_code": "",
        "endpoint": f"http://{node_id}.example",
        "is_hub": node_id == "bj",
        "public_key": crypto.generate_signing_key()[1],
        "valid_from": "2026-01-01T00:00:00+00:00",
        "valid_until": None,
        "revoked_at": "2026-11-25T07:00:00+00:00" if revoked else None,
    }


def document(version: int, nodes: list[str], *, revoked: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "hub": "bj",
        "version": version,
        "issued_at": "2026-11-25T08:00:00+00:00",
        "nodes": [_entry(n, revoked=n in revoked) for n in nodes],
    }


@pytest.fixture
def hub_key(db: Any, settings: Any) -> str:
    private, public = crypto.generate_signing_key()
    settings.XIETONG_NODE_ID, settings.XIETONG_HUB_NODE_ID, settings.XIETONG_HUB_PUBLIC_KEY = (
        "tj",
        "bj",
        public,
    )
    return private


def test_a_signed_newer_registry_is_accepted_and_an_older_one_ignored(hub_key: str) -> None:
    first = document(1, ["bj", "tj", "hb"])
    assert actions.registry_accept(document=first, signature=envelope.sign_document(hub_key, first))
    assert sorted(ExchangeNode.objects.values_list("node_id", flat=True)) == ["bj", "hb", "tj"]
    second = document(2, ["bj", "tj", "hb"], revoked=("hb",))
    assert actions.registry_accept(document=second, signature=envelope.sign_document(hub_key, second))
    assert not ExchangeNode.objects.get(node_id="hb").is_trusted()
    assert not actions.registry_accept(document=first, signature=envelope.sign_document(hub_key, first))
    assert not ExchangeNode.objects.get(node_id="hb").is_trusted()  # no rollback to version 1


def test_a_registry_not_signed_by_the_hub_is_refused(hub_key: str) -> None:
    forged = document(1, ["bj", "tj", "evil"])
    with pytest.raises(Refused, match="枢纽签名无效"):
        actions.registry_accept(
            document=forged, signature=envelope.sign_document(crypto.generate_signing_key()[0], forged)
        )
    assert not ExchangeNode.objects.exists()


def test_only_the_hub_registers_nodes(hub_key: str) -> None:
    with pytest.raises(ValidationError, match="只有枢纽节点"):
        actions.node_register(node_id="sh", name="上海", endpoint="http://sh.example", public_key="x" * 43,
                              acting_user=None)  # fmt: skip

"""Fixtures of the insurance tests: the exchange's peer node played by the test."""

from pathlib import Path
from typing import Any

import pytest

from xietong.exchange.testing import Peer, node_settings, peer

__all__ = ["Peer", "node_settings", "peer"]


@pytest.fixture(autouse=True)
def blob_dir(settings: Any, tmp_path: Path) -> Path:
    """Certification messages carry files: each test has a blob folder of its own."""
    settings.XIETONG_EXCHANGE_BLOB_DIR = tmp_path / "blobs"
    return settings.XIETONG_EXCHANGE_BLOB_DIR

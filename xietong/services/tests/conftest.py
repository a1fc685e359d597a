"""Fixtures of the services tests: the exchange's peer node played by the test, and uploads kept in
a temporary media folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xietong.exchange.testing import Peer, node_settings, peer

__all__ = ["Peer", "node_settings", "peer"]


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"

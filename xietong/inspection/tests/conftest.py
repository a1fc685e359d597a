"""Fixtures of the inspection tests: the exchange's peer node played by the test."""

from xietong.exchange.testing import Peer, node_settings, peer

__all__ = ["Peer", "node_settings", "peer"]

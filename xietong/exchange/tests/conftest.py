"""Fixtures of the exchange tests (defined in ``xietong.exchange.testing``, shared with the domain apps)."""

from xietong.exchange.testing import Peer, node_settings, peer

__all__ = ["Peer", "node_settings", "peer"]

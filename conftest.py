"""Fixtures shared by the whole suite."""

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["xietong.core.testing"]


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test starts with empty caches: rate-limit counts must not carry over between tests."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _node_databases() -> Iterator[None]:
    """When the suite runs on PostgreSQL, the real nodes that the ``nodes`` tests start get a database
    each on the same server (``xietong.exchange.localnodes``); the ones made during the session are
    dropped at its end. On SQLite nothing changes: each node has its SQLite file."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        yield
        return
    from xietong.exchange import localnodes

    os.environ[localnodes.NODES_DATABASE_ENV] = server
    before = localnodes.node_databases(server)
    try:
        yield
    finally:
        localnodes.drop_databases(server, keep=before)

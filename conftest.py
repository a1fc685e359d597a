"""Fixtures shared by the whole suite."""

import pytest

pytest_plugins = ["xietong.core.testing"]


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test starts with empty caches: rate-limit counts must not carry over between tests."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()

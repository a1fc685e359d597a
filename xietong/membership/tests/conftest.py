"""Fixtures of the membership tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xietong.core.api.authentication import forget_tokens

from .. import selectors


@pytest.fixture(autouse=True)
def _forget_desks() -> Iterator[None]:
    """Ids repeat between tests: a desk remembered by one test must not serve the next."""
    selectors._desk_cache.clear()
    forget_tokens()
    yield
    selectors._desk_cache.clear()
    forget_tokens()

"""Small text helpers shared by the normalisers of this package, and their common error type."""

from __future__ import annotations

from collections.abc import Callable


class InvalidValue(ValueError):
    """A value that cannot be accepted; ``str(exc)`` says why in Chinese, ``code`` says it for machines."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def until_stable(step: Callable[[str], str], value: str | None, *, limit: int = 5) -> str:
    """Apply ``step`` until the text stops changing (at most ``limit`` times).

    Normalisers need this to be idempotent: deleting a separator can let NFKC compose the characters
    either side of it, which a second pass then settles.
    """
    text = value or ""
    for _ in range(limit):
        new = step(text)
        if new == text:
            break
        text = new
    return text

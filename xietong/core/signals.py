"""Signal handlers of the core app: thin, each hands over to an action."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.dispatch import receiver


@receiver(user_locked_out, dispatch_uid="xietong.core.sign_out_locked_account")
def sign_out_locked_account(sender: Any, *, username: str | None = None, **kwargs: Any) -> None:
    """A lock-out ends the account's sessions and API tokens, not only its next password sign-in."""
    from . import actions

    if username:
        actions.user_locked_out(username=username)

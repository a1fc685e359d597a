"""Signal handlers of the core app: thin, each hands over to an action."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver


@receiver(user_locked_out, dispatch_uid="xietong.core.sign_out_locked_account")
def sign_out_locked_account(sender: Any, *, username: str | None = None, **kwargs: Any) -> None:
    """A lock-out ends the account's sessions and API tokens, not only its next password sign-in."""
    from . import actions

    if username:
        actions.user_locked_out(username=username)


@receiver(user_logged_in, dispatch_uid="xietong.core.audit_sign_in")
def audit_sign_in(sender: Any, *, user: Any, **kwargs: Any) -> None:
    """Every sign-in goes into the audit log, with the client's address."""
    from . import actions

    actions.user_signed_in(user=user)


@receiver(user_logged_out, dispatch_uid="xietong.core.audit_sign_out")
def audit_sign_out(sender: Any, *, user: Any = None, **kwargs: Any) -> None:
    """Every sign-out goes into the audit log."""
    from . import actions

    actions.user_signed_out(user=user)


@receiver(user_login_failed, dispatch_uid="xietong.core.audit_failed_sign_in")
def audit_failed_sign_in(sender: Any, *, credentials: dict[str, Any], **kwargs: Any) -> None:
    """A wrong password (or unknown account) goes into the audit log with the name typed; Django has
    already replaced the password in ``credentials`` and it is not read here anyway."""
    from . import actions

    actions.user_sign_in_failed(username=str(credentials.get("username") or ""))

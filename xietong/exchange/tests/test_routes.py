"""Exchange routes without an object argument: each needs an account with a role."""

from __future__ import annotations

from xietong.core.testing import SignInRequiredTests


class TestExchangeRoutesNeedARole(SignInRequiredTests):
    route_names = ("exchange:operations", "exchange:message_list")

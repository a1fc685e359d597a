"""Exchange routes without an object argument: each needs an account with a role."""

from __future__ import annotations

from xietong.core.testing import SignInRequiredTests


class TestExchangeRoutesNeedARole(SignInRequiredTests):
    route_names = ("exchange:operations", "exchange:message_list")


class TestDomainRoutesNeedARole(SignInRequiredTests):
    """Pages and endpoints of insurance transfers, eligibility certification and the arrears list:
    when they move to ``xietong.insurance`` and ``xietong.inspection``, move these names with them."""

    route_names = (
        "exchange:arrears_create",
        "exchange:arrears_list",
        "exchange:certification_figures",
        "exchange:roster_create",
        "exchange:run_create",
        "exchange:transfer_create",
        "exchange:transfer_list",
        "arrears-check",
        "arrears-list",
        "transfer-list",
        "certification-run-list",
        "certification-finding-list",
    )

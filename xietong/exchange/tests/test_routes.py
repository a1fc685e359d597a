"""Exchange routes without an object argument: each needs an account with a role."""

from __future__ import annotations

from xietong.core.testing import SignInRequiredTests


class TestExchangeRoutesNeedARole(SignInRequiredTests):
    route_names = ("exchange:operations", "exchange:message_list")


class TestDomainRoutesNeedARole(SignInRequiredTests):
    """Pages and endpoints of insurance transfers, eligibility certification and the arrears list:
    when they move to ``xietong.insurance`` and ``xietong.inspection``, move these names with them."""

    route_names = (
        "inspection:arrears_create",
        "inspection:arrears_list",
        "insurance:certification_figures",
        "insurance:roster_create",
        "insurance:run_create",
        "insurance:transfer_create",
        "insurance:transfer_list",
        "arrears-check",
        "arrears-list",
        "transfer-list",
        "certification-run-list",
        "certification-finding-list",
    )

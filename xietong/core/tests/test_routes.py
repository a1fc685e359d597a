"""Core routes without an object argument: each needs an account, and (but for the home page and the
API's index) a role; the scoped lists are checked in ``test_views.py``."""

from __future__ import annotations

from xietong.core.testing import SignInRequiredTests


class TestCoreRoutesNeedAnAccount(SignInRequiredTests):
    route_names = (
        "core:home",
        "core:notification_list",
        "core:notification_read",
        "core:notifications_read_all",
        "core:employer_create",
        "core:person_create",
        "core:person_lookup",
        "core:user_create",
        "api-root",
        "region-list",
        "region-detail",
        "schema",
        "swagger-ui",
    )
    route_args = {"region-detail": ("110000",)}
    # Reference data and the API's index: any signed-in account.
    open_to_any_account = (
        "core:home",
        "core:notification_list",
        "core:notification_read",
        "core:notifications_read_all",
        "api-root",
        "region-list",
        "region-detail",
        "schema",
        "swagger-ui",
    )

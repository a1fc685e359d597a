"""Membership routes without an object argument: each needs an account with a role; the scoped
lists and detail pages are checked in ``test_views.py`` and below."""

from __future__ import annotations

from xietong.core.models import Organization
from xietong.core.testing import ScopedObjectViewTests, SignInRequiredTests

from .. import actions
from ..models import OutreachEvent


class TestMembershipRoutesNeedARole(SignInRequiredTests):
    route_names = (
        "membership:application_approve_bulk",
        "membership:card_print",
        "membership:event_create",
        "membership:figures",
        "membership:import_create",
        "membership:import_template",
        "membership:members_card_issue_bulk",
        "membership:transfer_list",
        "membership:verify",
    )


class TestEventViews(ScopedObjectViewTests):
    model = OutreachEvent
    list_url_name = "membership:event_list"
    detail_url_name = "membership:event_detail"

    def make_object(self, organization: Organization) -> OutreachEvent:
        from datetime import date

        return actions.outreach_event_create(
            organization=organization, title="测试职工沟通会", held_on=date(2026, 6, 18), acting_user=None
        )

"""Test data for the membership app, made through its actions (so it is encrypted and audited)."""

from __future__ import annotations

from datetime import date
from typing import Any

from xietong.core.models import Organization
from xietong.core.tests.factories import make_person, valid_id_number

from .. import actions
from ..choices import Benefit, MemberSource, ServicePointKind
from ..models import JoinApplication, Member, ServicePoint

_counter = iter(range(1, 10**6))


def fresh_id_number() -> str:
    """A valid ID number no other call returns."""
    n = next(_counter)
    return valid_id_number(
        region="110105", birth=date(1970 + n % 30, 1 + n % 12, 1 + n % 27), sequence=n % 1000
    )


def submit(organization: Organization, **overrides: Any) -> JoinApplication:
    """A join application as the QR-code page submits it."""
    data: dict[str, Any] = {
        "name": "王建国",
        "id_number": fresh_id_number(),
        "phone_number": "13900001111",
        "employer_name": "北京测试科技有限公司",
        "consent": True,
    }
    data.update(overrides)
    application = actions.join_application_submit(organization=organization, **data).application
    assert application is not None, "the number already belonged to a member or a pending application"
    return application


def make_member(organization: Organization, *, with_card: bool = True) -> Member:
    """A member (and card) registered directly."""
    person = make_person(organization, id_number=fresh_id_number())
    member = actions.member_create(
        person=person,
        organization=organization,
        joined_on=date(2026, 1, 5),
        source=MemberSource.MANUAL,
        acting_user=None,
    )
    if with_card:
        actions.card_issue(member=member, acting_user=None)
    return member


def make_service_point(organization: Organization, *accounts: Any) -> ServicePoint:
    point = ServicePoint.objects.create(
        organization=organization,
        name="测试医院挂号窗口",
        kind=ServicePointKind.HOSPITAL,
        benefits=[Benefit.FREE_REGISTRATION],
    )
    point.accounts.add(*accounts)
    return point

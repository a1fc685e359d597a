"""factory-boy factories of the core models (people go through the action, so they are encrypted)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import factory

from xietong.core import actions
from xietong.core.models import Employer, Organization, Person, Region
from xietong.lib import idnumber


def valid_id_number(
    *, region: str = "110101", birth: date = date(1985, 3, 7), sequence: int | None = None
) -> str:
    """A valid 18-digit ID number (check digit computed), unique per call unless ``sequence`` is fixed."""
    seq = sequence if sequence is not None else random.randrange(0, 1000)
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + idnumber.check_digit(body)


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"第{n}基层工会")
    kind = "grassroots_union"
    region = factory.LazyFunction(lambda: Region.objects.get(code="110101"))


class EmployerFactory(factory.django.DjangoModelFactory[Employer]):
    class Meta:
        model = Employer

    name = factory.Sequence(lambda n: f"测试科技有限公司{n}")
    credit_code = None
    region = factory.LazyFunction(lambda: Region.objects.get(code="110101"))
    organization = factory.SubFactory(OrganizationFactory)


_counter = iter(range(1, 10**6))


def make_person(
    organization: Organization, *, name: str = "张伟", phone: str = "13800138000", **kwargs: Any
) -> Person:
    """Register a person through the action, with a fresh valid ID number unless one is given."""
    n = next(_counter)
    kwargs.setdefault(
        "id_number", valid_id_number(birth=date(1960 + n % 40, 1 + n % 12, 1 + n % 28), sequence=n % 1000)
    )
    return actions.person_create(
        name=name, phone=phone, organization=organization, acting_user=None, **kwargs
    )

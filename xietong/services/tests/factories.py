"""Test data for the services app, made through its actions (so it is encrypted and audited)."""

from __future__ import annotations

from typing import Any

from xietong.core.models import Organization, Region
from xietong.core.testing import clerk

from .. import actions
from ..models import Lawyer, ServiceCategory, ServiceRequest, ServiceStation


def category(code: str = "policy") -> ServiceCategory:
    return ServiceCategory.objects.get(code=code)


def make_station(organization: Organization, **overrides: Any) -> ServiceStation:
    data: dict[str, Any] = {
        "name": f"{organization.name}职工服务站",
        "level": "street",
        "district": Region.objects.get(code="110109"),
        "address": "新桥大街1号",
        "hours": "周一至周五 9:00–17:00",
        "phone": "010-69800000",
    }
    data.update(overrides)
    station = actions.station_create(organization=organization, acting_user=None, **data)
    station.services.add(category("legal_aid"), category("policy"))
    return station


def make_request(organization: Organization, **overrides: Any) -> ServiceRequest:
    """A hotline call taken at ``organization`` (the caller names no district, so it stays there)."""
    data: dict[str, Any] = {
        "channel": "hotline",
        "category": category(),
        "subject": "咨询工伤认定",
        "description": "在工地受伤，单位不给申报工伤，怎么办？",
        "requester_name": "李建军",
        "requester_phone": "13912345678",
        "received_by": organization,
        "call_taken_by": clerk(),
        "call_seconds": 185,
    }
    data.update(overrides)
    return actions.request_file(acting_user=clerk(), **data)


def make_lawyer(organization: Organization, name: str = "王律师") -> Lawyer:
    return actions.lawyer_create(
        organization=organization,
        name=name,
        firm="北京市某某律师事务所",
        specialties="劳动争议",
        acting_user=clerk(),
    )


def make_provider(organization: Organization, *points: Any, name: str = "门头沟区医院") -> Any:
    """A partner hospital of ``organization`` whose desks are ``points``."""
    return actions.provider_save(
        organization=organization,
        name=name,
        kind="hospital",
        address="河滩桥东街10号",
        service_points=points,
        acting_user=None,
    )


def make_benefit(provider: Any, **overrides: Any) -> Any:
    """Free registration, 12 a year, valid from 2020 (overrides change it)."""
    import datetime as dt

    data: dict[str, Any] = {
        "name": "会员免费挂号",
        "kind": "free_registration",
        "valid_from": dt.date(2020, 1, 1),
        "limit_count": 12,
        "limit_period": "year",
    }
    data.update(overrides)
    return actions.benefit_save(provider=provider, acting_user=None, **data)

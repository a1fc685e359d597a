"""The demo world: built from the seeds' organisations, idempotent, accounts scoped as promised."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from xietong.core.models import Employer, Organization, Person, User
from xietong.demo import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def built() -> dict[str, int]:
    return world.build(people_per_org=1)


def test_world_has_the_seed_organisations(built: dict[str, int]) -> None:
    names = set(Organization.objects.values_list("name", flat=True))
    for name in (
        "北京市总工会",
        "北京市政法卫生文化工会",
        "河北省总工会",
        "廊坊市总工会",
        "中关村科学城总工会",
    ):
        assert name in names
    zfws = Organization.objects.get(name="北京市政法卫生文化工会")
    assert zfws.children.filter(kind="sector_federation").count() == 6
    assert Employer.objects.exists()


def test_world_is_idempotent(built: dict[str, int]) -> None:
    again = world.build(people_per_org=1)
    assert again == built


def test_district_officer_sees_only_the_district(built: dict[str, int]) -> None:
    officer = User.objects.get(username="dongcheng_officer")
    visible = Organization.objects.restrict(officer, "view")
    assert visible.filter(name="东城区总工会").exists()
    assert not visible.filter(name="平谷区总工会").exists()
    assert Person.objects.restrict(officer, "view").filter(name="李健").exists()


def test_every_demo_account_signs_in(built: dict[str, int]) -> None:
    for account in world.demo_accounts():
        user = User.objects.get(username=account.username)
        assert user.check_password(account.password)


def test_print_users_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", "--print-users")
    accounts = json.loads(capsys.readouterr().out)
    assert {"username", "password", "role", "organization"} <= set(accounts[0])
    assert {a["role"] for a in accounts} >= {"node_admin", "union_officer", "hrss_officer", "auditor"}


def test_the_node_office_has_its_rosters_and_the_seed_figures(built: dict[str, int]) -> None:
    from xietong.insurance.models import BenefitRoster, CertificationStatistic

    rosters = {r.kind: r for r in BenefitRoster.objects.filter(organization__code="bj-hrss")}
    assert set(rosters) == {"pension", "death"}
    assert rosters["pension"].status == "done" and rosters["pension"].total_rows == 32
    assert sorted(CertificationStatistic.objects.filter(year=2019).values_list("assisted", flat=True)) == [
        11572, 14455, 41275, 64314,
    ]  # fmt: skip
    world.build(people_per_org=1)
    assert BenefitRoster.objects.count() == 2


def test_world_has_the_service_network_and_12351_requests(built: dict[str, int]) -> None:
    from xietong.services import selectors as services
    from xietong.services.models import LegalAidCase, ServiceRequest, ServiceStation

    names = set(ServiceStation.objects.values_list("name", flat=True))
    assert {"北京市职工服务中心", "东城区职工服务中心", "门头沟区职工服务中心", "大兴区职工服务中心"} <= names
    assert {"河北省职工服务中心", "廊坊市职工服务中心"} <= names
    assert "181" in ServiceStation.objects.get(name="河北省职工服务中心").description
    assert set(ServiceStation.objects.values_list("level", flat=True)) >= {"city", "district", "street"}
    wages = ServiceRequest.objects.get(subject="工地拖欠三个月工资")
    assert wages.organization.code == "bj-daxing" and LegalAidCase.objects.filter(request=wages).exists()
    city = User.objects.get(username="services_bj")
    assert services.overdue_requests(user=city).filter(escalated_to__isnull=False).exists()
    hebei = User.objects.get(username="services_hebei")
    assert not services.service_requests(user=hebei).filter(organization__code__startswith="bj-").exists()

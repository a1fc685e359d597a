"""Moving the domain models out of the exchange keeps every row (issue 11): a database at the schema
before the move, with a row of each moved model and a role granting their permissions, migrates
forward and everything is found through the new models; the role's grants follow the content types.
Runs on SQLite and, with ``scripts/with-postgres.sh``, on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_MOVE = {"exchange": "0003_certification", "insurance": None, "inspection": None}


def _targets(executor: MigrationExecutor, overrides: dict[str, str | None]) -> list[tuple[str, Any]]:
    leaves = executor.loader.graph.leaf_nodes()
    return [(app, overrides.get(app, name)) for app, name in leaves]


def _migrate(targets: list[tuple[str, Any]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _fill(apps: Any) -> dict[str, int]:
    """One row of each moved model at the old schema; their primary keys by model name."""
    Region = apps.get_model("core", "Region")
    Organization = apps.get_model("core", "Organization")
    region = Region.objects.get(code="110000")
    city = Organization.objects.create(code="m-city", name="市人社局", kind="hrss_bureau", region=region)
    city.path = f"/{city.pk}/"
    city.save()
    district = Organization.objects.create(
        code="m-district", name="区人社局", kind="hrss_bureau", region=region, parent=city, depth=1
    )
    district.path = f"{city.path}{district.pk}/"
    district.save()
    get = lambda name: apps.get_model("exchange", name)  # noqa: E731
    listing = get("ArrearsListing").objects.create(
        uid="a" * 32, origin_node="tj", authority="天津监察", credit_code="91120116MA05J0X10Y",
        employer_name="天津某公司", amount_owed="100.00", workers_affected=2, decision_no="津〔2026〕1号",
        listed_on=dt.date(2026, 11, 2),
    )  # fmt: skip
    common = dict(name="李四", id_number_cipher="x", id_number_index="i", id_number_masked="1201********1234")
    incoming = get("InsuranceTransfer").objects.create(
        uid="b" * 32, side="sending", receiving_node="tj", sending_node="bj", applied_on=dt.date(2026, 11, 1),
        due_on=dt.date(2026, 12, 1), status_token="t1", **common,
    )  # fmt: skip
    own = get("InsuranceTransfer").objects.create(
        uid="c" * 32, side="receiving", receiving_node="bj", sending_node="tj", organization=district,
        applied_on=dt.date(2026, 11, 1), due_on=dt.date(2026, 12, 1), status_token="t2", **common,
    )  # fmt: skip
    roster = get("BenefitRoster").objects.create(
        organization=city, kind="pension", title="养老", original_name="p.csv", status="done"
    )
    entry = get("RosterEntry").objects.create(roster=roster, record_id="YL1", name="王五")
    run = get("EligibilityCheck").objects.create(uid="r" * 32, organization=city, roster=roster, checks=[])
    request = get("CertificationRequest").objects.create(run=run, partner="tj", partner_name="天津")
    finding = get("CertificationFinding").objects.create(
        run=run, entry=entry, partner="tj", partner_name="天津", kind="duplicate", evidence="e", score=0.9
    )
    dismissal = get("FindingDismissal").objects.create(
        organization=city, person_key="k", partner="tj", kind="duplicate", finding=finding
    )
    assistance = get("CertificationAssistance").objects.create(
        requester="tj", requester_name="天津", run_uid="s" * 32, chunk=1, checks=[], roster_kind="pension"
    )
    statistic = get("CertificationStatistic").objects.create(region_name="河北", year=2025, source="公报")
    return {
        "ArrearsListing": listing.pk, "incoming": incoming.pk, "own": own.pk, "BenefitRoster": roster.pk,
        "RosterEntry": entry.pk, "EligibilityCheck": run.pk, "CertificationRequest": request.pk,
        "CertificationFinding": finding.pk, "FindingDismissal": dismissal.pk,
        "CertificationAssistance": assistance.pk, "CertificationStatistic": statistic.pk,
        "city": city.pk, "district": district.pk,
    }  # fmt: skip


def _grant(apps: Any) -> int:
    """A role granting the moved models' permissions as they were named before (exchange.*)."""
    ContentTypeOld = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Role = apps.get_model("core", "Role")
    role = Role.objects.create(code="m-role", name="迁移前的角色")
    for model in ("insurancetransfer", "arrearslisting", "certificationfinding"):
        content_type, _ = ContentTypeOld.objects.get_or_create(app_label="exchange", model=model)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=f"view_{model}", defaults={"name": f"Can view {model}"}
        )
        role.permissions.add(permission)
    return int(role.pk)


@pytest.mark.django_db(transaction=True)
def test_a_populated_database_migrates_with_every_row_and_grant_kept() -> None:
    from xietong.core import actions as core_actions
    from xietong.core.models import Region

    if not Region.objects.exists():  # a committing test before this one emptied every table
        core_actions.regions_load()
    old_apps = _migrate(_targets(MigrationExecutor(connection), BEFORE_MOVE))
    keys = _fill(old_apps)
    role_pk = _grant(old_apps)
    _migrate(_targets(MigrationExecutor(connection), {}))
    ContentType.objects.clear_cache()

    from xietong.core.models import Role
    from xietong.inspection.models import ArrearsListing
    from xietong.insurance import models as insurance

    assert ArrearsListing.objects.get(pk=keys["ArrearsListing"]).employer_name == "天津某公司"
    for name in (
        "BenefitRoster", "RosterEntry", "EligibilityCheck", "CertificationRequest", "CertificationFinding",
        "FindingDismissal", "CertificationAssistance", "CertificationStatistic",
    ):  # fmt: skip
        assert getattr(insurance, name).objects.filter(pk=keys[name]).exists(), name
    finding = insurance.CertificationFinding.objects.select_related("run__roster", "entry").get()
    assert finding.run.roster.title == "养老" and finding.entry.name == "王五"
    # Defect 8: the transfer that had no office now belongs to the top HRSS office; the other keeps its own.
    assert insurance.InsuranceTransfer.objects.get(pk=keys["incoming"]).organization_id == keys["city"]
    assert insurance.InsuranceTransfer.objects.get(pk=keys["own"]).organization_id == keys["district"]
    granted = {
        f"{p.content_type.app_label}.{p.codename}" for p in Role.objects.get(pk=role_pk).permissions.all()
    }
    assert granted == {
        "insurance.view_insurancetransfer",
        "inspection.view_arrearslisting",
        "insurance.view_certificationfinding",
    }
    assert not ContentType.objects.filter(app_label="exchange", model="insurancetransfer").exists()

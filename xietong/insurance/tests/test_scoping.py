"""The insurance app's pages and endpoints against the scoping rules (ARCHITECTURE.md §3 rule 9):
the generic tests of ``xietong.core.testing`` for transfers, rosters, runs and findings, their POSTs
and custom actions (change rights in another office → 404), and the routes without an object."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from xietong.core import pii
from xietong.core.choices import JobStatus
from xietong.core.models import Organization
from xietong.core.testing import (
    Scope,
    ScopedObjectViewTests,
    SignInRequiredTests,
    client_for,
    covers,
    make_user,
)
from xietong.core.tests.factories import valid_id_number
from xietong.lib import idnumber

from ..choices import FindingStatus
from ..models import (
    BenefitRoster,
    CertificationFinding,
    EligibilityCheck,
    InsuranceTransfer,
    RosterEntry,
)

pytestmark = pytest.mark.django_db


def make_transfer(organization: Organization, *, number: str = "") -> InsuranceTransfer:
    """A transfer this node received (it waits on the sending region), owned by ``organization``."""
    number = number or valid_id_number()
    return InsuranceTransfer.objects.create(
        uid=uuid.uuid4().hex,
        side="receiving",
        receiving_node="bj",
        sending_node="tj",
        organization=organization,
        name="张三",
        id_number_cipher=pii.encrypt(number, field="id_number"),
        id_number_index=pii.blind_index(number, purpose="id_number"),
        id_number_masked=idnumber.mask(number),
        applied_on=dt.date(2026, 11, 23),
        due_on=timezone.localdate() + dt.timedelta(days=30),
    )


def make_roster(organization: Organization) -> BenefitRoster:
    """An imported pension roster of ``organization`` with two people on it."""
    roster = BenefitRoster.objects.create(
        organization=organization,
        kind="pension",
        title=f"{organization.code}养老金名册",
        original_name="pensions.csv",
        status=JobStatus.DONE,
    )
    for n, birth in enumerate((dt.date(1950, 3, 7), dt.date(1952, 11, 23))):
        number = valid_id_number(birth=birth, sequence=100 + n)
        RosterEntry.objects.create(
            roster=roster,
            record_id=f"YL{n:04d}",
            name=f"赵{n}",
            id_number_cipher=pii.encrypt(number, field="id_number"),
            id_number_index=pii.blind_index(number, purpose="id_number"),
            id_number_masked=idnumber.mask(number),
            birth_date=birth,
            event_date=dt.date(2020, 1, 1),
        )
    return roster


def make_run(organization: Organization) -> EligibilityCheck:
    """A run over a roster of ``organization`` with one open finding per person."""
    roster = make_roster(organization)
    run = EligibilityCheck.objects.create(
        uid=uuid.uuid4().hex, organization=organization, roster=roster, checks=["duplicate"]
    )
    for entry in roster.entries.all():
        CertificationFinding.objects.create(
            run=run, entry=entry, partner="tj", partner_name="天津", kind="duplicate",
            evidence="两地同时领取", score=1.0,
        )  # fmt: skip
    return run


TRANSFER_PERMS = ["insurance.change_insurancetransfer"]
DECIDE_PERMS = ["insurance.change_certificationfinding"]


class TestTransferScoping(ScopedObjectViewTests):
    model = InsuranceTransfer
    list_url_name = "insurance:transfer_list"
    detail_url_name = "insurance:transfer_detail"
    api_list_url_name = "transfer-list"
    api_detail_url_name = "transfer-detail"
    post_url_names = ("insurance:transfer_assign", "insurance:transfer_step")
    api_actions = (
        ("transfer-answer", "post"),
        ("transfer-refuse", "post"),
        ("transfer-complete", "post"),
        ("transfer-assign", "post"),
    )
    change_permissions = TRANSFER_PERMS

    def make_object(self, organization: Organization) -> InsuranceTransfer:
        return make_transfer(organization)

    def post_urls(self, obj: Any) -> list[str]:
        names = ("answer", "refuse", "complete")
        steps = [reverse("insurance:transfer_step", args=[obj.pk, step]) for step in names]
        return [reverse("insurance:transfer_assign", args=[obj.pk]), *steps]


class TestRosterScoping(ScopedObjectViewTests):
    model = BenefitRoster
    list_url_name = "insurance:roster_list"
    detail_url_name = "insurance:roster_detail"

    def make_object(self, organization: Organization) -> BenefitRoster:
        return make_roster(organization)


class TestRunScoping(ScopedObjectViewTests):
    model = EligibilityCheck
    list_url_name = "insurance:run_list"
    detail_url_name = "insurance:run_detail"
    api_list_url_name = "certification-run-list"
    api_detail_url_name = "certification-run-detail"
    post_url_names = ("insurance:findings_bulk",)
    change_permissions = DECIDE_PERMS

    def make_object(self, organization: Organization) -> EligibilityCheck:
        return make_run(organization)

    def post_data(self, obj: Any, url: str) -> dict[str, Any]:
        """Tick every finding of the run: only the scope may refuse."""
        findings = [str(pk) for pk in obj.findings.values_list("pk", flat=True)]
        return {"finding": findings, "decision": "confirm"}


class TestRunResendScoping(ScopedObjectViewTests):
    """Sending a run again to a partner that failed: the page's button and the API's action."""

    model = EligibilityCheck
    list_url_name = "insurance:run_list"
    detail_url_name = "insurance:run_detail"
    post_url_names = ("insurance:run_resend",)
    api_actions = (("certification-run-resend", "post"),)
    change_permissions = ["insurance.add_eligibilitycheck"]

    def make_object(self, organization: Organization) -> EligibilityCheck:
        run = make_run(organization)
        run.requests.create(partner="tj", partner_name="天津", status="failed", error="比对密钥不一致")
        return run

    def post_data(self, obj: Any, url: str) -> dict[str, Any]:
        return {"partner": "tj"}


class TestFindingScoping(ScopedObjectViewTests):
    """Findings: their list page (across runs), detail page, decisions and API."""

    model = CertificationFinding
    list_url_name = "insurance:finding_list"
    api_list_url_name = "certification-finding-list"
    detail_url_name = "insurance:finding_detail"
    api_detail_url_name = "certification-finding-detail"
    post_url_names = ("insurance:finding_decide",)
    api_actions = (("certification-finding-confirm", "post"), ("certification-finding-dismiss", "post"))
    change_permissions = DECIDE_PERMS

    def make_object(self, organization: Organization) -> CertificationFinding:
        return make_run(organization).findings.order_by("pk").first()  # type: ignore[return-value]  # two made

    def urls(self, obj: Any) -> list[str]:
        return [reverse("insurance:finding_detail", args=[obj.pk])]

    def api_urls(self, obj: Any) -> list[str]:
        return [reverse("certification-finding-list"), reverse("certification-finding-detail", args=[obj.pk])]

    def post_data(self, obj: Any, url: str) -> dict[str, Any]:
        return {"decision": "confirm", "note": "电话核实"}

    def listed_pks(self, client: Any) -> set[Any]:
        response = client.get(reverse("certification-finding-list"), {"page_size": 200})
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}


@covers("insurance:finding_letter")
def test_the_letter_of_a_finding_outside_the_scope_is_not_found(scope: Scope) -> None:
    from xietong.core.testing import clerk

    from .. import actions

    finding = make_run(scope.home).findings.order_by("pk").first()
    assert finding is not None
    actions.finding_confirm(finding=finding, note="已核实", acting_user=clerk())
    url = reverse("insurance:finding_letter", args=[finding.pk])
    perm = ["insurance.view_certificationfinding"]
    outsider = client_for(make_user("outsider", perms=perm, organization=scope.other))
    assert outsider.get(url).status_code == 404
    assert client_for(make_user("nobody", organization=scope.home)).get(url).status_code == 403
    insider = client_for(make_user("insider", perms=perm, organization=scope.home))
    response = insider.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_the_decision_form_is_offered_only_with_change_rights_over_the_run(scope: Scope) -> None:
    """The run page offers the bulk decision only where the account may decide its findings."""
    run = make_run(scope.home)
    reader = make_user(
        "reader",
        perms=["insurance.view_eligibilitycheck", "insurance.view_certificationfinding", *DECIDE_PERMS],
        organization=scope.other,
    )
    from xietong.core.testing import grant

    grant(reader, ["insurance.view_eligibilitycheck", "insurance.view_certificationfinding"], None)
    page = client_for(reader).get(reverse("insurance:run_detail", args=[run.pk]))
    assert page.status_code == 200
    assert page.context["decision_form"] is None
    grant(reader, DECIDE_PERMS, scope.home)
    page = client_for(reader).get(reverse("insurance:run_detail", args=[run.pk]))
    assert page.context["decision_form"] is not None
    assert run.findings.filter(status=FindingStatus.OPEN).count() == 2


class TestInsuranceRoutesNeedARole(SignInRequiredTests):
    """Insurance pages and endpoints without an object argument."""

    route_names = (
        "insurance:certification_figures",
        "insurance:roster_create",
        "insurance:run_create",
        "insurance:transfer_create",
        "insurance:transfer_list",
        "transfer-list",
        "certification-run-list",
        "certification-finding-list",
    )

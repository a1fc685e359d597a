"""The scope sweep: every demo account requests every route that names an object, on objects outside
its scope, and nothing is answered (issue 11, "Done when").

The demo world (``xietong.demo.world``, smallest scale) is built once for the module, with a few
rows the demo does not make (applications, transfers, imports, listings, runs) spread over offices
in different subtrees. For each route with an object argument, ``TARGETS`` says which model the
argument names and which scope a GET and a write need; for each account the sweep picks a row
outside that scope (``Model.objects.restrict(user, action)``) and asks with GET and POST (and PATCH
and DELETE on API routes). The answer must be 403, 404, 405 or a redirect to the log-in page, and
neither the row nor the audit log may change. A new route with an object argument fails
``test_every_object_route_has_a_target`` until it gets a line in ``TARGETS`` (or ``UNSWEPT``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import Client
from django.urls import reverse

from xietong.core.jobs import job_run
from xietong.core.models import AuditEvent, Organization, User
from xietong.core.testing import Route, routes_by_name
from xietong.demo import world

pytestmark = pytest.mark.sweep

ALLOWED = {403, 404, 405}


@dataclass(frozen=True)
class Target:
    """What a route's object argument names, and the scope a request needs to reach it.

    ``view``/``change``: the action or full permission ``restrict`` checks for a GET / for a write.
    ``lookups``: scope lookups when two organisations own the row (a transfer's two unions).
    ``view_everyone_with``/``change_everyone_with``: the row is shared by design with every holder of
    that permission (the region group's arrears list, the node registry); such rows are "outside" only
    for accounts without it. ``extra``: the route's other arguments, each a tuple of values to try
    or a function of the row. ``data``: a body that passes the route's validation, so that only the
    scope can refuse the request.
    """

    model: str
    view: str = "view"
    change: str = "change"
    lookups: tuple[str, ...] = ()
    view_everyone_with: str = ""
    change_everyone_with: str = ""
    only_with_organization: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def visible(self, user: User, write: bool) -> models.QuerySet[Any]:
        model = apps.get_model(self.model)
        action, shared = (
            (self.change, self.change_everyone_with) if write else (self.view, self.view_everyone_with)
        )
        if shared:
            return model.objects.all() if user.has_perm(shared) else model.objects.none()
        if not self.lookups:
            return model.objects.restrict(user, action)
        pks: set[Any] = set()
        for lookup in self.lookups:
            pks |= set(model.objects.restrict(user, action, lookup=lookup).values_list("pk", flat=True))
        return model.objects.filter(pk__in=pks)

    def outside(self, user: User, write: bool) -> list[Any]:
        """Rows of the model that ``user`` may not reach: the first one, and the first without an
        owning organisation where the model allows that (a row nobody owns is nobody's to see)."""
        model = apps.get_model(self.model)
        rows = model.objects.exclude(pk__in=self.visible(user, write).values("pk")).order_by("pk")
        if self.only_with_organization:
            rows = rows.filter(organization__isnull=False)
        found = [row for row in (rows.first(),) if row is not None]
        owner = getattr(model, "scope_field", None)
        if owner and not self.only_with_organization and model._meta.get_field(owner.split("__")[0]).null:
            unowned = rows.filter(**{f"{owner}__isnull": True}).first()
            if unowned is not None and unowned not in found:
                found.append(unowned)
        return found


_ARREARS = "inspection.view_arrearslisting"

# Route name → what its object argument names. Update it when routes move (the exchange split) or
# are added: ``test_every_object_route_has_a_target`` names the routes missing here.
TARGETS: dict[str, Target] = {
    # core
    "core:organization_detail": Target("core.Organization"),
    "organization-detail": Target("core.Organization"),
    "core:employer_detail": Target("core.Employer"),
    "core:employer_edit": Target("core.Employer"),
    "employer-detail": Target("core.Employer"),
    "core:person_detail": Target("core.Person"),
    "core:export_detail": Target(
        "core.ExportJob", view="membership.view_member", change="membership.view_member"
    ),
    "core:export_download": Target(
        "core.ExportJob", view="membership.view_member", change="membership.view_member"
    ),
    "core:person_reveal": Target("core.Person", view="core.reveal_person", change="core.reveal_person"),
    "person-detail": Target("core.Person"),
    "person-reveal": Target("core.Person", view="core.reveal_person", change="core.reveal_person"),
    "core:user_detail": Target("core.User", view="core.manage_accounts", change="core.manage_accounts"),
    "core:user_toggle_active": Target(
        "core.User", view="core.manage_accounts", change="core.manage_accounts"
    ),
    "core:user_revoke": Target(
        "core.User",
        view="core.manage_accounts",
        change="core.manage_accounts",
        extra={"assignment_pk": lambda user: user.role_assignments.order_by("pk").first().pk},
    ),
    # membership
    "membership:application_approve": Target("membership.JoinApplication"),
    "membership:application_reject": Target("membership.JoinApplication"),
    "membership:member_detail": Target("membership.Member"),
    "member-detail": Target("membership.Member"),
    "membership:member_status": Target("membership.Member"),
    "membership:member_employer": Target("membership.Member"),
    "membership:member_card_issue": Target("membership.Member"),
    "membership:transfer_request": Target("membership.Member"),
    "membership:transfer_decide": Target(
        "membership.MembershipTransfer",
        view="membership.view_member",
        change="membership.change_member",
        lookups=("to_organization__path", "from_organization__path"),
        extra={"what": ("accept", "refuse", "cancel")},
    ),
    "membership:card_action": Target(
        "membership.MemberCard", extra={"what": ("suspend", "resume", "lost", "replace")}
    ),
    "membership:event_detail": Target("membership.OutreachEvent"),
    "membership:import_detail": Target("membership.MemberImport"),
    "membership:import_report": Target("membership.MemberImport"),
    "membership:card_print_job": Target(
        "membership.CardPrintJob", view="membership.change_membercard", change="membership.change_membercard"
    ),
    "membership:card_print_file": Target(
        "membership.CardPrintJob", view="membership.change_membercard", change="membership.change_membercard"
    ),
    # services
    "services:station_detail": Target("services.ServiceStation"),
    "services:station_edit": Target("services.ServiceStation", view="change"),
    "service-station-detail": Target("services.ServiceStation"),
    "services:request_detail": Target("services.ServiceRequest"),
    "services:request_step": Target(
        "services.ServiceRequest",
        extra={"what": ("acknowledge", "reply", "reassign", "handover", "close", "followup")},
        data={"kind": "reply", "text": "已答复", "satisfaction": "5", "note": "已回访"},
    ),
    "services:request_legal_aid": Target("services.ServiceRequest", change="services.add_legalaidcase"),
    "service-request-detail": Target("services.ServiceRequest"),
    "service-request-acknowledge": Target("services.ServiceRequest"),
    "service-request-reply": Target("services.ServiceRequest", data={"text": "已答复"}),
    "services:attachment": Target(
        "services.RequestEntry", view="services.view_servicerequest", change="services.view_servicerequest"
    ),
    "services:knowledge_edit": Target("services.KnowledgeAnswer", view="change"),
    "services:provider_edit": Target("services.BenefitProvider", view="change"),
    "services:benefit_edit": Target("services.Benefit", view="change"),
    # Node-wide reference data: every holder of the right changes every category.
    "services:category_edit": Target(
        "services.ServiceCategory",
        view_everyone_with="services.change_servicecategory",
        change_everyone_with="services.change_servicecategory",
    ),
    "services:case_detail": Target("services.LegalAidCase"),
    "services:case_milestone": Target(
        "services.LegalAidCase", data={"stage": "consultation", "happened_on": "2026-11-02"}
    ),
    # exchange: transport
    "exchange:node_revoke": Target(
        "exchange.ExchangeNode",
        view_everyone_with="exchange.operate_exchange",
        change_everyone_with="exchange.operate_exchange",
    ),
    # inspection: the region group's arrears list (shared with every holder of the view right)
    "inspection:arrears_detail": Target(
        "inspection.ArrearsListing", view_everyone_with=_ARREARS, only_with_organization=True
    ),
    "inspection:arrears_remove": Target(
        "inspection.ArrearsListing", view_everyone_with=_ARREARS, only_with_organization=True
    ),
    # insurance: transfers, rosters, certification runs and findings
    "insurance:transfer_detail": Target("insurance.InsuranceTransfer"),
    "insurance:transfer_assign": Target("insurance.InsuranceTransfer"),
    "insurance:transfer_step": Target(
        "insurance.InsuranceTransfer", extra={"step": ("answer", "refuse", "complete")}
    ),
    "transfer-detail": Target("insurance.InsuranceTransfer"),
    "transfer-answer": Target(
        "insurance.InsuranceTransfer", data={"periods": "2010-01,2019-12,5000", "personal_account": "48000"}
    ),
    "transfer-refuse": Target("insurance.InsuranceTransfer", data={"reason": "查无此人参保记录"}),
    "transfer-complete": Target("insurance.InsuranceTransfer"),
    "transfer-assign": Target("insurance.InsuranceTransfer"),
    "insurance:roster_detail": Target("insurance.BenefitRoster"),
    "insurance:run_detail": Target("insurance.EligibilityCheck"),
    "insurance:findings_bulk": Target(
        "insurance.EligibilityCheck", change="insurance.change_certificationfinding"
    ),
    "certification-run-detail": Target("insurance.EligibilityCheck"),
    "insurance:run_resend": Target(
        "insurance.EligibilityCheck", change="insurance.add_eligibilitycheck", data={"partner": "tj"}
    ),
    "certification-run-resend": Target(
        "insurance.EligibilityCheck", change="insurance.add_eligibilitycheck", data={"partner": "tj"}
    ),
    "insurance:finding_detail": Target("insurance.CertificationFinding"),
    "insurance:finding_decide": Target("insurance.CertificationFinding"),
    "insurance:finding_letter": Target("insurance.CertificationFinding"),
    "certification-finding-detail": Target("insurance.CertificationFinding"),
    "certification-finding-confirm": Target("insurance.CertificationFinding"),
    "certification-finding-dismiss": Target("insurance.CertificationFinding"),
}

# Routes with an argument that names no scoped row, and why they are not swept.
UNSWEPT: dict[str, str] = {
    "region-detail": "reference data: every account may read every region",
    "core:health_process": "public, names a process (web, worker, exchange), not an object; "
    "xietong/core/tests/test_processes.py checks it holds no personal data",
    "membership:join": "public join form, found by the union's code",
    "membership:join_event": "public join form, found by the event's code",
    "membership:join_status": "public, found by the applicant's secret token",
    "membership:ecard": "public, found by the applicant's secret token",
    "insurance:transfer_status": "public, found by the worker's secret token",
    "services:station_page": "public: an open station's page in the directory",
    "exchange:file_transfer": "between nodes, no session: signed by the message's sender node; "
    "xietong/exchange/tests/test_files.py checks unknown messages, other senders and bad signatures",
    "portal:request_detail": "member portal: no staff account reaches it (portal session only); "
    "xietong/portal/tests/test_screens.py checks another member's request is 404",
}

# Not a demo account: reads the whole node, changes in one district (see ``_wide_viewer``).
WIDE_VIEWER = "wide_viewer"

# (account, route) pairs that answer though they must not, each an xfail (strict: an xfail that
# passes fails the run) naming its defect. Empty: issue 11's defects 1 and 8 are fixed; keep it so.
KNOWN_LEAKS: dict[tuple[str, str], str] = {}


# The demo world ---------------------------------------------------------------------------------


def _extra_rows() -> None:
    """Rows the demo world does not make, in offices of different subtrees."""
    from xietong.membership import actions as membership
    from xietong.membership.models import Member

    org = {o.code: o for o in Organization.objects.all()}
    for code, number in (("bj-pinggu", "110117199001011230"), ("hebei-fed", "130102199001011236")):
        membership.join_application_submit(
            organization=org[code], name="王建国", id_number=_valid(number), phone_number="13900001111",
            employer_name="测试单位", consent=True,
        )  # fmt: skip
    for source, to in (("bj-dongcheng", "bj-pinggu"), ("hebei-fed", "bj-pinggu")):
        member = Member.objects.filter(organization=org[source], status="active").order_by("pk").first()
        if member is not None:
            membership.transfer_request(member=member, to_organization=org[to], acting_user=None)
    for code in ("bj-pinggu", "hebei-fed"):
        membership.member_import_start(
            organization=org[code], acting_user=None, dry_run=True,
            uploaded=SimpleUploadedFile("members.csv", "姓名,身份证号码\n".encode()),
        )  # fmt: skip
    from xietong.membership.models import CardPrintJob

    for code in ("bj-pinggu", "hebei-fed"):  # print sheets, as a union's card officer would start one
        CardPrintJob.objects.create(organization=org[code], title=f"{code}实体卡")
    from xietong.core.models import ExportJob

    for code in ("bj-pinggu", "hebei-fed"):  # a member roll exported in the background there
        ExportJob.objects.create(
            view="xietong.membership.views.MemberListView", list_path="/membership/members/",
            permission="membership.view_member", params={}, filename="会员名册.xlsx",
            target_type="membership.member", total_rows=1, organization=org[code],
        )  # fmt: skip
    _exchange_rows(org)
    _wide_viewer(org)


def _wide_viewer(org: dict[str, Organization]) -> None:
    """One account that is not in the demo: it reads the whole node but changes only in one district
    union and one district HRSS office (issue 11 defect 1's shape), so a write that loads its row
    through the view-scoped queryset shows up."""
    from xietong.core.models import Role, RoleAssignment
    from xietong.core.permissions import forget
    from xietong.core.roles import DEFAULT_ROLES
    from xietong.core.testing import make_user

    reads = sorted({perm for spec in DEFAULT_ROLES for perm in spec.permissions if ".view_" in perm})
    user = make_user(WIDE_VIEWER, perms=reads, organization=org["bj-pinggu"], node_wide=True)
    for role, code in (
        ("union_officer", "bj-pinggu"),
        ("account_admin", "bj-pinggu"),
        ("hrss_officer", "bj-daxing-hrss"),
        ("labour_inspector", "bj-insp"),
    ):
        RoleAssignment.objects.create(user=user, role=Role.objects.get(code=role), organization=org[code])
    forget(user)


def _exchange_rows(org: dict[str, Organization]) -> None:
    """Insurance transfers (one incoming, owned by the top HRSS office), arrears listings and
    certification runs, in offices of different subtrees."""
    from xietong.exchange import actions as exchange
    from xietong.inspection import actions as inspection
    from xietong.insurance import actions as insurance
    from xietong.insurance.models import BenefitRoster, CertificationFinding, EligibilityCheck
    from xietong.lib import crypto

    _private, public = crypto.generate_signing_key()
    tj = exchange.node_register(
        node_id="tj", name="天津节点", endpoint="http://127.0.0.1:8002", public_key=public,
        region_code="120000", acting_user=None,
    )  # fmt: skip
    for code in ("bj-daxing-hrss", "hebei-hrss"):
        insurance.transfer_request(
            organization=org[code], name="张三", id_number=_valid("120101198001011230"),
            sending_node="tj", applied_on=dt.date(2026, 11, 23), acting_user=None,
        )  # fmt: skip
    insurance.transfer_apply_remote(  # an incoming request: it belongs to the top HRSS office
        "insurance.transfer_requested",
        {"uid": "e" * 32, "name": "李四", "id_number": _valid("120101198001021230"), "scheme": "pension",
         "applied_on": "2026-11-23", "authority": "天津市人力资源和社会保障局", "office": ""},
        tj,
    )  # fmt: skip
    for code in ("bj-insp", "hebei-insp"):
        inspection.arrears_list(
            organization=org[code], credit_code=world.synthetic_credit_code(f"arrears-{code}"),
            employer_name=f"欠薪单位{code}", amount_owed="1000", workers_affected=3,
            decision_no=f"{code}-1", listed_on=dt.date(2026, 1, 5), acting_user=None,
        )  # fmt: skip
    pensions = "人员编号,姓名,公民身份号码,待遇起始日期\nYL0001,赵六,{},2020-01-01\n"
    for code, number in (("bj-daxing-hrss", "110115195001011230"), ("hebei-hrss", "130102195001011230")):
        roster = insurance.roster_import_start(
            organization=org[code], kind="pension", title=f"{code}名册", mapping={}, acting_user=None,
            uploaded=SimpleUploadedFile("p.csv", pensions.format(_valid(number)).encode()),
        )  # fmt: skip
        job_run(label="insurance.BenefitRoster", pk=roster.pk)  # the worker's part, here and now
        roster = BenefitRoster.objects.get(pk=roster.pk)
        run = EligibilityCheck.objects.create(
            uid=f"{code:x<32}"[:32], organization=org[code], roster=roster, checks=["duplicate"]
        )
        entry = roster.entries.first()
        assert entry is not None, roster.message
        if entry is not None:
            CertificationFinding.objects.create(
                run=run, entry=entry, partner="tj", partner_name="天津", kind="duplicate",
                evidence="两地同时领取", score=1.0,
            )  # fmt: skip


def _valid(seventeen_or_eighteen: str) -> str:
    from xietong.lib import idnumber

    body = seventeen_or_eighteen[:17]
    return body + idnumber.check_digit(body)


@pytest.fixture(scope="module")
def demo_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Client]]:
    """The demo world at its smallest, built once for the module inside a transaction that is rolled
    back at the end (each test runs in a savepoint within it), and a signed-in client per account."""
    with django_db_blocker.unblock(), transaction.atomic():
        world.build(people_per_org=1)
        _extra_rows()
        clients = {}
        for username in ACCOUNTS:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        yield clients
        transaction.set_rollback(True)


# The sweep ----------------------------------------------------------------------------------------


@functools.cache
def _routes() -> dict[str, Route]:
    return routes_by_name()


def _is_api(route_name: str) -> bool:
    return hasattr(_routes()[route_name].callback, "cls")


def _urls(route_name: str, target: Target, row: Any) -> list[str]:
    arguments = [a for a in _routes()[route_name].arguments if a != "format"]
    options: list[dict[str, Any]] = [{}]
    for name in arguments:
        if name in target.extra:
            values = target.extra[name]
            values = (values(row),) if callable(values) else values
        else:
            values = (row.pk,)
        options = [{**o, name: v} for o in options for v in values]
    return [reverse(route_name, kwargs=o) for o in options]


def _state(row: Any) -> tuple[Any, ...]:
    """What must not change: the row (re-read) and the size of the audit log."""
    fresh = type(row)._default_manager.filter(pk=row.pk).values().first()
    return (fresh, AuditEvent.objects.count())


def _sweep(client: Client, route_name: str, user: User) -> list[str]:
    target = TARGETS[route_name]
    methods: list[tuple[str, bool]] = [("get", False), ("post", True)]
    if _is_api(route_name):
        methods += [("patch", True), ("delete", True)]
    problems = []
    for method, write in methods:
        probes = [(row, url) for row in target.outside(user, write) for url in _urls(route_name, target, row)]
        for row, url in probes:
            before = _state(row)
            data = target.data if write else {}
            if _is_api(route_name):
                response = getattr(client, method)(url, data, content_type="application/json")
            else:
                response = getattr(client, method)(url, data)
            status = response.status_code
            to_login = status == 302 and response["Location"].startswith(reverse("login"))
            if not (status in ALLOWED or to_login):
                problems.append(f"{method.upper()} {url} → {status}")
            if _state(row) != before:
                problems.append(f"{method.upper()} {url} changed the database")
    return problems


ACCOUNTS = [*(account.username for account in world.demo_accounts()), WIDE_VIEWER]


def _cases() -> Iterator[Any]:
    for username in ACCOUNTS:
        for route_name in sorted(TARGETS):
            reason = KNOWN_LEAKS.get((username, route_name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(username, route_name, marks=marks, id=f"{username}-{route_name}")


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "route_name"), list(_cases()))
def test_nothing_outside_the_scope_is_answered(
    demo_world: dict[str, Client], username: str, route_name: str
) -> None:
    problems = _sweep(demo_world[username], route_name, User.objects.get(username=username))
    assert not problems, f"{username} reached rows outside its scope:\n  " + "\n  ".join(problems)


def test_every_object_route_has_a_target() -> None:
    """A new route that names an object needs a line in TARGETS (or UNSWEPT, with the reason)."""
    missing = [
        name
        for name, route in _routes().items()
        if route.arguments and name not in TARGETS and name not in UNSWEPT
    ]
    stale = [name for name in [*TARGETS, *UNSWEPT] if name not in _routes()]
    assert not missing, f"Routes with an object argument missing from TARGETS: {missing}"
    assert not stale, f"TARGETS/UNSWEPT name routes that no longer exist: {stale}"


@pytest.mark.django_db
def test_every_target_is_swept_for_some_account(demo_world: dict[str, Client]) -> None:
    """The world holds, for each route, a row outside some account's scope (else the sweep is void)."""
    void = [
        name
        for name, target in TARGETS.items()
        if not any(
            target.outside(User.objects.get(username=u), write) for u in ACCOUNTS for write in (False, True)
        )
    ]
    assert not void, f"No account has a row outside its scope for: {void}"

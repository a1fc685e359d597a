"""Build the demo world from ``data/world.toml`` (organisations and employers named in the seeds),
the default roles, one account per role, and synthetic people. Idempotent: running it again
changes nothing that is already there.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import zlib
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction

from xietong.core import actions
from xietong.core.jobs import job_run
from xietong.core.models import Affiliation, Employer, Organization, Person, Region, Role, User
from xietong.lib import creditcode

from .accounts import DEMO_PASSWORD, NODE_OFFICES, NODE_PROVINCES, accounts_for
from .people import synthetic_people

__all__ = ["DEMO_PASSWORD", "DemoAccount", "build", "build_scale", "demo_accounts"]

UNION_KINDS = ("federation", "industry_union", "sector_federation", "grassroots_union")

WORLD_FILE = Path(__file__).parent / "data" / "world.toml"


@dataclass(frozen=True)
class DemoAccount:
    """One demo account, as ``xietong demo --print-users`` prints it."""

    username: str
    password: str
    role: str
    organization: str | None
    display_name: str
    place: str = ""


def load_world() -> dict[str, Any]:
    with WORLD_FILE.open("rb") as handle:
        return tomllib.load(handle)


def demo_accounts(node: str | None = None) -> list[DemoAccount]:
    """The demo accounts of ``node`` (None: all, the single-node demo) with their password, role and
    organisation (names resolved from the world file)."""
    names = {org["code"]: org["name"] for org in load_world()["organization"]}
    return [
        DemoAccount(
            a.username, DEMO_PASSWORD, a.role, names.get(a.org) if a.org else None, a.display_name, a.place
        )
        for a in accounts_for(node)
    ]


def organizations_of(rows: list[dict[str, Any]], node: str | None) -> list[dict[str, Any]]:
    """The world's organisations a node holds: those of its province and the national bodies above
    them (all of them for the single-node demo, ``node`` None)."""
    if node is None or node not in NODE_PROVINCES:
        return rows
    by_code = {row["code"]: row for row in rows}
    keep: set[str] = set()
    for row in rows:
        if not row["region"].startswith(NODE_PROVINCES[node]):
            continue
        code: str | None = row["code"]
        while code and code not in keep:
            keep.add(code)
            code = by_code[code].get("parent")
    return [row for row in rows if row["code"] in keep]


def synthetic_credit_code(key: str) -> str:
    """A valid, stable unified social credit code for a demo employer (9 = enterprise, 1 = company)."""
    digits = f"{zlib.crc32(key.encode()):010d}"[-9:]
    body = f"91{'110000'}{digits}"[:17]
    return body + creditcode.check_char(body)


@transaction.atomic
def build(*, people_per_org: int = 6, node: str | None = None, stdout: Any = None) -> dict[str, int]:
    """Create (or complete) the demo world; returns counts of what exists afterwards.

    ``node`` (bj, tj, hb) builds one region group node: its province's organisations, employers and
    accounts only, so its forms offer its own offices; None builds the whole world on one node."""

    def say(text: str) -> None:
        if stdout is not None:
            stdout.write(text)

    if not Region.objects.exists():
        say("载入行政区划代码……")
        actions.regions_load()
    actions.roles_sync()
    world = load_world()
    orgs = _build_organizations(organizations_of(world["organization"], node))
    say(f"组织：{len(orgs)} 个")
    _build_employers([r for r in world.get("employer", []) if r["union"] in orgs], orgs)
    _build_accounts(orgs, node)
    _build_people(orgs, people_per_org)
    _build_membership(orgs)
    _build_exchange()
    _build_certification(world.get("certification_statistic", []), orgs)
    _build_services(orgs)
    _build_benefits(orgs)
    return {
        "organizations": Organization.objects.count(),
        "employers": Employer.objects.count(),
        "people": Person.objects.count(),
        "accounts": User.objects.count(),
    }


def _region(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:  # a code missing from the table: fall back to its province
        region = Region.objects.get(code=code[:2] + "0000")
    return region


def _build_organizations(rows: list[dict[str, Any]]) -> dict[str, Organization]:
    orgs: dict[str, Organization] = {org.code: org for org in Organization.objects.all()}
    pending = [row for row in rows if row["code"] not in orgs]
    while pending:
        progressed = False
        for row in list(pending):
            parent_code = row.get("parent")
            if parent_code and parent_code not in orgs:
                continue
            org = Organization(
                code=row["code"],
                name=row["name"],
                kind=row["kind"],
                parent=orgs.get(parent_code) if parent_code else None,
                region=_region(row["region"]),
                note=row.get("note", ""),
            )
            orgs[org.code] = actions.organization_save(organization=org, acting_user=None)
            pending.remove(row)
            progressed = True
        if not progressed:
            raise ValueError(f"world.toml 中以下组织的上级不存在：{[r['code'] for r in pending]}")
    for row in rows:
        for parent_code in row.get("affiliations", []):
            if parent_code not in orgs:  # the other side lives on another node
                continue
            Affiliation.objects.get_or_create(organization=orgs[row["code"]], parent=orgs[parent_code])
    return orgs


def _build_employers(rows: list[dict[str, Any]], orgs: dict[str, Organization]) -> None:
    existing = set(Employer.objects.values_list("name", flat=True))
    for row in rows:
        if row["name"] in existing:
            continue
        employer = Employer(
            name=row["name"],
            credit_code=synthetic_credit_code(row["code"]),
            region=_region(row["region"]),
            organization=orgs[row["union"]],
            sector=row.get("sector", ""),
        )
        actions.employer_save(employer=employer, acting_user=None)


def _build_accounts(orgs: dict[str, Organization], node: str | None) -> None:
    for spec in accounts_for(node):
        username, display, role_code, org_code = spec.username, spec.display_name, spec.role, spec.org
        if org_code and org_code not in orgs:
            continue
        organization = orgs.get(org_code) if org_code else None
        user = User.objects.filter(username=username).first()
        if user is None:
            user = actions.user_create(
                username=username,
                password=DEMO_PASSWORD,
                display_name=display,
                organization=organization,
                acting_user=None,
            )
        actions.role_grant(
            user=user, role=Role.objects.get(code=role_code), organization=organization, acting_user=None
        )


def _build_exchange() -> None:
    """A hub node registers itself, so its registry and operator page are not empty."""
    from django.conf import settings

    from xietong.core import pii
    from xietong.exchange import actions as exchange_actions
    from xietong.exchange.models import ExchangeNode

    if settings.XIETONG_HUB_NODE_ID != settings.XIETONG_NODE_ID or ExchangeNode.objects.exists():
        return
    exchange_actions.node_register(
        node_id=settings.XIETONG_NODE_ID,
        name=settings.XIETONG_NODE_NAME,
        endpoint=settings.XIETONG_NODE_ENDPOINT,
        public_key=pii.node_public_key(),
        region_code=settings.XIETONG_REGION_CODE,
        acting_user=None,
    )


def _build_certification(statistics: list[dict[str, Any]], orgs: dict[str, Organization]) -> None:
    """The regions' reported certification figures (seed 002), and the node's office's rosters.

    The rosters come from one pool of synthetic retirees shared by the demo nodes: each node pays a
    third of them (a few are paid everywhere: duplicates) and registered the deaths of some of the
    next node's pensioners, so a run between the demo nodes has something to find.
    """
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xietong.insurance import actions as insurance_actions
    from xietong.insurance.models import BenefitRoster, CertificationStatistic

    for row in statistics:
        CertificationStatistic.objects.update_or_create(
            region_name=row["region"],
            year=row["year"],
            defaults={"assisted": row.get("assisted", 0), "source": row["source"]},
        )
    node = settings.XIETONG_NODE_ID
    office = orgs.get(NODE_OFFICES.get(node, "bj-hrss"))
    if office is None or BenefitRoster.objects.exists():
        return
    k = list(NODE_OFFICES).index(node) if node in NODE_OFFICES else 0
    pool = synthetic_people(2019, "110105", 90, born_from=date(1938, 1, 1), years=26)  # retirees
    pensions = ["人员编号,姓名,公民身份号码,待遇起始日期"] + [
        f"YL{i:04d},{p.name},{p.id_number},20{10 + i % 15}-{1 + i % 12:02d}-01"
        for i, p in enumerate(pool)
        if i % 3 == k or i < 3
    ]
    deaths = ["人员编号,姓名,公民身份号码,死亡日期"] + [
        f"SW{i:04d},{p.name},{p.id_number},2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
        for i, p in enumerate(pool)
        if i % 3 == (k + 1) % 3 and i % 10 in (4, 7)
    ]
    for kind, title, lines in (
        ("pension", f"{office.name}养老保险待遇领取人员", pensions),
        ("death", f"{office.name}死亡登记", deaths),
    ):
        roster = insurance_actions.roster_import_start(
            organization=office, kind=kind, title=title, mapping={}, acting_user=None,
            uploaded=SimpleUploadedFile(f"{kind}.csv", "\n".join(lines).encode("utf-8")),
        )  # fmt: skip
        job_run(label="insurance.BenefitRoster", pk=roster.pk)  # here and now: the demo has no worker yet


def _build_people(orgs: dict[str, Organization], per_org: int) -> None:
    if Person.objects.exists():
        return
    for org in orgs.values():
        if not org.is_union:
            continue
        seed = zlib.crc32(org.code.encode())
        for person in synthetic_people(
            seed, org.region_id if org.region.level == "county" else _county(org), per_org
        ):
            actions.person_create(organization=org, acting_user=None, **asdict(person))
    _build_seed_people(orgs)


def _build_membership(orgs: dict[str, Organization]) -> None:
    """Members with cards for most people registered at unions, the seed's partner hospital desk and
    an outreach event at 快手集团 (seed 003: 中关村科学城总工会's 30th worker outreach meeting)."""
    from datetime import date

    from xietong.membership import actions as membership
    from xietong.membership.choices import Benefit, MemberSource, ServicePointKind
    from xietong.membership.models import Member, OutreachEvent, ServicePoint

    if not Member.objects.exists():
        for index, person in enumerate(
            Person.objects.filter(organization__kind__in=UNION_KINDS).order_by("pk")
        ):
            if index % 5 == 4:  # some registered people have not joined yet
                continue
            member = membership.member_create(
                person=person,
                organization=person.organization,
                joined_on=date(2025, 1 + index % 12, 1 + index % 28),
                source=MemberSource.MANUAL,
                acting_user=None,
            )
            membership.card_issue(member=member, acting_user=None)
    if not ServicePoint.objects.exists() and "bj-mentougou" in orgs:
        point = ServicePoint.objects.create(
            organization=orgs["bj-mentougou"],
            name="北京市门头沟区医院挂号窗口",
            kind=ServicePointKind.HOSPITAL,
            address="北京市门头沟区河滩桥东街10号",
            benefits=[Benefit.FREE_REGISTRATION],
        )
        point.accounts.add(User.objects.get(username="hospital_desk"))
    if not OutreachEvent.objects.exists() and "bj-zgc" in orgs:
        membership.outreach_event_create(
            organization=orgs["bj-zgc"],
            employer=Employer.objects.filter(name="快手集团").first(),
            title="中关村科学城总工会第30场职工沟通会（快手集团）",
            held_on=date(2026, 6, 18),
            acting_user=None,
        )


def _county(org: Organization) -> str:
    """A county-level code under the organisation's region, for plausible ID numbers."""
    child = Region.objects.filter(
        code__startswith=org.region_id.rstrip("0")[:4], level="county", abolished=False
    )
    first = child.exclude(name="市辖区").order_by("code").first()
    return first.code if first else org.region_id


def _build_seed_people(orgs: dict[str, Organization]) -> None:
    """People the seeds tell of: 李健 (seed 000) grew up in 原宣武区, so his number begins 110104."""
    import random
    from datetime import date

    from .people import synthetic_id

    if "bj-dongcheng" not in orgs:
        return
    rng = random.Random(1975)
    actions.person_create(
        name="李健",
        id_number=synthetic_id(rng, "110104", date(1975, 6, 18), "M"),
        phone="13911075618",
        organization=orgs["bj-dongcheng"],
        acting_user=None,
    )


# The seed's figures for 北京市政法卫生文化工会: 12.15万 real-name members, 11.81万 cards issued.
SEED_CARD_RATIO = 11.81 / 12.15


def build_scale(members: int, *, stdout: Any = None) -> dict[str, int]:
    """Grow 北京市政法卫生文化工会 (with its unions) to ``members`` real-name members, with cards for
    the seed's share of them, through the bulk import path. Idempotent: counts what is there first."""
    import io

    from django.core.files.base import ContentFile

    from xietong.membership import actions as membership
    from xietong.membership.choices import MemberStatus
    from xietong.membership.models import Member, MemberImport

    root = Organization.objects.get(code="bj-zfws")
    unions = [
        org
        for org in Organization.objects.filter(path__startswith=root.path).order_by("path")
        if org.is_union
    ]
    in_tree = Member.objects.filter(
        organization__path__startswith=root.path, status__in=MemberStatus.current()
    )
    round_number = 0
    while (missing := members - in_tree.count()) > 0 and round_number < 5:
        round_number += 1
        for index, org in enumerate(unions):
            count = missing // len(unions) + (1 if index < missing % len(unions) else 0)
            if not count:
                continue
            seed = zlib.crc32(f"{org.code}-{round_number}-{members}".encode())
            rows = synthetic_people(
                seed, org.region_id if org.region.level == "county" else _county(org), count
            )
            text = io.StringIO()
            text.write("姓名,身份证号码,手机号码\n")
            for person in rows:
                text.write(f"{person.name},{person.id_number},{person.phone}\n")
            job = MemberImport(organization=org, original_name="demo-scale.csv", skip_invalid=True)
            job.file.save("demo-scale.csv", ContentFile(text.getvalue().encode("utf-8")), save=True)
            membership.member_import_run(job=job)
            if stdout is not None:
                stdout.write(f"{org.name}：{job.message}")
    members_now = list(in_tree.filter(status="active"))
    target_cards = round(len(members_now) * SEED_CARD_RATIO)
    holders = set(in_tree.filter(status="active", cards__status="active").values_list("pk", flat=True))
    holding = len(holders)
    without = [m for m in members_now if m.pk not in holders][: max(0, target_cards - holding)]
    issued = membership.cards_issue_bulk(members=without, acting_user=None)
    return {"members": in_tree.count(), "cards": holding + issued}


# Worker services (issue 14): the service network of Beijing (city, districts, streets) and some of
# Hebei's centres, lawyers, standard answers and a few 12351 requests in every state.
STATIONS: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    # (union code, name, level, district code, address, services)
    (
        "bj-fed",
        "北京市职工服务中心",
        "city",
        "110101",
        "东城区（演示地址）职工服务中心大厅",
        ("policy", "legal_aid", "hardship", "mutual_aid", "employment", "skills", "living", "complaint"),
    ),
    (
        "bj-dongcheng",
        "东城区职工服务中心",
        "district",
        "110101",
        "东城区（演示地址）",
        ("policy", "legal_aid", "hardship", "mutual_aid"),
    ),
    (
        "bj-dongcheng",
        "东城区东华门街道职工服务站",
        "street",
        "110101",
        "东华门街道（演示地址）",
        ("policy", "living"),
    ),
    (
        "bj-dongcheng",
        "东城区和平里街道职工服务站",
        "street",
        "110101",
        "和平里街道（演示地址）",
        ("policy", "mutual_aid"),
    ),
    (
        "bj-mentougou",
        "门头沟区职工服务中心",
        "district",
        "110109",
        "门头沟区（演示地址）",
        ("policy", "legal_aid", "mutual_aid", "hardship"),
    ),
    (
        "bj-mentougou",
        "门头沟区大峪街道职工服务站",
        "street",
        "110109",
        "大峪街道（演示地址）",
        ("policy", "living"),
    ),
    (
        "bj-daxing",
        "大兴区职工服务中心",
        "district",
        "110115",
        "大兴区（演示地址）",
        ("policy", "legal_aid", "employment", "skills"),
    ),
    (
        "bj-daxing",
        "大兴区兴丰街道职工服务站",
        "street",
        "110115",
        "兴丰街道（演示地址）",
        ("policy", "living"),
    ),
    (
        "bj-daxing-biomed",
        "大兴生物医药产业基地基层工会服务站",
        "grassroots",
        "110115",
        "生物医药产业基地（演示地址）",
        ("policy", "skills"),
    ),
    (
        "hebei-fed",
        "河北省职工服务中心",
        "province",
        "130100",
        "石家庄市（演示地址）",
        ("policy", "legal_aid", "hardship", "employment", "skills"),
    ),
    (
        "hebei-shijiazhuang",
        "石家庄市职工服务中心",
        "city",
        "130100",
        "石家庄市（演示地址）",
        ("policy", "legal_aid", "skills"),
    ),
    (
        "hebei-tangshan",
        "唐山市职工服务中心",
        "city",
        "130200",
        "唐山市（演示地址）",
        ("policy", "employment", "skills"),
    ),
    (
        "hebei-langfang",
        "廊坊市职工服务中心",
        "city",
        "131000",
        "廊坊市（演示地址）",
        ("policy", "legal_aid", "living"),
    ),
)

# Seed 001: "河北现有……职工服务中心181个". The demo lists a few of them.
HEBEI_CENTRES = 181

LAWYERS = (
    ("bj-fed", "陈律师", "北京市（演示）劳动法律师事务所", "劳动争议、工伤赔偿"),
    ("bj-fed", "刘律师", "北京市（演示）律师事务所", "欠薪、社会保险"),
    ("bj-mentougou", "赵律师", "门头沟区（演示）律师事务所", "劳动合同"),
    ("hebei-fed", "孙律师", "河北省（演示）律师事务所", "劳动争议"),
)

ANSWERS = (
    (
        "bj-fed",
        "legal_aid",
        "单位拖欠工资怎么办？",
        "可先与单位协商；协商不成可向劳动保障监察机构投诉，或向劳动人事争议仲裁委员会申请仲裁。"
        "工会为职工提供免费法律咨询和法律援助，可拨打12351。",
        "欠薪 工资 仲裁",
        True,
    ),
    (
        "bj-fed",
        "policy",
        "入职满一年能休几天年休假？",
        "职工累计工作已满1年不满10年的，年休假5天；已满10年不满20年的，10天；已满20年的，15天。",
        "年假 年休假",
        True,
    ),
    (
        "bj-fed",
        "mutual_aid",
        "互助服务卡能在哪里免费挂号？",
        "持工会会员互助服务卡可在合作医院（如门头沟区医院）挂号窗口免费挂号，以医院公告为准。",
        "京卡 挂号 互助服务卡",
        True,
    ),
    (
        "bj-fed",
        "complaint",
        "坐席口径：投诉类诉求的转办",
        "涉及用人单位违法的投诉，记录单位名称和所在区后转所在区总工会办理。",
        "投诉 转办",
        False,
    ),
)


def _build_benefits(orgs: dict[str, Organization]) -> None:
    """Seed 000's universal benefit: 门头沟 members register free of charge at 门头沟区医院 with the
    card, 12 times a year, redeemed at the hospital's desk (``hospital_desk``)."""
    from datetime import date

    from xietong.membership.models import ServicePoint
    from xietong.services import actions as services
    from xietong.services.models import BenefitProvider

    point = ServicePoint.objects.filter(name="北京市门头沟区医院挂号窗口").first()
    if point is None or BenefitProvider.objects.exists() or "bj-mentougou" not in orgs:
        return
    hospital = services.provider_save(
        organization=orgs["bj-mentougou"],
        name="北京市门头沟区医院",
        kind="hospital",
        district=_region("110109"),
        address=point.address,
        service_points=[point],
        acting_user=None,
    )
    services.benefit_save(
        provider=hospital,
        name="会员免费挂号",
        kind="free_registration",
        description="持工会会员互助服务卡（电子卡或实体卡）在挂号窗口免费挂号，每人每年12次。",
        valid_from=date(2025, 1, 1),
        limit_count=12,
        limit_period="year",
        acting_user=None,
    )


def _build_services(orgs: dict[str, Organization]) -> None:
    """Stations, lawyers, standard answers and a few requests (skipped when stations exist)."""
    from django.utils import timezone

    from xietong.services import actions as services
    from xietong.services.models import ServiceCategory, ServiceRequest, ServiceStation

    if ServiceStation.objects.exists() or "bj-fed" not in orgs:
        return
    services.categories_sync()  # a test that flushed the tables removed the migration's rows
    categories = {category.code: category for category in ServiceCategory.objects.all()}
    for code, name, level, district, address, offered in STATIONS:
        if code not in orgs:
            continue
        description = ""
        if code == "hebei-fed":
            description = (
                f"河北省各级工会现有职工服务中心{HEBEI_CENTRES}个（河北省总工会），演示数据只列出其中几个。"
            )
        services.station_create(
            organization=orgs[code],
            name=name,
            level=level,
            district=_region(district),
            address=address,
            hours="周一至周五 9:00–17:00",
            phone="12351",
            description=description,
            services=[categories[c] for c in offered],
            acting_user=None,
        )
    admin = User.objects.filter(username="services_bj").first()
    for code, name, firm, specialties in LAWYERS:
        if code in orgs and admin is not None:
            services.lawyer_create(
                organization=orgs[code], name=name, firm=firm, specialties=specialties, acting_user=admin
            )
    for code, category, question, text, keywords, public in ANSWERS:
        if admin is not None:
            services.knowledge_save(
                organization=orgs[code],
                category=categories[category],
                question=question,
                text=text,
                keywords=keywords,
                public=public,
                acting_user=admin,
            )
    if admin is None:
        return
    call = {"channel": "hotline", "received_by": orgs["bj-fed"], "call_taken_by": admin, "acting_user": admin}
    wages = services.request_file(
        category=categories["legal_aid"],
        subject="工地拖欠三个月工资",
        description="大兴区某工地拖欠工资，要求法律援助。",
        requester_name="赵建国",
        requester_phone="13700001111",
        district=_region("110115"),
        call_seconds=240,
        **call,
    )
    services.request_acknowledge(service_request=wages, acting_user=admin)
    lawyer = services.selectors.roster_for(wages).first()
    if lawyer is not None:
        services.legal_aid_open(service_request=wages, lawyer=lawyer, acting_user=admin)
    leave = services.request_file(
        category=categories["policy"],
        subject="咨询年休假",
        description="入职满一年能休几天年假？",
        requester_name="周敏",
        requester_phone="13800138000",
        call_seconds=95,
        **call,
    )
    services.request_reply(service_request=leave, text=ANSWERS[1][3], final=True, acting_user=admin)
    services.request_close(service_request=leave, satisfaction=5, acting_user=admin)
    late = services.request_file(
        category=categories["complaint"],
        subject="单位不签劳动合同",
        description="入职三个月单位仍不签劳动合同。",
        requester_name="钱亮",
        requester_phone="13600002222",
        district=_region("110109"),
        call_seconds=130,
        **call,
    )
    past = timezone.localdate() - dt.timedelta(days=14)
    ServiceRequest.objects.filter(pk=late.pk).update(acknowledge_due=past, answer_due=past)
    services.requests_escalate_overdue()
    if "hebei-langfang" in orgs:
        services.request_file(
            channel="web",
            category=categories["employment"],
            subject="咨询创业扶持政策",
            description="想在廊坊开办小微企业，工会有哪些扶持？",
            requester_name="孙丽",
            requester_phone="13500003333",
            received_by=orgs["hebei-langfang"],
            acting_user=admin,
        )

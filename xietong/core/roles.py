"""The roles every node starts with. ``actions.roles_sync()`` writes them; a node may add its own.

``grantable`` lists the roles that an account holding the role (with ``core.manage_accounts``) may
grant to other accounts (ADR 011): an account administrator hands out the union roles, a node
administrator every role but its own. Node administrators are made by a superuser (``xietong
createsuperuser`` on the node) or by set-up, never by another account administrator.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    description: str
    permissions: tuple[str, ...]
    grantable: tuple[str, ...] = ()


_VIEW_CORE = ("core.view_organization", "core.view_employer", "core.view_person")
_VIEW_MEMBERSHIP = (
    "membership.view_member",
    "membership.view_joinapplication",
    "membership.view_membercard",
    "membership.view_outreachevent",
    "membership.view_carduse",
    "membership.view_memberimport",
)
_RUN_MEMBERSHIP = (
    "membership.change_member",
    "membership.change_joinapplication",
    "membership.change_membercard",
    "membership.add_outreachevent",
    "membership.add_memberimport",
)

_VIEW_ARREARS = ("inspection.view_arrearslisting",)
# Eligibility certification: rosters, runs, and deciding findings (HRSS officers).
CERTIFICATION_PERMISSIONS = (
    "insurance.view_benefitroster",
    "insurance.add_benefitroster",
    "insurance.view_eligibilitycheck",
    "insurance.add_eligibilitycheck",
    "insurance.view_certificationfinding",
    "insurance.change_certificationfinding",
)

# Worker services (issue 14): the network, 12351 requests, knowledge base, legal aid.
_VIEW_SERVICES = (
    "services.view_servicestation",
    "services.view_servicerequest",
    "services.view_knowledgeanswer",
    "services.view_lawyer",
    "services.view_legalaidcase",
    "services.view_benefitprovider",
    "services.view_benefit",
    "services.view_benefituse",
)
SERVICES_PERMISSIONS = (
    *_VIEW_SERVICES,
    "services.add_servicestation",
    "services.change_servicestation",
    "services.add_servicerequest",
    "services.change_servicerequest",
    "services.add_knowledgeanswer",
    "services.change_knowledgeanswer",
    "services.add_lawyer",
    "services.change_lawyer",
    "services.add_legalaidcase",
    "services.change_legalaidcase",
    "services.add_benefitprovider",
    "services.change_benefitprovider",
    "services.add_benefit",
    "services.change_benefit",
    "services.change_servicecategory",
)
# The 12351 operator and the station's staff: take and answer requests, read the knowledge base.
_ANSWER_REQUESTS = (
    "services.view_servicestation",
    "services.view_servicerequest",
    "services.add_servicerequest",
    "services.change_servicerequest",
    "services.view_knowledgeanswer",
)

DEFAULT_ROLES: tuple[RoleSpec, ...] = (
    RoleSpec(
        "node_admin",
        "节点管理员",
        "管理本节点的账号、角色和基础数据，可查看审计日志",
        (
            *_VIEW_CORE,
            "core.add_organization",
            "core.change_organization",
            "core.add_employer",
            "core.change_employer",
            "core.add_person",
            "core.change_person",
            "core.view_auditevent",
            "core.view_user",
            "core.manage_accounts",
            "core.view_workcalendaryear",
            "core.change_workcalendaryear",
            "exchange.operate_exchange",
            *_VIEW_ARREARS,
            "services.change_servicecategory",
        ),
        grantable=(
            "union_officer",
            "union_clerk",
            "hrss_officer",
            "labour_inspector",
            "service_point",
            "service_officer",
            "hotline_operator",
            "station_staff",
            "auditor",
            "account_admin",
        ),
    ),
    RoleSpec(
        "union_officer",
        "工会干部",
        "管理本组织及下级组织的用人单位和人员，可查看完整身份证号码（留痕）",
        (
            *_VIEW_CORE,
            "core.add_employer",
            "core.change_employer",
            "core.add_person",
            "core.change_person",
            "core.reveal_person",
            "core.view_auditevent",
            *_VIEW_MEMBERSHIP,
            *_RUN_MEMBERSHIP,
            "membership.transfer_member",
            *_VIEW_ARREARS,
            *_VIEW_SERVICES,
        ),
    ),
    RoleSpec(
        "union_clerk",
        "工会经办人员",
        "查询本组织及下级组织的人员，只能看到脱敏信息",
        (*_VIEW_CORE, "core.add_person", *_VIEW_MEMBERSHIP),
    ),
    RoleSpec(
        "hrss_officer",
        "人社经办人员",
        "人社部门经办：查询和登记人员，可查看完整身份证号码（留痕）",
        (
            *_VIEW_CORE,
            "core.add_person",
            "core.change_person",
            "core.reveal_person",
            "core.add_employer",
            *_VIEW_ARREARS,
            "insurance.view_insurancetransfer",
            "insurance.add_insurancetransfer",
            "insurance.change_insurancetransfer",
            *CERTIFICATION_PERMISSIONS,
        ),
    ),
    RoleSpec(
        "labour_inspector",
        "劳动保障监察员",
        "劳动保障监察机构：将欠薪用人单位列入或移出黑名单（发布到区域内各节点）",
        (*_VIEW_CORE, *_VIEW_ARREARS, "inspection.add_arrearslisting", "inspection.change_arrearslisting"),
    ),
    RoleSpec(
        "service_point",
        "服务点核验员",
        "在合作服务点（医院挂号窗口、公园、服务站）扫码核验会员卡并登记用卡",
        # The desk also sees its own provider's benefit uses and figures (services.selectors).
        ("membership.verify_membercard", "services.view_benefituse"),
    ),
    RoleSpec(
        "service_officer",
        "职工服务中心干部",
        "管理本组织及下级组织的服务站点、12351诉求、知识库、援助律师库和法律援助案件",
        (*_VIEW_CORE, *SERVICES_PERMISSIONS),
    ),
    RoleSpec(
        "hotline_operator",
        "12351话务员",
        "接听12351热线，登记、答复和转交本组织及下级组织的服务诉求",
        ("core.view_organization", *_ANSWER_REQUESTS),
    ),
    RoleSpec(
        "station_staff",
        "服务站工作人员",
        "在服务站受理职工来访，维护本站信息，答复本组织的服务诉求",
        ("core.view_organization", *_ANSWER_REQUESTS, "services.change_servicestation"),
    ),
    RoleSpec("auditor", "审计员", "查看审计日志", ("core.view_organization", "core.view_auditevent")),
    RoleSpec(
        "account_admin",
        "账号管理员",
        "管理本组织及下级组织的账号和角色",
        ("core.view_organization", "core.view_user", "core.manage_accounts"),
        grantable=(
            "union_officer",
            "union_clerk",
            "service_point",
            "service_officer",
            "hotline_operator",
            "station_staff",
            "auditor",
        ),
    ),
)

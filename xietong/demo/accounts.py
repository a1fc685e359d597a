"""The demo accounts of each node of the region group, as plain data (no Django): the world builds
them, and the launcher prints them before any node's Django has started."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "Xietong-demo-2026"


@dataclass(frozen=True)
class AccountSpec:
    """One demo account: who it is, its role and where (``org`` None: node-wide), on which node."""

    username: str
    display_name: str
    role: str
    org: str | None
    node: str | None  # the region group node it belongs to; None: every node
    place: str = ""  # how the pages name where it works, when that is not the organisation


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin", "节点管理员", "node_admin", None, None),
    AccountSpec("auditor", "审计员", "auditor", None, None),
    # 北京
    AccountSpec("bj_officer", "北京市总工会干部", "union_officer", "bj-fed", "bj"),
    AccountSpec("dongcheng_officer", "东城区总工会干部", "union_officer", "bj-dongcheng", "bj"),
    AccountSpec("zfws_officer", "政法卫生文化工会干部", "union_officer", "bj-zfws", "bj"),
    AccountSpec("zfws_clerk", "政法卫生文化工会经办", "union_clerk", "bj-zfws", "bj"),
    AccountSpec("accounts_bj", "北京市总工会账号管理员", "account_admin", "bj-fed", "bj"),
    AccountSpec("hrss_bj", "北京市人社局经办", "hrss_officer", "bj-hrss", "bj"),
    AccountSpec("inspector_bj", "北京市劳动保障监察员", "labour_inspector", "bj-insp", "bj"),
    AccountSpec(
        "hospital_desk",
        "门头沟区医院挂号窗口",
        "service_point",
        "bj-mentougou",
        "bj",
        place="北京市门头沟区医院挂号窗口",
    ),
    AccountSpec("hotline_bj", "北京12351话务员", "hotline_operator", "bj-fed", "bj"),
    AccountSpec("services_bj", "北京市职工服务中心干部", "service_officer", "bj-fed", "bj"),
    # 天津
    AccountSpec("tj_officer", "天津市总工会干部", "union_officer", "tj-fed", "tj"),
    AccountSpec("hrss_tj", "天津市人社局经办", "hrss_officer", "tj-hrss", "tj"),
    AccountSpec("inspector_tj", "天津市劳动保障监察员", "labour_inspector", "tj-insp", "tj"),
    # 河北
    AccountSpec("hebei_officer", "河北省总工会干部", "union_officer", "hebei-fed", "hb"),
    AccountSpec("hrss_hb", "河北省人社厅经办", "hrss_officer", "hebei-hrss", "hb"),
    AccountSpec("inspector_hb", "河北省劳动保障监察员", "labour_inspector", "hebei-insp", "hb"),
    AccountSpec("services_hebei", "河北省职工服务中心干部", "service_officer", "hebei-fed", "hb"),
)

# Each node's own HRSS bureau (``XIETONG_HRSS_OFFICE``) and the province it holds the organisations of.
NODE_OFFICES = {"bj": "bj-hrss", "tj": "tj-hrss", "hb": "hebei-hrss"}
NODE_PROVINCES = {"bj": "11", "tj": "12", "hb": "13"}

# What to try first with each role, for the launcher's summary.
ROLE_HINTS = {
    "hrss_officer": "社保关系转移、资格认证",
    "labour_inspector": "欠薪黑名单",
    "union_officer": "会员、人员",
    "service_point": "会员卡核验（免费挂号每年12次）",
    "hotline_operator": "12351热线来电登记",
    "service_officer": "职工服务诉求、法律援助",
}


def accounts_for(node: str | None) -> list[AccountSpec]:
    """The accounts of one region group node (``None``: the single-node demo, which has them all)."""
    return [a for a in ACCOUNTS if node is None or a.node in (None, node)]

"""The roles every node starts with. ``actions.roles_sync()`` writes them; a node may add its own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    description: str
    permissions: tuple[str, ...]


_VIEW_CORE = ("core.view_organization", "core.view_employer", "core.view_person")

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
        ),
    ),
    RoleSpec(
        "union_clerk",
        "工会经办人员",
        "查询本组织及下级组织的人员，只能看到脱敏信息",
        (*_VIEW_CORE, "core.add_person"),
    ),
    RoleSpec(
        "hrss_officer",
        "人社经办人员",
        "人社部门经办：查询和登记人员，可查看完整身份证号码（留痕）",
        (*_VIEW_CORE, "core.add_person", "core.change_person", "core.reveal_person", "core.add_employer"),
    ),
    RoleSpec("auditor", "审计员", "查看审计日志", ("core.view_organization", "core.view_auditevent")),
    RoleSpec(
        "account_admin",
        "账号管理员",
        "管理本组织及下级组织的账号和角色",
        ("core.view_organization", "core.view_user", "core.manage_accounts"),
    ),
)

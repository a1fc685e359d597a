"""Template context shared by every page: the navigation the signed-in account may use."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

# (label, url name, permission needed, icon). Apps add their entries here as they arrive.
NAVIGATION: list[tuple[str, str, str, str]] = [
    (N_("首页"), "core:home", "", "house"),
    (N_("组织"), "core:organization_tree", "core.view_organization", "diagram-3"),
    (N_("用人单位"), "core:employer_list", "core.view_employer", "building"),
    (N_("人员"), "core:person_list", "core.view_person", "people"),
    (N_("入会审核"), "membership:application_list", "membership.view_joinapplication", "person-check"),
    (N_("会员"), "membership:member_list", "membership.view_member", "person-vcard"),
    (N_("会员关系转接"), "membership:transfer_list", "membership.view_member", "arrow-left-right"),
    (N_("会员统计"), "membership:figures", "membership.view_member", "bar-chart"),
    (N_("职工沟通会"), "membership:event_list", "membership.view_outreachevent", "megaphone"),
    (N_("会员卡核验"), "membership:verify", "membership.verify_membercard", "qr-code-scan"),
    (N_("12351服务诉求"), "services:request_list", "services.view_servicerequest", "headset"),
    (N_("服务站点"), "services:station_list", "services.view_servicestation", "geo-alt"),
    (N_("知识库"), "services:knowledge_list", "services.view_knowledgeanswer", "book"),
    (N_("法律援助"), "services:case_list", "services.view_legalaidcase", "briefcase"),
    (N_("服务统计"), "services:figures", "services.view_servicerequest", "graph-up"),
    (N_("服务类别"), "services:category_list", "services.change_servicecategory", "tags"),
    (N_("普惠服务"), "services:benefit_list", "services.view_benefit", "gift"),
    (N_("普惠服务使用"), "services:benefit_use_list", "services.view_benefituse", "receipt"),
    (N_("社保关系转移"), "insurance:transfer_list", "insurance.view_insurancetransfer", "arrow-repeat"),
    (N_("资格认证"), "insurance:run_list", "insurance.view_eligibilitycheck", "person-check-fill"),
    (N_("欠薪黑名单"), "inspection:arrears_list", "inspection.view_arrearslisting", "slash-circle"),
    (N_("跨区域交换"), "exchange:operations", "exchange.operate_exchange", "diagram-2"),
    (N_("审计日志"), "core:audit_list", "core.view_auditevent", "journal-check"),
    (N_("账号与角色"), "core:user_list", "core.manage_accounts", "person-gear"),
    (N_("工作日历"), "core:calendar", "core.change_workcalendaryear", "calendar3"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Menu entries for the current account (by role), its unread notifications, and the node's name."""
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        path = request.path
        for label, url_name, perm, icon in NAVIGATION:
            if perm and not user.has_perm(perm):
                continue
            url = reverse(url_name)
            active = path == url if url == "/" else path.startswith(url)
            items.append({"label": _(label), "url": url, "icon": icon, "active": active})
    unread = 0
    if user is not None and user.is_authenticated:
        from .selectors import unread_count

        unread = unread_count(user=user)  # one COUNT on an indexed column, on every page
    return {"nav_items": items, "node_name": settings.XIETONG_NODE_NAME, "unread_notifications": unread}

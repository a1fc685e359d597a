"""The membership pages' surface: history in words, breadcrumbs, tables that fold into cards."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from xietong.core.testing import Scope, client_for, make_user

from ..models import Member
from .factories import make_member, submit

pytestmark = pytest.mark.django_db

OFFICER = ["membership.view_member", "membership.change_member"]


def test_member_history_names_fields_and_values(scope: Scope) -> None:
    member = make_member(scope.home)
    officer = client_for(make_user("officer", perms=OFFICER, organization=scope.home))
    with translation.override("zh-hans"):
        old = member.get_status_display()
    officer.post(
        reverse("membership:member_status", args=[member.pk]), {"status": "left", "reason": "调离本市"}
    )
    member.refresh_from_db()
    page = officer.get(reverse("membership:member_detail", args=[member.pk])).content.decode()
    with translation.override("zh-hans"):
        label, new = Member._meta.get_field("status").verbose_name, member.get_status_display()
    assert f"{label}：</span><del>{old}</del> → <span>{new}</span>" in page
    assert "membership.member" not in page


def test_every_membership_detail_page_has_breadcrumbs(scope: Scope) -> None:
    from .test_scope import _event, _import

    member, event, job = make_member(scope.home), _event(scope.home), _import(scope.home)
    perms = [*OFFICER, "membership.view_outreachevent", "membership.view_memberimport"]
    client = client_for(make_user("officer", perms=perms, organization=scope.home))
    pages = {
        "membership:member_detail": (member.pk, ["会员", str(member)]),
        "membership:event_detail": (event.pk, ["职工沟通会", event.title]),
        "membership:import_detail": (job.pk, ["会员", "会员导入", job.original_name]),
    }
    for name, (pk, crumbs) in pages.items():
        page = client.get(reverse(name, args=[pk])).content.decode()
        nav = re.search(r'<nav [^>]*data-testid="breadcrumbs".*?</nav>', page, re.S)
        assert nav is not None, name
        items = [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li[^>]*>(.*?)</li>", nav.group())]
        assert items == crumbs, name


def test_member_and_application_tables_label_their_cells(scope: Scope) -> None:
    make_member(scope.home)
    submit(scope.home)
    perms = [*OFFICER, "membership.view_joinapplication"]
    client = client_for(make_user("officer", perms=perms, organization=scope.home))
    for name, label in (("membership:member_list", "会员编号"), ("membership:application_list", "姓名")):
        page = client.get(reverse(name)).content.decode()
        assert "table table-cards" in page and f'data-label="{label}"' in page, name

"""The membership pages' surface: history in words, breadcrumbs, tables that fold into cards."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xietong.core.testing import Scope, client_for, make_user

from ..models import Member
from .factories import make_member

pytestmark = pytest.mark.django_db

OFFICER = ["membership.view_member", "membership.change_member"]


def test_member_history_names_fields_and_values(scope: Scope) -> None:
    member = make_member(scope.home)
    officer = client_for(make_user("officer", perms=OFFICER, organization=scope.home))
    old = member.get_status_display()
    officer.post(reverse("membership:member_status", args=[member.pk]), {"status": "left"})
    member.refresh_from_db()
    page = officer.get(reverse("membership:member_detail", args=[member.pk])).content.decode()
    label = Member._meta.get_field("status").verbose_name
    assert f"{label}：</span><del>{old}</del> → <span>{member.get_status_display()}</span>" in page
    assert "membership.member" not in page

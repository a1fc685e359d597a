"""Each node of the region group holds its own region's organisations and accounts, and the forms
offer only the offices whose kind does the task (issue 17, defect 8)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from xietong.core.models import Organization, User
from xietong.demo import world
from xietong.demo.accounts import ACCOUNTS, accounts_for

pytestmark = pytest.mark.django_db


def offered(client: Client, username: str, url: str, label: str) -> list[str]:
    """The organisations a form's select offers to ``username``."""
    client.force_login(User.objects.get(username=username))
    page = client.get(url).content.decode()
    select = re.search(r'<select name="organization"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None and label in page
    return [name for name in re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", select.group(1))]


def test_the_tianjin_node_has_tianjin_offices_and_accounts() -> None:
    world.build(people_per_org=1, node="tj")
    names = set(Organization.objects.values_list("name", flat=True))
    assert {"天津市人力资源和社会保障局", "天津市总工会", "天津市劳动保障监察总队"} <= names
    assert not {"北京市总工会", "北京市人力资源和社会保障局", "河北省总工会"} & names
    accounts = set(User.objects.values_list("username", flat=True))
    assert {"hrss_tj", "inspector_tj", "tj_officer", "admin", "auditor"} <= accounts
    assert not {"hrss_bj", "hrss_hb", "hospital_desk"} & accounts
    assert User.objects.get(username="hrss_tj").organization.name == "天津市人力资源和社会保障局"


def test_forms_offer_only_the_offices_that_do_the_task() -> None:
    world.build(people_per_org=1, node="hb")
    client = Client()
    transfer = offered(client, "hrss_hb", reverse("insurance:transfer_create"), "经办机构")
    assert transfer == ["河北省人力资源和社会保障厅"]  # not its arbitration commission or inspection corps
    roster = offered(client, "hrss_hb", reverse("insurance:roster_create"), "经办机构")
    assert roster == ["河北省人力资源和社会保障厅"]
    deciding = offered(client, "inspector_hb", reverse("inspection:arrears_create"), "劳动保障监察机构")
    assert deciding == ["河北省劳动保障监察总队"]


def test_the_single_node_demo_still_has_every_account() -> None:
    assert [a.username for a in accounts_for(None)] == [a.username for a in ACCOUNTS]
    assert {a.username for a in accounts_for("bj")} >= {"hrss_bj", "inspector_bj", "hospital_desk"}
    assert "hrss_tj" not in {a.username for a in accounts_for("bj")}

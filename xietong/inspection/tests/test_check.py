"""The check against the blacklist cannot mislead: an invalid credit code is an error (never a clean
answer), a name matches in part and in traditional characters, an employer's own page warns, and
the node that listed it is named, not given as its id."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from xietong.core import audit
from xietong.core.models import AuditEvent, Employer
from xietong.core.testing import client_for, make_org, make_user

from ..models import ArrearsListing
from .conftest import Peer
from .test_actions import list_one
from .test_messages import TJ_CODE

VIEW = ["inspection.view_arrearslisting"]


def viewer_client() -> Client:
    return client_for(make_user("viewer", perms=VIEW, node_wide=True))


def test_an_invalid_credit_code_is_an_error_beside_the_field_never_a_clean_answer(peer: Peer) -> None:
    viewer = viewer_client()
    url = reverse("inspection:arrears_list")
    wrong = (("123", "统一社会信用代码应为18位，实为3位"), (TJ_CODE[:-1] + "A", "第18位校验码应为Y"))
    for code, reason in wrong:
        page = viewer.get(url, {"check": "1", "credit_code": code})
        html = page.content.decode()
        assert 'data-testid="check-clear"' not in html and 'data-testid="check-listed"' not in html
        assert reason in html and 'data-testid="check-code-error"' in html


def test_the_api_refuses_an_invalid_credit_code(peer: Peer) -> None:
    api = viewer_client()
    answer = api.get(reverse("arrears-check"), {"credit_code": "123"})
    assert answer.status_code == 400 and "统一社会信用代码应为18位" in answer.json()["credit_code"][0]


def test_a_name_matches_in_part_and_in_traditional_characters(peer: Peer) -> None:
    listing = list_one()
    listing.employer_name = "北京惠佳丰商贸有限公司"
    listing.save()
    viewer = viewer_client()
    url = reverse("inspection:arrears_list")
    for name in ("惠佳丰", "惠佳豐"):
        html = viewer.get(url, {"check": "1", "name": name}).content.decode()
        assert 'data-testid="check-listed"' in html, name
    api = viewer.get(reverse("arrears-check"), {"name": "佳豐商貿"}).json()
    assert api["listed"] is True


def test_an_employers_page_warns_when_it_is_listed_anywhere_in_the_region_group(peer: Peer) -> None:
    list_one()
    union = make_org("union")
    listed = Employer.objects.create(
        name="北京某餐饮管理有限公司", credit_code=TJ_CODE, organization=union, region_id="110101"
    )
    clean = Employer.objects.create(name="北京守法企业有限公司", organization=union, region_id="110101")
    officer = client_for(make_user("officer", perms=["core.view_employer"], organization=union))
    page = officer.get(reverse("core:employer_detail", args=[listed.pk])).content.decode()
    assert 'data-testid="employer-alert"' in page and "已列入拖欠工资失信名单" in page
    page = officer.get(reverse("core:employer_detail", args=[clean.pk])).content.decode()
    assert 'data-testid="employer-alert"' not in page


def test_the_listing_node_is_named_on_the_list_the_detail_the_export_and_the_audit(peer: Peer) -> None:
    listing = list_one()  # listed here: node bj, 北京节点 in the registry
    ArrearsListing.objects.filter(pk=listing.pk).update(origin_node="tj")
    viewer = viewer_client()
    html = viewer.get(reverse("inspection:arrears_list")).content.decode()
    assert "天津节点" in html and ">tj<" not in html
    detail = viewer.get(reverse("inspection:arrears_detail", args=[listing.pk]))
    assert "天津节点" in detail.content.decode() and "（tj）" not in detail.content.decode()
    event = AuditEvent.objects.get(target_type="inspection.arrearslisting", action="create")
    assert "列入节点：— → 北京节点" in str(audit.describe(event))
    receipt = AuditEvent(target_type="inspection.arrearslisting", changes={"detail": {"from": "tj"}})
    assert str(audit.describe(receipt)) == "来源节点：天津节点"


def test_the_export_names_the_node(peer: Peer) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    list_one()
    viewer = viewer_client()
    export = viewer.get(reverse("inspection:arrears_list"), {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert "北京节点" in rows[1]

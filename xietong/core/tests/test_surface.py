"""The surface of the core pages: breadcrumbs, tables that fold into cards on a phone, printing,
the language menu."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from xietong.core.testing import Scope, client_for, make_org, make_user

from .factories import EmployerFactory, make_person

pytestmark = pytest.mark.django_db

CSS = Path(settings.BASE_DIR) / "xietong" / "static" / "xietong" / "xietong.css"


def _crumbs(html: str) -> list[str]:
    nav = re.search(r'<nav [^>]*data-testid="breadcrumbs".*?</nav>', html, re.S)
    assert nav is not None, "no breadcrumbs"
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li[^>]*>(.*?)</li>", nav.group())]


def test_every_core_detail_page_has_breadcrumbs(scope: Scope) -> None:
    child = make_org("t-child", parent=scope.home)
    employer = EmployerFactory.create(organization=scope.home, name="北京测试单位")
    person = make_person(scope.home, name="王芳")
    perms = ["core.view_organization", "core.view_employer", "core.view_person", "core.manage_accounts"]
    user = make_user("officer", perms=perms, organization=scope.home)
    client = client_for(user)
    get = lambda name, pk: client.get(reverse(name, args=[pk])).content.decode()  # noqa: E731
    assert _crumbs(get("core:organization_detail", child.pk)) == [
        "组织",
        scope.root.name,
        scope.home.name,
        child.name,
    ]
    assert _crumbs(get("core:employer_detail", employer.pk)) == ["用人单位", "北京测试单位"]
    assert _crumbs(get("core:person_detail", person.pk)) == ["人员", str(person)]
    assert _crumbs(get("core:user_detail", user.pk)) == ["账号与角色", "officer"]
    page = get("core:employer_detail", employer.pk)
    assert f'<a href="{reverse("core:employer_list")}">用人单位</a>' in page
    assert 'aria-current="page">北京测试单位</li>' in page


def test_list_tables_label_each_cell_for_the_phone_layout(scope: Scope) -> None:
    make_person(scope.home, name="欧阳娜娜")
    client = client_for(make_user("officer", perms=["core.view_person"], organization=scope.home))
    page = client.get(reverse("core:person_list")).content.decode()
    assert 'class="table table-cards' in page
    assert 'data-label="姓名"><a href=' in page and 'data-label="登记组织"' in page


def test_the_stylesheet_folds_tables_on_phones_and_prints_without_navigation() -> None:
    css = CSS.read_text()
    phone = css[css.index("@media (max-width: 767.98px)") :]
    assert "table.table-cards thead { display: none; }" in phone and "attr(data-label)" in phone
    printing = css[css.index("@media print") :]
    for hidden in ("nav.navbar", "#sidebar", ".btn", "form", '[role="search"]', ".pagination"):
        assert hidden in printing.split("display: none")[0]


def test_the_language_menu_names_each_language_in_itself() -> None:
    page = Client().get(reverse("login")).content.decode()
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in page
    assert '<option value="en" lang="en">English</option>' in page
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("login")).content.decode()
    assert ">简体中文</option>" in english and 'lang="en" selected>English</option>' in english


def test_headings_and_exports_follow_the_language(scope: Scope) -> None:
    user = make_user("officer", perms=["core.view_person", "core.add_person"], organization=scope.home)
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Register a person" in client.get(reverse("core:person_create")).content.decode()
    export = client.get(reverse("core:person_list"), {"export": "xlsx"})
    assert "People.xlsx" in export["Content-Disposition"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    export = client.get(reverse("core:person_list"), {"export": "xlsx"})
    assert "%E4%BA%BA%E5%91%98.xlsx" in export["Content-Disposition"]  # 人员.xlsx

"""The audit log an auditor can read: sign-ins recorded with the address, details in words."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from xietong.core import audit
from xietong.core.choices import AuditAction
from xietong.core.models import AuditEvent, Role
from xietong.core.testing import Scope, client_for, make_user

from .factories import make_person

pytestmark = pytest.mark.django_db


def test_sign_in_is_audited_with_the_client_address() -> None:
    user = make_user("signer")
    response = Client(REMOTE_ADDR="10.1.2.3").post(
        reverse("login"), {"username": "signer", "password": "x-test-password-1"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert (event.actor, event.target_id, event.ip_address) == (user, str(user.pk), "10.1.2.3")


def test_failed_sign_in_keeps_the_name_typed_and_never_the_password(scope: Scope) -> None:
    make_user("clerk", organization=scope.home)
    wrong = {"username": "clerk", "password": "Secret-guess-42"}
    Client(REMOTE_ADDR="10.9.9.9").post(reverse("login"), wrong)
    Client().post(reverse("login"), {"username": "nobody", "password": "Secret-guess-43"})
    known, unknown = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("id")
    assert known.ip_address == "10.9.9.9"
    assert known.changes["detail"] == {"username": "clerk"}
    assert known.organization == scope.home  # the account's auditors see attempts on it
    assert unknown.changes["detail"] == {"username": "nobody"} and unknown.organization is None
    assert "Secret-guess" not in str(known.changes) + str(unknown.changes)
    assert "输入的账号：clerk" in str(audit.describe(known))


def test_sign_out_is_audited() -> None:
    user = make_user("leaver")
    client = client_for(user)
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor=user).count() == 1


def test_changes_read_as_labels_with_old_and_new_values(scope: Scope) -> None:
    person = make_person(scope.home, name="李雷")
    person.gender = "M"
    before = person.snapshot()
    person.organization, person.gender, person.is_migrant_worker = scope.other, "F", True
    event = audit.record(AuditAction.UPDATE, target=person, before=before, after=person.snapshot())
    description = audit.describe(event)
    assert description.target_type == "人员"
    lines = {line.label: (line.old, line.new) for line in description.lines}
    assert lines["登记组织"] == (scope.home.name, scope.other.name)
    assert lines["性别"] == ("男", "女")
    assert lines["外地来京务工"] == ("否", "是")
    assert "organization_id" not in str(description)


def test_kept_facts_name_codes(scope: Scope) -> None:
    role = Role.objects.create(code="union-officer-x", name="工会干部")
    event = audit.record(
        AuditAction.DENIED,
        target_type="core.user",
        detail={"attempt": "grant", "role": role.code, "organization": scope.home.code, "from": "bj"},
    )
    text = str(audit.describe(event))
    assert "角色：工会干部" in text and f"组织：{scope.home.name}" in text
    assert "尝试的操作：授予角色" in text and "来源节点：北京节点" in text


def test_audit_list_history_and_export_show_the_words(scope: Scope) -> None:
    auditor = make_user("auditor", perms=["core.view_auditevent", "core.view_person"], node_wide=True)
    person = make_person(scope.home, name="韩梅梅")
    person.gender = "M"
    before = person.snapshot()
    person.gender = "F"
    audit.record(AuditAction.UPDATE, target=person, before=before, after=person.snapshot())
    client = client_for(auditor)
    page = client.get(reverse("core:audit_list")).content.decode()
    assert "人员" in page and "core.person" not in page
    assert "性别" in page and "<del>男</del> → <span>女</span>" in page
    history = client.get(reverse("core:person_detail", args=[person.pk])).content.decode()
    assert "<del>男</del> → <span>女</span>" in history
    export = client.get(reverse("core:audit_list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[0]
    changed = next(row for row in rows[1:] if row[header.index("操作")] == "修改")
    assert changed[header.index("对象类型")] == "人员"
    assert "性别：男 → 女" in changed[header.index("详情")]

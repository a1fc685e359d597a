"""Bulk import of a union's member roll: every bad row explained, nothing half-committed, no duplicates."""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from django.test import TestCase
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from xietong.core import pii
from xietong.core.choices import JobStatus
from xietong.core.models import Employer, Organization, Person
from xietong.core.testing import Scope, clerk, client_for, make_org, make_user

from .. import actions, imports
from ..models import Member, MemberImport
from .factories import fresh_id_number, make_member

pytestmark = pytest.mark.django_db

HEADER = "姓名,身份证号码,性别,出生日期,手机号码,工作单位,入会日期"


def _gender(number: str) -> str:
    return "男" if int(number[16]) % 2 else "女"


def _good_rows(count: int, employer: str = "") -> list[str]:
    rows = []
    for i in range(count):
        number = fresh_id_number()
        birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        rows.append(f"职工{i},{number},{_gender(number)},{birth},1390000{i:04d},{employer},2026-01-05")
    return rows


def _run(org: Organization, name: str, content: bytes, **options: Any) -> MemberImport:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the import is queued on commit
        return actions.member_import_start(
            organization=org, uploaded=SimpleUploadedFile(name, content), acting_user=clerk(), **options
        )


@pytest.fixture
def union() -> Organization:
    return make_org("t-union", kind="grassroots_union")


def _csv(lines: list[str], header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\n".join([header, *lines]).encode(encoding)


def test_a_clean_file_is_imported_and_importing_it_again_duplicates_nothing(union: Organization) -> None:
    Employer.objects.create(name="北京测试科技有限公司", organization=union, region_id="110101")
    content = _csv(_good_rows(30, "北京测试科技有限公司"))
    job = _run(union, "roll.csv", content)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and (job.created_count, job.updated_count) == (30, 0)
    assert Member.objects.filter(organization=union, employer__name="北京测试科技有限公司").count() == 30
    again = _run(union, "roll.csv", content)
    again.refresh_from_db()
    assert (again.created_count, again.updated_count) == (0, 0) and "30名无变化" in again.message
    assert Member.objects.count() == 30 and Person.objects.count() == 30


def test_gbk_file_with_header_variants_is_recognised(union: Organization) -> None:
    number = fresh_id_number()
    content = _csv(
        [f"鍾麗華,{number},,,139 0000 1234"], header="名字,身份证号,性别,出生年月日,手机号", encoding="gbk"
    )
    job = _run(union, "gbk.csv", content)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.created_count == 1
    person = Person.objects.get()
    assert person.name == "钟丽华" and pii.decrypt(person.phone_cipher, field="phone") == "13900001234"


def test_a_file_with_bad_rows_commits_nothing_and_the_report_says_why(union: Organization) -> None:
    good = _good_rows(3)
    number = fresh_id_number()
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    duplicate = good[0].split(",")[1]
    other_gender = "女" if _gender(number) == "男" else "男"
    bad = [
        f"张三,{wrong_check},,,,,",
        f"李四,{duplicate},,,,,",
        f"王五,{fresh_id_number()},,,12345,,",
        f"赵六,{fresh_id_number()},,,,不存在的公司,",
        f"孙七,{number},{other_gender},,,,",
        f'=HYPERLINK("http://evil"),{fresh_id_number()},,,,,2099-01-01',
    ]
    job = _run(union, "bad.csv", _csv(good + bad))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.invalid_rows == 6
    assert "未导入任何数据" in job.message
    assert not Member.objects.exists() and not Person.objects.exists()
    sheet = load_workbook(io.BytesIO(job.report.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "行号" and rows[0][-1] == "错误"
    errors = {row[0]: row[-1] for row in rows[1:]}
    assert "校验码" in errors[5]
    assert "与第2行重复" in errors[6]
    assert "手机号码" in errors[7]
    assert "不存在的公司" in errors[8] and "未登记" in errors[8]
    assert "性别与身份证号码不符" in errors[9]
    assert "入会日期晚于今天" in errors[10]
    assert rows[-1][1].startswith("'=")  # no formula injection into the report


def test_skip_invalid_imports_the_good_rows_and_dry_run_imports_nothing(union: Organization) -> None:
    content = _csv([*_good_rows(4), "坏行,123,,,,,"])
    dry = _run(union, "a.csv", content, dry_run=True, skip_invalid=True)
    dry.refresh_from_db()
    assert dry.status == JobStatus.DONE and "只校验" in dry.message and not Member.objects.exists()
    job = _run(union, "a.csv", content, skip_invalid=True)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.created_count == 4 and job.invalid_rows == 1
    assert Member.objects.count() == 4


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("x.csv", "编号,电话\n张三,139".encode(), "缺少必填列：姓名、身份证号码"),
        ("x.csv", "姓名,身份证号码\n".encode(), "只有表头"),
        ("x.csv", b"", "文件为空"),
        ("x.csv", "姓名,身份证号码\n张三,1\n".encode() + "李四,2\n".encode("gbk"), "混用了UTF-8和GBK"),
        ("x.xlsx", b"not really a spreadsheet", "xlsx 文件无法打开"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(
    union: Organization, name: str, content: bytes, reason: str
) -> None:
    job = _run(union, name, content)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and reason in job.message


def test_a_member_of_another_union_is_not_imported_twice(scope: Scope) -> None:
    existing = make_member(scope.other, with_card=False)
    number = pii.decrypt(existing.person.id_number_cipher, field="id_number")
    job = _run(scope.home, "t.csv", _csv([f"{existing.person.name},{number},,,,,"]))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    sheet = load_workbook(io.BytesIO(job.report.read())).active
    assert "会员关系转接" in list(sheet.iter_rows(values_only=True))[1][-1]


def test_xlsx_files_are_read(union: Organization) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    number = fresh_id_number()
    sheet.append(["李娜", number, _gender(number), None, 13800138000, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    job = _run(union, "roll.xlsx", buffer.getvalue())
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.created_count == 1


def test_command_line_import_and_export_round_trip(union: Organization, tmp_path: Path) -> None:
    source = tmp_path / "roll.csv"
    source.write_bytes(_csv(_good_rows(5)))
    out = io.StringIO()
    call_command(
        "members", "import", str(source), "--organization", union.code, stdout=out, stderr=io.StringIO()
    )
    assert "新增5名会员" in out.getvalue()
    exported = tmp_path / "out.xlsx"
    call_command(
        "members", "export", "--organization", union.name, "--out", str(exported), stdout=io.StringIO()
    )
    rows = list(load_workbook(exported).active.iter_rows(values_only=True))
    assert rows[0] == tuple(HEADER.split(",")) and len(rows) == 6
    back = tmp_path / "back.csv"
    back.write_text("\n".join(",".join(str(c or "") for c in row) for row in rows), encoding="utf-8")
    call_command(
        "members",
        "import",
        str(back),
        "--organization",
        union.code,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert Member.objects.count() == 5
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(["张三,123,,,,,"]))
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command(
            "members",
            "import",
            str(bad),
            "--organization",
            union.code,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert (tmp_path / "bad-错误报告.xlsx").exists()
    with pytest.raises(CommandError, match="找不到组织"):
        call_command("members", "import", str(bad), "--organization", "no-such-org")


def test_upload_page_runs_the_import_and_offers_the_report(scope: Scope) -> None:
    officer = client_for(
        make_user(
            "officer",
            perms=["membership.add_memberimport", "membership.view_memberimport"],
            organization=scope.home,
        )
    )
    page = officer.get(reverse("membership:import_create"))
    assert page.status_code == 200 and "下载导入模板" in page.content.decode()
    upload = SimpleUploadedFile("roll.csv", _csv([*_good_rows(2), "坏行,123,,,,,"]))
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = officer.post(
            reverse("membership:import_create"), {"organization": scope.home.pk, "file": upload}
        )
    assert response.status_code == 302
    detail = officer.get(response["Location"])
    assert "未导入" in detail.content.decode() and "下载错误报告（1 行有误）" in detail.content.decode()
    job = MemberImport.objects.get()
    report = officer.get(reverse("membership:import_report", args=[job.pk]))
    assert report.status_code == 200
    outsider = client_for(
        make_user("outsider", perms=["membership.view_memberimport"], organization=scope.other)
    )
    assert outsider.get(reverse("membership:import_detail", args=[job.pk])).status_code == 404
    MemberImport.objects.filter(pk=job.pk).update(  # the long, silent part
        status=JobStatus.RUNNING, message="校验完成，正在写入数据库…", finished_at=None
    )
    writing = officer.get(reverse("membership:import_detail", args=[job.pk]), headers={"HX-Request": "true"})
    text = writing.content.decode()
    assert "校验完成，正在写入数据库" in text and "进行中" in text and 'hx-trigger="every 1s"' in text
    assert "<html" not in text  # the poll gets the partial only
    template = officer.get(reverse("membership:import_template"))
    header = next(load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))
    assert header == tuple(HEADER.split(","))


def test_upload_of_another_file_type_is_refused_on_the_form(scope: Scope) -> None:
    officer = client_for(make_user("officer", perms=["membership.add_memberimport"], organization=scope.home))
    upload = SimpleUploadedFile("roll.pdf", b"%PDF-1.4")
    response = officer.post(
        reverse("membership:import_create"), {"organization": scope.home.pk, "file": upload}
    )
    assert response.status_code == 200 and "请上传 .xlsx 或 .csv 文件" in response.content.decode()
    assert not MemberImport.objects.exists()


def _variants(number: str, draw: random.Random) -> list[str]:
    """One roll row built around a valid ID number: each cell usually in the common form, sometimes
    in an odd or wrong one."""

    def pick(common: str, *odd: str) -> str:
        return common if draw.random() < 0.85 else draw.choice(odd)

    birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    gender = _gender(number)
    return [
        pick(draw.choice(["张三", "蕭乾", "職工12", "乾隆", "娜娜"]),
             "欧阳 娜娜", "Ｊｏｈｎ", "阿依古丽·买买提", "李.四", "", "王" * 70, "Li Na"),
        pick(number, number.lower(), number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
             f"{number[:6]} {number[6:]}", number[:6] + number[8:17], number[:10] + "0230" + number[14:],
             number[:17] + ("0" if number[17] != "0" else "1"), number[:6] + "20991231" + number[14:],
             "99" + number[2:], "", number[:17]),
        pick(draw.choice(["", gender]), "女" if gender == "男" else "男", "M", "f", "1", "2", "男性", "未知"),
        pick(draw.choice(["", birth]),
             "1980-01-01", birth.replace("-", "/"), f"{birth[:4]}年{birth[5:7]}月", "x"),
        pick(draw.choice(["", "13912345678"]), "+86 139 1234 5678", "12345", "23912345678"),
        pick(draw.choice(["", "北京测试科技有限公司"]), "北京測試科技有限公司", "不存在的公司"),
        pick(draw.choice(["", "2026-01-05"]), "2099-01-01", "20260105", "2026-02-30", "abc"),
    ]  # fmt: skip


def test_checking_whole_columns_gives_what_checking_each_row_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    draw = random.Random(20261126)
    lines = [",".join(_variants(fresh_id_number(), draw)) for _ in range(600)]
    roll = imports.read_file(io.BytesIO(_csv(lines)), "x.csv")
    employers, today = {"北京测试科技有限公司": 1}, dt.date(2026, 11, 26)
    slow_rows: list[int] = []
    check_slowly = imports._check_slowly

    def counting(result: imports.CheckedRoll, position: int, **kwargs: Any) -> None:
        slow_rows.append(position)
        check_slowly(result, position, **kwargs)

    monkeypatch.setattr(imports, "_check_slowly", counting)
    checked = imports.check_roll(roll, today=today, employers=employers)
    assert 50 < len(slow_rows) < len(roll) - 50  # both paths were taken
    for position in range(len(roll)):
        row = imports.check_row(roll.source(position), today=today, employers=employers)
        parsed = row.parsed
        born, gender = (parsed.birth_date, parsed.gender) if parsed else (None, "")
        expected = (
            row.name,
            row.id_number,
            born,
            gender,
            row.phone,
            row.employer_name,
            row.joined_on,
            row.errors,
        )
        errors = [e for e in checked.errors.get(position, []) if "行重复" not in e]
        got = (checked.name[position], checked.id_number[position], checked.birth_date[position],
               checked.gender[position], checked.phone[position], checked.employer_name[position],
               checked.joined_on[position], errors)  # fmt: skip
        assert got == expected, roll.cells([position])


def test_a_name_longer_than_the_register_holds_is_refused(union: Organization) -> None:
    job = _run(union, "long.csv", _csv([f"{'王' * 65},{fresh_id_number()},,,,,"]))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and not Person.objects.exists()
    sheet = load_workbook(io.BytesIO(job.report.read())).active
    assert "姓名超过64个字" in list(sheet.iter_rows(values_only=True))[1][-1]


def test_a_conflict_while_writing_commits_nothing_and_says_to_retry(
    union: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    def conflicting(*args: Any) -> tuple[int, int]:
        Person.objects.create(
            name="先到者", id_number_cipher="x", id_number_index="dup", birth_date=dt.date(1980, 1, 1),
            gender="M", organization=args[0].organization,
        )  # fmt: skip
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(actions.imports, "_write_members", conflicting)
    job = _run(union, "a.csv", _csv(_good_rows(3)))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "请重新导入" in job.message
    assert not Person.objects.exists() and not Member.objects.exists()


_ROWS = _good_rows(4)


@pytest.mark.parametrize(
    ("content", "plain"),
    [
        ("\n".join([HEADER, *_ROWS]).encode(), True),
        (("\ufeff" + "\r\n".join([HEADER, *_ROWS, ""])).encode(), True),  # BOM, Windows line ends
        ("\n".join([HEADER, _ROWS[0], ",,,,,,", " \u3000,,,,,,", _ROWS[1]]).encode(), True),  # blank rows
        ("\n".join([HEADER, _ROWS[0], "", _ROWS[1]]).encode(), False),  # an empty line
        ("\n".join([HEADER, '"张,三"' + _ROWS[0][2:], _ROWS[1]]).encode(), False),  # quotes
        ("\n".join([HEADER, _ROWS[0].rsplit(",", 2)[0], _ROWS[1]]).encode(), False),  # a short row
        ("\n".join([HEADER, "\x1c" + _ROWS[0]]).encode(), False),  # white space only to Python
        ("\n".join([HEADER, *_ROWS]).encode("gbk"), True),  # plain once transcoded
    ],
)
def test_both_csv_readers_give_the_same_roll(
    content: bytes, plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The member import reads through the one roster reader: Arrow's road and the ``csv`` module's
    give the same roll (``matching/tests/test_reader.py`` tests the reader itself)."""
    from xietong.matching.roster import reader

    arrow_csv, answered = reader._arrow_csv, []

    def watched(*args: Any) -> Any:
        table = arrow_csv(*args)
        answered.append(table is not None)
        return table

    monkeypatch.setattr(reader, "_arrow_csv", watched)
    first = imports.read_file(io.BytesIO(content), "x.csv")
    assert any(answered) is plain
    monkeypatch.setattr(reader, "_arrow_csv", lambda *args: None)
    second = imports.read_file(io.BytesIO(content), "x.csv")
    assert (first.headers, first.columns, first.lines) == (second.headers, second.columns, second.lines)
    everything = list(range(len(first)))
    assert first.cells(everything) == second.cells(everything) and len(first) == len(second)

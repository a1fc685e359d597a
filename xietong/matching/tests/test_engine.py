"""The comparison engine on small, hand-made rosters: what it must find, what it must not, and how it
refuses bad input (file, line and problem named; no output file left behind)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from xietong.lib.idnumber import check_digit
from xietong.matching.cli import main

HEADER = "record_id,name,id_number,birth_date,gender,phone,region_code"


def valid_id(region: str, birth: date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


def write(path: Path, rows: list[str], header: str = HEADER, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


def read_pairs(path: Path) -> dict[tuple[str, str], str]:
    with path.open(encoding="utf-8") as handle:
        return {(row["left_id"], row["right_id"]): row["reason"] for row in csv.DictReader(handle)}


def run_match(tmp_path: Path, left: Path, right: Path, *extra: str) -> tuple[int, Path, Path]:
    out, review = tmp_path / "pairs.csv", tmp_path / "review.csv"
    status = main([str(left), str(right), "--out", str(out), "--review-out", str(review), *extra])
    return status, out, review


def test_dirty_forms_of_the_same_person_are_found(tmp_path: Path) -> None:
    a = valid_id("110105", date(1949, 12, 31), 2)
    b = valid_id("110101", date(1985, 3, 7), 1)
    typo = b[:10] + ("9" if b[10] != "9" else "8") + b[11:]
    c = valid_id("650102", date(1990, 1, 1), 123)
    swapped = c[:14] + c[15] + c[14] + c[16:]
    legacy = valid_id("110108", date(1966, 7, 8), 45)
    full_width = a.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    left = write(
        tmp_path / "l.csv",
        [
            f"L1,张伟,{a},1949-12-31,女,13800138000,110105",
            f"L2,鍾麗華,{b},19850307,男,,110101",
            f"L3,买买提·艾力,{c},1990/1/1,M,,650102",
            "L4,欧阳修远,,1988年5月6日,男,13700000002,110101",
            f"L5,刘洋,{legacy},1966-07-08,男,,110108",
        ],
    )
    right = write(
        tmp_path / "r.csv",
        [
            f"R1,张 伟,{full_width},1949-12-31,F,,110105",
            f"R2,钟丽华,{typo},1985-03-07,1,,110101",
            f"R3,买买提•艾力,{swapped},1990-01-01,男,,650102",
            "R4,欧阳修远,,1988-05-06,男,13700000002,110101",
            f"R5,刘洋,{legacy[:6]}{legacy[8:17]},19660708,1,,110108",
        ],
    )
    status, out, _review = run_match(tmp_path, left, right)
    assert status == 0
    pairs = read_pairs(out)
    assert set(pairs) == {("L1", "R1"), ("L2", "R2"), ("L3", "R3"), ("L4", "R4"), ("L5", "R5")}
    assert pairs[("L1", "R1")] == "身份证号一致"
    assert pairs[("L5", "R5")] == "身份证号一致"  # 15-digit legacy number upgraded
    assert pairs[("L2", "R2")].startswith("身份证号一位之差")
    assert "姓名" in pairs[("L2", "R2")] and "出生日期" in pairs[("L2", "R2")]


def _background(n: int) -> list[str]:
    """Unrelated people so that the prior odds are realistic (a common name is weak evidence)."""
    rows = []
    for i in range(n):
        birth = date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
        rows.append(f"B{i},路人{i},{valid_id('130102', birth, i % 1000)},{birth:%Y-%m-%d},男,,130102")
    return rows


def test_namesakes_and_twins_are_not_matched(tmp_path: Path) -> None:
    born = date(1990, 5, 1)
    left = write(
        tmp_path / "l.csv",
        [
            f"L1,张伟,{valid_id('110101', born, 11)},1990-05-01,男,,110101",  # namesake, same birthday
            f"L2,李明,{valid_id('120101', born, 21)},1990-05-01,男,,120101",  # twin brother
            *_background(200),
        ],
    )
    right = write(
        tmp_path / "r.csv",
        [
            f"R1,张伟,{valid_id('320102', born, 31)},1990-05-01,男,,320102",
            f"R2,李亮,{valid_id('120101', born, 23)},1990-05-01,男,,120101",
        ],
    )
    status, out, _review = run_match(tmp_path, left, right)
    assert status == 0
    assert read_pairs(out) == {}


def test_each_record_is_matched_at_most_once(tmp_path: Path) -> None:
    number = valid_id("110101", date(1980, 1, 1), 5)
    left = write(tmp_path / "l.csv", [f"L1,王芳,{number},1980-01-01,女,,110101"])
    right = write(
        tmp_path / "r.csv",
        [f"R1,王芳,{number},1980-01-01,女,,110101", f"R2,王芳,{number},1980-01-01,女,,110101"],
    )
    status, out, _review = run_match(tmp_path, left, right)
    assert status == 0
    assert len(read_pairs(out)) == 1


def test_gbk_roster_and_column_mapping(tmp_path: Path) -> None:
    number = valid_id("110101", date(1980, 1, 1), 5)
    left = write(
        tmp_path / "l.csv", [f"1,王芳,{number}"], header="人员编号,姓名,公民身份号码", encoding="gbk"
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nrecord_id = "编号"\nname = "名"\nid_number = "证件"\n', encoding="utf-8")
    right = write(tmp_path / "r.csv", [f"9,王芳,{number}"], header="编号,名,证件")
    status, out, _review = run_match(tmp_path, left, right, "--right-columns", str(mapping))
    assert status == 0
    assert read_pairs(out) == {("1", "9"): "身份证号一致"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "l.csv：文件为空"),
        (
            f"L1,张伟,{valid_id('110101', date(1980, 1, 1), 1)}\n".encode(),
            "l.csv 第1行：此行看起来是数据而不是表头",
        ),
        ("编号甲,乙\n1,2\n".encode(), "找不到记录号列"),
        ("record_id,name\nL1,张伟\nL1,王芳\n".encode(), "l.csv 第3行：记录号“L1”重复"),
        (
            "record_id,name\nL1,张伟\n".encode() + "L2,王芳\n".encode("gbk"),
            "l.csv 第3行：文件混用了UTF-8和GBK两种编码",
        ),
        (b"record_id,name\n", "没有数据"),
    ],
)
def test_bad_rosters_are_refused_with_file_line_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    left = tmp_path / "l.csv"
    left.write_bytes(content)
    right = write(tmp_path / "r.csv", ["R1,张伟,,,,,"])
    status, out, review = run_match(tmp_path, left, right)
    assert status == 2
    assert expected in capsys.readouterr().err
    assert not out.exists() and not review.exists()
    assert list(tmp_path.glob(".*tmp*")) == []


def test_truncated_parquet_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    whole = tmp_path / "whole.parquet"
    duckdb.execute("COPY (SELECT 'L1' AS record_id, '张伟' AS name) TO ? (FORMAT parquet)", [str(whole)])
    broken = tmp_path / "l.parquet"
    broken.write_bytes(whole.read_bytes()[:-20])
    right = write(tmp_path / "r.csv", ["R1,张伟,,,,,"])
    status, out, _review = run_match(tmp_path, broken, right)
    assert status == 2
    assert "Parquet文件无法读取" in capsys.readouterr().err
    assert not out.exists()


def test_parquet_and_xlsx_rosters_are_read(tmp_path: Path) -> None:
    import duckdb
    from openpyxl import Workbook

    number = valid_id("110101", date(1980, 1, 1), 5)
    left = tmp_path / "l.parquet"
    duckdb.execute(
        f"COPY (SELECT 'L1' AS record_id, '王芳' AS name, '{number}' AS id_number) TO ? (FORMAT parquet)",
        [str(left)],
    )
    book = Workbook()
    book.active.append(["record_id", "姓名", "身份证号码"])
    book.active.append(["R1", "王芳", number.lower()])
    right = tmp_path / "r.xlsx"
    book.save(right)
    status, out, _review = run_match(tmp_path, left, right)
    assert status == 0
    assert read_pairs(out) == {("L1", "R1"): "身份证号一致"}


def test_the_readme_worked_example_gives_what_the_readme_shows(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[3] / "docs" / "examples" / "match"
    status, out, review = run_match(
        tmp_path,
        examples / "shanghai-pensions.csv",
        examples / "jiangsu-deaths.csv",  # GBK, with Jiangsu's own headers
        "--right-columns",
        str(examples / "jiangsu.toml"),
    )
    assert status == 0
    assert read_pairs(out) == {
        ("SH0001", "JS-2026-0101"): "身份证号一致",
        ("SH0002", "JS-2026-0102"): "身份证号一位之差，姓名、出生日期、性别一致",
        ("SH0004", "JS-2026-0104"): "身份证号一致",
        ("SH0005", "JS-2026-0105"): "一方身份证号缺失，姓名、出生日期、性别、手机号一致",
    }
    # The twin with the next ID number is not matched: it waits for a clerk, with the reason.
    assert read_pairs(review) == {
        ("SH0003", "JS-2026-0103"): "两个不同的有效身份证号，姓名、出生日期、性别一致"
    }

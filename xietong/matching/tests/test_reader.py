"""The one roster reader: every kind of file into the same table, every problem named with file and line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from xietong.lib import idnumber
from xietong.matching.errors import RosterError
from xietong.matching.roster import HeaderMap, RosterTable, reader
from xietong.matching.roster import read as read_roster

HEADER = "记录号,姓名,身份证号码,出生日期"
ROWS = [f"R{i},王芳{i},11010119800101{i:03d}X,1980-01-01" for i in range(4)]
VALID_ID = "11010119800101001" + idnumber.check_digit("11010119800101001")
KNOWN = HeaderMap(known={"record_id": ("记录号",), "name": ("姓名", "名字")}, required=("record_id", "name"))


def _both_roads(
    content: bytes, monkeypatch: pytest.MonkeyPatch, name: str = "r.csv"
) -> tuple[RosterTable, bool]:
    """The file read as it comes, and again with Arrow's road closed; both must agree. Returns the
    first reading and whether Arrow's road answered it."""
    arrow_csv, answered = reader._arrow_csv, []

    def watched(*args: Any) -> Any:
        table = arrow_csv(*args)
        answered.append(table is not None)
        return table

    with monkeypatch.context() as patch:
        patch.setattr(reader, "_arrow_csv", watched)
        first = read_roster(content, name=name, headers=KNOWN)
        patch.setattr(reader, "_arrow_csv", lambda *args: None)
        second = read_roster(content, name=name, headers=KNOWN)
    assert (first.headers, first.columns, first.lines) == (second.headers, second.columns, second.lines)
    everything = list(range(len(first)))
    assert first.cells(everything) == second.cells(everything) and len(first) == len(second)
    return first, any(answered)


@pytest.mark.parametrize(
    ("content", "plain", "lines"),
    [
        ("\n".join([HEADER, *ROWS]).encode(), True, [2, 3, 4, 5]),
        (("\ufeff" + "\r\n".join([HEADER, *ROWS, ""])).encode(), True, [2, 3, 4, 5]),  # BOM, CRLF
        ("\n".join([HEADER, ROWS[0], ",,,", " \u3000,,,", ROWS[1]]).encode(), True, [2, 5]),  # blank rows
        ("\n".join([HEADER, ROWS[0], "", ROWS[1]]).encode(), False, [2, 4]),  # an empty line
        ("\n".join([HEADER, '"R9","王,芳"', ROWS[1]]).encode(), False, [2, 3]),  # quotes
        ("\n".join([HEADER, ROWS[0].rsplit(",", 2)[0], ROWS[1]]).encode(), False, [2, 3]),  # a short row
        ("\n".join([HEADER, "\x1c" + ROWS[0]]).encode(), False, [2]),  # white space only to Python
        ("\n".join([HEADER, *ROWS]).encode("gbk"), True, [2, 3, 4, 5]),  # GBK, plain once transcoded
        ("\n".join(["", ",,", HEADER, ROWS[0]]).encode(), False, [4]),  # blank lines above the header
    ],
)
def test_both_csv_roads_give_the_same_table(
    content: bytes, plain: bool, lines: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    table, answered = _both_roads(content, monkeypatch)
    assert answered is plain
    assert table.headers == HEADER.split(",") and table.columns == {"record_id": 0, "name": 1}
    assert table.lines == lines
    assert table.values("name").to_pylist()[0] in {"王芳0", "王,芳"}


def test_xlsx_parquet_and_csv_give_the_same_rows(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["记录号", "姓名", "出生日期", "人数"])
    book.active.append(["R1", "王芳", dt.datetime(1980, 1, 1), 3.0])
    book.active.append([None, None, None, None])
    book.active.append(["R2", "李娜", dt.date(1990, 5, 6), 12])
    book.save(tmp_path / "r.xlsx")
    parquet = pa.table({
        "记录号": ["R1", None, "R2"], "姓名": ["王芳", None, "李娜"],
        "出生日期": pa.array([dt.date(1980, 1, 1), None, dt.date(1990, 5, 6)]), "人数": [3, None, 12],
    })  # fmt: skip
    pq.write_table(parquet, tmp_path / "r.parquet")
    (tmp_path / "r.csv").write_text(
        "记录号,姓名,出生日期,人数\nR1,王芳,1980-01-01,3\n,,,\nR2,李娜,1990-05-06,12\n"
    )
    tables = {kind: read_roster(tmp_path / f"r.{kind}", headers=KNOWN) for kind in ("xlsx", "parquet", "csv")}
    for kind, table in tables.items():
        assert table.cells([0, 1]) == [
            ["R1", "王芳", "1980-01-01", "3"],
            ["R2", "李娜", "1990-05-06", "12"],
        ], kind
    assert tables["xlsx"].lines == tables["csv"].lines == [2, 4]
    assert tables["parquet"].lines == [1, 3]  # Parquet has no header line: the row number


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("r.csv", b"", "r.csv：文件为空"),
        ("r.csv", b" \n\n", "r.csv：文件为空"),
        ("r.csv", f"{HEADER}\n".encode(), "r.csv：文件只有表头，没有数据行"),
        ("r.csv", f"{HEADER}\n,,,\n".encode(), "r.csv：文件只有表头，没有数据行"),
        ("r.csv", f"R1,王芳,{VALID_ID},x\n".encode(), "r.csv 第1行：此行看起来是数据而不是表头"),
        ("r.csv", b"1,2,3\n4,5,6\n", "r.csv 第1行：此行看起来是数据而不是表头"),
        ("r.csv", f"{HEADER}\n{ROWS[0]}\n".encode() + f"{ROWS[1]}\n".encode("gbk"), "r.csv 第3行：文件混用了UTF-8和GBK"),
        ("r.csv", f"{HEADER}\n{ROWS[0]}\n".encode("gbk") + f"{ROWS[1]}\n".encode(), "r.csv 第3行：文件混用了UTF-8和GBK"),
        ("r.csv", f"{HEADER}\n".encode("gbk") + b"R1,\x80\xff\n", "r.csv 第2行：文件编码无法识别"),
        ("r.doc", b"x", "r.doc：不支持的文件类型“.doc”"),
        ("r", b"x", "r：不支持的文件类型“无扩展名”"),
        ("r.csv", "编号,名字\n1,王芳\n".encode(), "r.csv 第1行：表头缺少必填列：记录号（文件表头为：编号、名字）"),
        ("r.xlsx", b"not really a spreadsheet", "r.xlsx：xlsx 文件无法打开"),
        ("r.parquet", b"PAR1 truncated", "r.parquet：Parquet文件无法读取"),
    ],
)  # fmt: skip
def test_every_problem_is_a_roster_error_naming_file_and_line(
    name: str, content: bytes, expected: str
) -> None:
    with pytest.raises(RosterError) as caught:
        read_roster(content, name=name, headers=KNOWN)
    assert expected in str(caught.value)


def test_the_row_limit_and_the_formats_a_caller_takes(tmp_path: Path) -> None:
    content = "\n".join([HEADER, *ROWS]).encode()
    with pytest.raises(RosterError, match="文件有4行，超过单次导入上限3行"):
        read_roster(content, name="r.csv", max_rows=3)
    with pytest.raises(RosterError, match=re.escape("不支持的文件类型“.parquet”（应为.csv、.xlsx文件）")):
        read_roster(b"PAR1", name="r.parquet", formats=(".csv", ".xlsx"))
    with pytest.raises(RosterError, match=re.escape("r.csv：文件不存在")):
        read_roster(tmp_path / "r.csv")
    (tmp_path / "r.tsv").write_text(content.decode().replace(",", "\t"))
    assert read_roster(tmp_path / "r.tsv").cells([0]) == read_roster(content, name="r.csv").cells([0])


def test_the_reader_needs_neither_django_nor_membership() -> None:
    code = (
        "import sys, xietong.matching.roster, xietong.matching.engine, xietong.matching.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'django' or m.startswith('xietong.membership'))\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_load_gives_duckdb_the_rows_read_with_their_lines(tmp_path: Path) -> None:
    import duckdb

    from xietong.matching import roster

    path = tmp_path / "r.csv"
    path.write_text('record_id,姓名\n" R1 ",王芳\n\n,,\nR2, \nR3,"李,娜"\n', encoding="utf-8")
    con = duckdb.connect()
    assert roster.load(con, path, "raw", {}, tmp_path) == 3
    rows = con.execute("SELECT record_id, name, id_number, line FROM raw ORDER BY line").fetchall()
    assert rows == [("R1", "王芳", None, 2), ("R2", None, None, 5), ("R3", "李,娜", None, 6)]

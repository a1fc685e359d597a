"""Private mode: encoded rosters carry no personal data in any form, and still find the same people."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xietong.lib import crypto
from xietong.matching.cli import encode_main, main

from .test_engine import read_pairs, valid_id, write


@pytest.fixture
def rosters(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    a = valid_id("110105", date(1949, 12, 31), 2)
    b = valid_id("110101", date(1985, 3, 7), 1)
    typo = b[:10] + ("9" if b[10] != "9" else "8") + b[11:]
    secrets = {"id_a": a, "id_b": b, "name": "欧阳修远", "pinyin": "ouyangxiuyuan", "phone": "13700000002"}
    left = write(
        tmp_path / "l.csv",
        [
            f"L1,张伟,{a},1949-12-31,女,13800138000,110105",
            f"L2,鍾麗華,{b},19850307,男,,110101",
            "L4,欧阳修远,,1988年5月6日,男,13700000002,110101",
        ],
    )
    right = write(
        tmp_path / "r.csv",
        [
            f"R1,张伟,{a.lower()},1949-12-31,F,,110105",
            f"R2,钟丽华,{typo},1985-03-07,1,,110101",
            "R4,歐陽修遠,,1988-05-06,男,13700000002,110101",
        ],
    )
    return left, right, secrets


def _key(tmp_path: Path, name: str = "k.key") -> Path:
    path = tmp_path / name
    path.write_text(crypto.generate_key(), encoding="utf-8")
    return path


def test_encoded_file_holds_no_personal_data(
    tmp_path: Path, rosters: tuple[Path, Path, dict[str, str]]
) -> None:
    left, _right, secrets = rosters
    out = tmp_path / "l.parquet"
    assert encode_main([str(left), "--key-file", str(_key(tmp_path)), "--out", str(out)]) == 0
    import duckdb

    dump = " ".join(
        str(row) for row in duckdb.execute("SELECT * FROM read_parquet(?)", [str(out)]).fetchall()
    )
    raw = out.read_bytes()
    for value in [*secrets.values(), "张伟", "鍾麗華", "钟丽华", "13800138000", "19491231", "1949-12-31"]:
        for form in {value, value.upper(), value.lower()}:
            assert form not in dump
            assert form.encode("utf-8") not in raw
    for number in (secrets["id_a"], secrets["id_b"]):
        legacy = number[:6] + number[8:17]  # nor the legacy 15-digit form
        assert legacy not in dump and legacy.encode() not in raw


def test_private_mode_finds_what_plain_mode_finds(
    tmp_path: Path, rosters: tuple[Path, Path, dict[str, str]]
) -> None:
    left, right, _secrets = rosters
    key = _key(tmp_path)
    plain_out, private_out = tmp_path / "plain.csv", tmp_path / "private.csv"
    assert main([str(left), str(right), "--out", str(plain_out)]) == 0
    for src in (left, right):
        assert encode_main([str(src), "--key-file", str(key), "--out", str(src.with_suffix(".parquet"))]) == 0
    status = main(
        [str(left.with_suffix(".parquet")), str(right.with_suffix(".parquet")), "--private", "--key-file", str(key),
         "--out", str(private_out)]
    )  # fmt: skip
    assert status == 0
    assert (
        set(read_pairs(private_out))
        == set(read_pairs(plain_out))
        == {("L1", "R1"), ("L2", "R2"), ("L4", "R4")}
    )


def test_files_encoded_with_different_keys_are_refused(
    tmp_path: Path, rosters: tuple[Path, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    left, right, _secrets = rosters
    encode_main([str(left), "--key-file", str(_key(tmp_path, "a.key")), "--out", str(tmp_path / "l.parquet")])
    encode_main(
        [str(right), "--key-file", str(_key(tmp_path, "b.key")), "--out", str(tmp_path / "r.parquet")]
    )
    out = tmp_path / "p.csv"
    assert (
        main([str(tmp_path / "l.parquet"), str(tmp_path / "r.parquet"), "--private", "--out", str(out)]) == 2
    )
    assert "不同的密钥" in capsys.readouterr().err
    assert not out.exists()


def test_a_plain_roster_is_not_taken_for_an_encoding(
    tmp_path: Path, rosters: tuple[Path, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    left, right, _secrets = rosters
    assert main([str(left), str(right), "--private", "--out", str(tmp_path / "p.csv")]) == 2
    assert "加密编码文件" in capsys.readouterr().err


def test_rolls_whose_shared_people_all_match_exactly_still_compare(tmp_path: Path) -> None:
    """Two pension rolls paying 30 people twice, every one under the same valid ID: the exact pass finds
    them all, and the probabilistic pass, left with no pair agreeing on name and birth to learn from,
    keeps its priors instead of failing the whole comparison (a partner's run used to fail here)."""
    from datetime import timedelta

    def person(i: int) -> str:
        birth = date(1950, 1, 1) + timedelta(days=i)
        return (
            f"P{i},测试{chr(0x4E00 + i)},{valid_id('110105', birth, 1 + i % 900)},{birth:%Y-%m-%d},,,110105"
        )

    left = write(tmp_path / "l.csv", [person(i) for i in range(1200)])
    right = write(tmp_path / "r.csv", [person(i) for i in [*range(30), *range(2000, 3200)]])
    key = _key(tmp_path)
    for roster in (left, right):
        assert (
            encode_main([str(roster), "--key-file", str(key), "--out", str(roster.with_suffix(".parquet"))])
            == 0
        )
    out = tmp_path / "pairs.csv"
    status = main(
        [str(left.with_suffix(".parquet")), str(right.with_suffix(".parquet")), "--private",
         "--key-file", str(key), "--out", str(out)]
    )  # fmt: skip
    assert status == 0
    assert sorted(read_pairs(out)) == sorted((f"P{i}", f"P{i}") for i in range(30))


def test_a_roster_kept_in_several_files_is_compared_as_one(
    tmp_path: Path, rosters: tuple[Path, Path, dict[str, str]]
) -> None:
    """A node compares a request with all its current rosters of a kind, each in its own file."""
    import pyarrow.parquet as pq

    from xietong.matching import engine

    left, right, _secrets = rosters
    key = _key(tmp_path)
    for src in (left, right):
        assert encode_main([str(src), "--key-file", str(key), "--out", str(src.with_suffix(".parquet"))]) == 0
    whole = pq.read_table(right.with_suffix(".parquet"))
    parts = [tmp_path / "r1.parquet", tmp_path / "r2.parquet"]
    pq.write_table(whole.slice(0, 1), parts[0])
    pq.write_table(whole.slice(1), parts[1])
    pairs, _review, summary = engine.run(
        left.with_suffix(".parquet"), parts, mapping_left={}, mapping_right={},
        options=engine.MatchOptions(private=True),
    )  # fmt: skip
    assert summary.rows["right"] == 3
    found = {(row["left_id"], row["right_id"]) for row in pairs.to_pylist()}
    assert found == {("L1", "R1"), ("L2", "R2"), ("L4", "R4")}

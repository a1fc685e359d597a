"""The labelled synthetic rosters hold the dirt and traps they promise, and the benchmark scores
approaches against their truth."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from xietong.lib import idnumber
from xietong.matching import bench, synthetic


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> synthetic.Generated:
    return synthetic.generate(tmp_path_factory.mktemp("synthetic"), 4000, seed=7)


def _valid(value: str) -> bool:
    try:
        idnumber.parse(value)
    except idnumber.InvalidIdNumber:
        return False
    return True


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_rosters_have_the_promised_size_and_truth(generated: synthetic.Generated) -> None:
    left, right, truth = _rows(generated.left), _rows(generated.right), _rows(generated.truth)
    assert len(left) == len(right) == 4000
    assert len(truth) == generated.true_pairs == 1600
    assert len({r["left_id"] for r in truth}) == len({r["right_id"] for r in truth}) == 1600
    left_ids, right_ids = {r["record_id"] for r in left}, {r["record_id"] for r in right}
    assert all(r["left_id"] in left_ids and r["right_id"] in right_ids for r in truth)


def test_rosters_hold_the_dirt_of_provincial_systems(generated: synthetic.Generated) -> None:
    rows = _rows(generated.left) + _rows(generated.right)
    ids = [r["id_number"] for r in rows]
    assert any(re.search("[０-９]", v) for v in ids), "full-width digits"
    assert any(len(v) == 15 and v.isdigit() for v in ids), "legacy 15-digit numbers"
    assert any(" " in v or "-" in v for v in ids), "spaced or hyphenated numbers"
    assert any(v.endswith("x") for v in ids), "lower-case x"
    assert sum(v == "" for v in ids) > 0.01 * len(ids), "blank numbers"
    assert any(len(v) == 18 and not _valid(v) for v in ids), "typos"
    births = [r["birth_date"] for r in rows]
    for pattern in (
        r"^\d{4}-\d{2}-\d{2}$",
        r"^\d{8}$",
        r"^\d{4}/\d{1,2}/\d{1,2}$",
        r"^\d{4}年\d{1,2}月\d{1,2}日$",
    ):
        assert any(re.match(pattern, b) for b in births), pattern
    genders = {r["gender"] for r in rows}
    assert {"男", "女", "M", "F", "1", "2"} <= genders
    names = [r["name"] for r in rows]
    assert any(ch in n for n in names for ch in "偉麗華國"), "traditional characters"
    assert any(("?" in n or "*" in n or "\ue3c1" in n) for n in names), "rare-character stand-ins"


def test_the_same_seed_gives_the_same_files(tmp_path: Path, generated: synthetic.Generated) -> None:
    again = synthetic.generate(tmp_path, 4000, seed=7, workers=2)
    assert again.left.read_bytes() == generated.left.read_bytes()
    assert again.truth.read_bytes() == generated.truth.read_bytes()


def test_scoring_counts_precision_and_recall(tmp_path: Path, generated: synthetic.Generated) -> None:
    truth = _rows(generated.truth)
    found = tmp_path / "found.csv"
    wrong = [(truth[0]["left_id"], truth[1]["right_id"])]
    with found.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["left_id", "right_id"])
        writer.writerows([(r["left_id"], r["right_id"]) for r in truth[:800]] + wrong)
    accuracy = synthetic.score(found, generated.truth)
    assert (accuracy.found, accuracy.correct) == (801, 800)
    assert accuracy.recall == 0.5
    assert accuracy.precision == pytest.approx(800 / 801)


def test_benchmark_prints_one_json_line_per_approach(
    tmp_path: Path, generated: synthetic.Generated, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = generated.left.parent
    assert bench.main(["--size", "4000", "--seed", "7", "--data-dir", str(data_dir),
                       "--approaches", "floor,xietong,xietong-private", "--table"]) == 0  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    results = {r["approach"]: r for r in (json.loads(line) for line in out if line.startswith("{"))}
    assert set(results) == {"floor", "xietong", "xietong-private"}
    for result in results.values():
        assert result["true_pairs"] == 1600 and result["seconds"] > 0 and result["peak_gb"] > 0
    # The floor only finds clean valid IDs; the engine must find the dirty rest without losing precision.
    assert results["floor"]["precision"] == 1.0
    assert results["xietong"]["recall"] > results["floor"]["recall"] + 0.04
    assert results["xietong"]["f1"] >= 0.98
    assert abs(results["xietong-private"]["f1"] - results["xietong"]["f1"]) <= 0.01
    assert "| approach |" in "\n".join(out)

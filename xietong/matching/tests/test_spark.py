"""``--engine spark`` runs the same comparison on PySpark (local mode) and gives the same pairs.

One test, on rosters large enough that the model is trained (EM and random sampling run on Spark
too): a local JVM costs half a minute to start, so Spark tests are few and small.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from xietong.matching import synthetic
from xietong.matching.cli import main

pytestmark = pytest.mark.spark


def _pairs(path: Path) -> set[tuple[str, str, str]]:
    with path.open(encoding="utf-8") as handle:
        return {(row["left_id"], row["right_id"], row["reason"]) for row in csv.DictReader(handle)}


def test_spark_engine_gives_the_same_pairs_as_duckdb(tmp_path: Path) -> None:
    data = synthetic.generate(tmp_path, 3000, seed=11)
    outputs = {}
    for engine in ("duckdb", "spark"):
        outputs[engine] = tmp_path / f"{engine}.csv"
        assert main([str(data.left), str(data.right), "--out", str(outputs[engine]), "--engine", engine]) == 0
    duck, spark = _pairs(outputs["duckdb"]), _pairs(outputs["spark"])
    assert duck == spark
    accuracy = synthetic.score(outputs["spark"], data.truth)
    assert accuracy.f1 >= 0.98

"""Benchmark of the comparison engine on labelled synthetic rosters (``synthetic.py``).

Each approach runs in its own process so that its wall time and peak memory (``wait4``'s maximum
resident set size) are its own:

- ``floor``: a bare DuckDB join on normalised valid ID numbers;
- ``splink``: Splink 5 with a generic configuration (name, ID Levenshtein, birth date, phone,
  gender; three blocking rules; EM), on the columns as the rosters hold them;
- ``xietong``: ``xietong match`` (DuckDB engine);
- ``xietong-private``: ``xietong match-encode`` on both rosters, then ``xietong match --private``;
- ``xietong-spark``: ``xietong match --engine spark``.

``xietong match-bench --size N`` prints one JSON line per approach; ``bench/match_bench.py`` prints
the side-by-side table as well.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import synthetic

APPROACHES = ("floor", "splink", "xietong", "xietong-private", "xietong-spark")
DEFAULT_APPROACHES = ("floor", "splink", "xietong")


@dataclass
class Result:
    """One approach's figures on one benchmark."""

    approach: str
    size: int
    seconds: float
    peak_gb: float
    precision: float
    recall: float
    f1: float
    pairs: int
    true_pairs: int


def _floor(left: Path, right: Path, out: Path) -> None:
    import duckdb

    from . import normalize

    con = duckdb.connect()
    normalize.register(con)
    con.execute(
        f"""
        COPY (
            WITH l AS (SELECT record_id, xt_id18(xt_id_clean(id_number)) AS id FROM read_csv('{left}', all_varchar=true)),
                 r AS (SELECT record_id, xt_id18(xt_id_clean(id_number)) AS id FROM read_csv('{right}', all_varchar=true))
            SELECT l.record_id AS left_id, r.record_id AS right_id
            FROM l JOIN r ON l.id = r.id WHERE xt_id_valid(l.id)
        ) TO '{out}' (HEADER, DELIMITER ',')
        """
    )


def _generic_splink(left: Path, right: Path, out: Path) -> None:
    """Splink as a newcomer would set it up from its documentation, without Chinese-specific work."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    for side, path in (("l", left), ("r", right)):
        con.execute(
            f"""CREATE TABLE roster_{side} AS SELECT record_id,
                    nullif(trim(name), '') AS name, nullif(upper(trim(id_number)), '') AS id_number,
                    nullif(birth_date, '') AS birth_date, nullif(gender, '') AS gender, nullif(phone, '') AS phone
                FROM read_csv('{path}', all_varchar=true)"""
        )
    api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("name"),
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("gender"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name", "birth_date"),
            block_on("phone"),
        ],
        retain_matching_columns=False,
    )
    linker = Linker(
        [api.register("roster_l", dataset_display_name="a_left"), api.register("roster_r", dataset_display_name="b_right")],
        settings,
        log_level=40,
    )  # fmt: skip
    linker.training.estimate_probability_two_random_records_match([block_on("id_number")], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    predictions = linker.inference.predict(threshold_match_probability=0.9)
    con.execute(
        f"COPY (SELECT record_id_l AS left_id, record_id_r AS right_id FROM {predictions.physical_name}) "
        f"TO '{out}' (HEADER, DELIMITER ',')"
    )


def _xietong(left: Path, right: Path, out: Path, *extra: str) -> None:
    from .cli import main

    if main([str(left), str(right), "--out", str(out), *extra]) != 0:
        raise SystemExit(1)


def _xietong_private(left: Path, right: Path, out: Path) -> None:
    from xietong.lib import crypto

    from .cli import encode_main, main

    key = out.with_suffix(".key")
    key.write_text(crypto.generate_key(), encoding="utf-8")
    encoded = [out.with_name(f"{side}.encoded.parquet") for side in ("left", "right")]
    for source, target in zip((left, right), encoded, strict=True):
        if encode_main([str(source), "--key-file", str(key), "--out", str(target)]) != 0:
            raise SystemExit(1)
    if main([str(encoded[0]), str(encoded[1]), "--out", str(out), "--private", "--key-file", str(key)]) != 0:
        raise SystemExit(1)


def run_one(approach: str, left: Path, right: Path, out: Path) -> None:
    """Run one approach in this process (the child side of ``measure``)."""
    if approach == "floor":
        _floor(left, right, out)
    elif approach == "splink":
        _generic_splink(left, right, out)
    elif approach == "xietong":
        _xietong(left, right, out)
    elif approach == "xietong-spark":
        _xietong(left, right, out, "--engine", "spark")
    elif approach == "xietong-private":
        _xietong_private(left, right, out)
    else:
        raise ValueError(approach)


def measure(approach: str, data: synthetic.Generated, size: int, workdir: Path) -> Result:
    """Run ``approach`` in a child process; time it, take its peak memory, score its pairs."""
    out = workdir / f"{approach}.csv"
    command = [sys.executable, "-m", "xietong.matching.bench", "--child", approach,
               str(data.left), str(data.right), str(out)]  # fmt: skip
    # Every approach with DuckDB's own memory default unless the caller sets a limit (the bare joins
    # have none, and the published figures were taken that way).
    env = {**os.environ, "XIETONG_MATCH_MEMORY": os.environ.get("XIETONG_MATCH_MEMORY", "0")}
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{approach} failed (exit {child.returncode}): {' '.join(command)}")
    accuracy = synthetic.score(out, data.truth)
    return Result(
        approach=approach,
        size=size,
        seconds=round(seconds, 1),
        peak_gb=round(usage.ru_maxrss / 1024 / 1024, 2),  # ru_maxrss is in KiB on Linux
        precision=round(accuracy.precision, 4),
        recall=round(accuracy.recall, 4),
        f1=round(accuracy.f1, 4),
        pairs=accuracy.found,
        true_pairs=accuracy.true_pairs,
    )


def table(results: list[Result]) -> str:
    """The results as a Markdown table, as the issue and the closing note show them."""
    lines = [
        "| approach | size | wall time | peak memory | precision | recall | F1 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.approach} | {r.size:,} × {r.size:,} | {r.seconds} s | {r.peak_gb} GB | {r.precision:.4f} "
        f"| {r.recall:.4f} | {r.f1:.4f} |"
        for r in results
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``xietong match-bench --size N [--approaches a,b] [--data-dir D] [--table]``."""
    parser = argparse.ArgumentParser(prog="xietong match-bench", description="比对引擎基准测试（合成名册）")
    parser.add_argument(
        "--child", nargs=4, metavar=("APPROACH", "LEFT", "RIGHT", "OUT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--size", type=int, default=100_000, help="每个名册的行数（默认100000）")
    parser.add_argument("--overlap", type=float, default=0.4, help="两名册共有的人的比例（默认0.4）")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--approaches", default=",".join(DEFAULT_APPROACHES),
                        help=f"逗号分隔，可选：{','.join(APPROACHES)}")  # fmt: skip
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench"), help="合成名册的缓存目录")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="生成名册的进程数")
    parser.add_argument("--table", action="store_true", help="最后再打印一张Markdown表")
    args = parser.parse_args(argv)
    if args.child:
        approach, left, right, out = args.child
        run_one(approach, Path(left), Path(right), Path(out))
        return 0
    approaches = [a.strip() for a in args.approaches.split(",") if a.strip()]
    unknown = [a for a in approaches if a not in APPROACHES]
    if unknown:
        parser.error(f"未知的方法：{'、'.join(unknown)}")
    started = time.perf_counter()
    data = synthetic.generate(
        args.data_dir, args.size, overlap=args.overlap, seed=args.seed, workers=args.workers
    )
    print(
        f"合成名册就绪（{time.perf_counter() - started:.0f} 秒）：{data.left}、{data.right}", file=sys.stderr
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="xietong-bench-") as workdir:
        for approach in approaches:
            print(f"运行 {approach} …", file=sys.stderr, flush=True)
            result = measure(approach, data, args.size, Path(workdir))
            results.append(result)
            print(json.dumps(asdict(result), ensure_ascii=False), flush=True)
    if args.table:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

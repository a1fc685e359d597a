"""``xietong match``: compare two rosters from the command line (no Django needed).

    xietong match LEFT RIGHT --out PAIRS.csv [--review-out REVIEW.csv] [--columns mapping.toml]
                 [--left-columns M] [--right-columns M] [--threshold T]

Writes PAIRS.csv (left_id,right_id,score,reason) and, optionally, REVIEW.csv with the uncertain band;
prints progress and a summary on standard error. On bad input it prints the reason (file, line,
problem) and exits 2, leaving no output file behind.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import private
from .columns import load_mapping
from .engine import MatchOptions, run
from .errors import RosterError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xietong match", description="比对两个名册，找出同一人")
    parser.add_argument("left", type=Path, help="左名册（CSV/XLSX/Parquet）")
    parser.add_argument("right", type=Path, help="右名册（CSV/XLSX/Parquet）")
    parser.add_argument("--out", type=Path, required=True, help="匹配结果 CSV：left_id,right_id,score,reason")
    parser.add_argument("--review-out", type=Path, help="待人工复核的疑似匹配 CSV")
    parser.add_argument("--columns", type=Path, help="两个名册共用的列映射（TOML，[columns] 一节）")
    parser.add_argument("--left-columns", type=Path, help="左名册的列映射")
    parser.add_argument("--right-columns", type=Path, help="右名册的列映射")
    parser.add_argument("--threshold", type=float, default=0.99, help="判定为同一人的最低概率（默认0.99）")
    parser.add_argument("--review-floor", type=float, default=0.5, help="进入人工复核的最低概率（默认0.5）")
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb", help="比对引擎")
    parser.add_argument(
        "--private", action="store_true", help="比对两个加密编码文件（xietong match-encode 的输出）"
    )
    parser.add_argument(
        "--key-file", type=Path, help="私密模式：双方共享的密钥文件，用于核对两个文件的编码密钥"
    )
    parser.add_argument("--json", action="store_true", help="在标准输出打印一行JSON摘要")
    return parser


# The stages ``engine.run`` reports, for the length of the progress bar.
STAGES = ("读取", "规范化", "精确比对", "概率比对", "估计参数", "打分", "一对一归并")


def _progress_bar(private_mode: bool) -> Any:
    """A terminal progress bar over the stages of a run, on standard error."""
    from tqdm import tqdm

    return tqdm(
        total=len(STAGES) - (1 if private_mode else 0),
        file=sys.stderr,
        bar_format="{desc:<24}{bar:30}| {n_fmt}/{total_fmt} [{elapsed}]",
        leave=True,
    )


def _write_csv(path: Path, table: Any) -> None:
    """Write atomically: a temporary file renamed into place, so a failure leaves nothing half-written."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.column_names)
            columns = [table.column(name).to_pylist() for name in table.column_names]
            writer.writerows(zip(*columns, strict=True))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_fingerprints(left: Path, right: Path, key_file: Path | None) -> None:
    """Both encoded files (and the key, when given) must come from the same shared key."""
    expected = private.key_fingerprint(private.load_key(key_file)) if key_file else None
    seen = {path: private.file_fingerprint(path) for path in (left, right)}
    for path, fingerprint in seen.items():
        if fingerprint is not None and expected is not None and fingerprint != expected:
            raise RosterError(path, "此文件不是用所给密钥编码的")
    if None not in seen.values() and seen[left] != seen[right]:
        raise RosterError(right, "两个文件用不同的密钥编码，无法比对")


def encode_main(argv: list[str] | None = None) -> int:
    """``xietong match-encode ROSTER --key-file K --out ENCODED.parquet``: encode a roster for private mode."""
    parser = argparse.ArgumentParser(
        prog="xietong match-encode", description="把名册编码为不含个人信息的比对文件"
    )
    parser.add_argument("roster", type=Path, help="名册（CSV/XLSX/Parquet）")
    parser.add_argument(
        "--key-file", type=Path, required=True, help="双方共享的密钥文件（32字节，base64或hex）"
    )
    parser.add_argument("--out", type=Path, required=True, help="输出的Parquet文件")
    parser.add_argument("--columns", type=Path, help="列映射（TOML）")
    args = parser.parse_args(argv)
    try:
        rows = private.encode_file(
            args.roster, args.out, private.load_key(args.key_file), load_mapping(args.columns)
        )
    except RosterError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"已编码 {rows} 行：{args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run a comparison; returns the exit status (0 done, 2 bad input)."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    bar = _progress_bar(args.private)

    def progress(stage: str) -> None:
        bar.set_description_str(stage)
        bar.update(1)

    try:
        shared = load_mapping(args.columns)
        left_map = {**shared, **load_mapping(args.left_columns)}
        right_map = {**shared, **load_mapping(args.right_columns)}
        options = MatchOptions(
            threshold=args.threshold, review_floor=args.review_floor, private=args.private, engine=args.engine
        )
        if args.private:
            _check_fingerprints(args.left, args.right, args.key_file)
        pairs, review, summary = run(
            args.left,
            args.right,
            mapping_left=left_map,
            mapping_right=right_map,
            options=options,
            progress=progress,
        )
    except RosterError as exc:
        bar.close()
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    bar.set_description_str("完成")
    bar.update(bar.total - bar.n)
    bar.close()
    _write_csv(args.out, pairs)
    if args.review_out:
        _write_csv(args.review_out, review)
    total = time.perf_counter() - started
    print(
        f"完成：读取 左{summary.rows['left']}行、右{summary.rows['right']}行；"
        f"精确比对 {summary.pairs_by_pass['exact']} 对，概率比对 {summary.pairs_by_pass['scored']} 对，"
        f"一对一归并后 {pairs.num_rows} 对；待复核 {summary.review} 对；用时 {total:.1f} 秒",
        file=sys.stderr,
    )
    for side, label in (("left", "左"), ("right", "右")):
        problems = "，".join(f"{k} {v} 行" for k, v in summary.invalid.get(side, {}).items() if v)
        if problems:
            print(f"  {label}名册：{problems}", file=sys.stderr)
    print("  各阶段用时：" + "，".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items()), file=sys.stderr)
    if args.json:
        print(json.dumps({"pairs": pairs.num_rows, "review": summary.review, "seconds": round(total, 2),
                          "by_pass": summary.pairs_by_pass, "rows": summary.rows}, ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

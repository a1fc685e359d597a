#!/usr/bin/env python
"""Reproduce the comparison engine's table side by side on the project's own synthetic rosters.

    .venv/bin/python bench/match_bench.py                    # 1,000,000 × 1,000,000: floor, Splink, Xietong
    .venv/bin/python bench/match_bench.py --size 100000 --approaches floor,xietong,xietong-private

Prints one JSON line per approach (wall time, peak memory, precision, recall, F1) and then the
Markdown table. Rosters are generated once into var/bench/ and reused. See xietong/matching/bench.py.
"""

from __future__ import annotations

import sys

from xietong.matching.bench import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if not any(a == "--size" or a.startswith("--size=") for a in args):
        args = ["--size", "1000000", *args]
    if "--table" not in args:
        args.append("--table")
    sys.exit(main(args))

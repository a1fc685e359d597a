"""Benefit rosters for certification between two regions, with the answer planted (the benchmark and
the two-node test): 北京 (A) pays N pensions; 天津 (B) pays N pensions and keeps a death register of
N/5 rows. 2 % of A's recipients died in B (a tenth of those registered with one ID digit mistyped,
which only the probabilistic pass can find) and 1 % of A's recipients are paid by B as well."""

from __future__ import annotations

import random
from pathlib import Path

from xietong.lib import idnumber

from .people import synthetic_people


def _birth(number: str) -> str:
    return f"{number[6:10]}-{number[10:12]}-{number[12:14]}"


def _mistype(number: str, rng: random.Random) -> str:
    """One digit of the sequence part changed: the check digit no longer fits."""
    number = number[:15] + str((int(number[15]) + 1) % 10) + number[16:]
    if idnumber.is_valid(number):
        number = number[:17] + ("0" if number[17] != "0" else "1")
    return number


def certification_rosters(folder: Path, recipients: int) -> tuple[dict[str, Path], set[str], set[str]]:
    """The three CSV files, the record ids of A's recipients who died in B and of those paid by B too."""
    deaths = recipients // 5
    people = synthetic_people(2026, "110105", recipients * 2 + deaths)
    rng = random.Random(7)
    ours, theirs, dead = (
        people[:recipients], people[recipients : 2 * recipients], people[2 * recipients :],
    )  # fmt: skip
    chosen = rng.sample(range(recipients), recipients * 3 // 100)
    died, twice = set(chosen[: recipients * 2 // 100]), set(chosen[recipients * 2 // 100 :])
    a_rows = [f"YL{i:07d},{p.name},{p.id_number},2015-01-01\n" for i, p in enumerate(ours)]
    b_pensions = [f"TJ{i:07d},{p.name},{p.id_number},2016-01-01\n" for i, p in enumerate(theirs)]
    for i in sorted(twice):  # paid in both: B's row for one of A's people instead of a stranger's
        b_pensions[i] = f"TJ{i:07d},{ours[i].name},{ours[i].id_number},2018-06-01\n"
    d_rows = [
        f"SX{i:07d},{p.name},{p.id_number},{_birth(p.id_number)},2025-03-02\n" for i, p in enumerate(dead)
    ]
    for n, i in enumerate(sorted(died)):
        number = _mistype(ours[i].id_number, rng) if rng.random() < 0.1 else ours[i].id_number
        d_rows[n] = f"SW{i:07d},{ours[i].name},{number},{_birth(ours[i].id_number)},2025-03-02\n"
    files = {"a_pension": folder / "a_pensions.csv", "b_pension": folder / "b_pensions.csv",
             "b_death": folder / "b_deaths.csv"}  # fmt: skip
    files["a_pension"].write_text(
        "人员编号,姓名,身份证号码,待遇起始日期\n" + "".join(a_rows), encoding="utf-8"
    )
    files["b_pension"].write_text(
        "人员编号,姓名,身份证号码,待遇起始日期\n" + "".join(b_pensions), encoding="utf-8"
    )
    files["b_death"].write_text(
        "人员编号,姓名,身份证号码,出生日期,死亡日期\n" + "".join(d_rows), encoding="utf-8"
    )
    return files, {f"YL{i:07d}" for i in died}, {f"YL{i:07d}" for i in twice}

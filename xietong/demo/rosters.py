"""Benefit rosters for certification between two regions, with the answer planted (the benchmark and
the two-node test): 北京 (A) pays N pensions; 天津 (B) pays N pensions and keeps a death register of
N/5 rows. 2 % of A's recipients died in B (a tenth of those registered with one ID digit mistyped,
which only the probabilistic pass can find) and 1 % of A's recipients are paid by B as well."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

from xietong.lib import idnumber

from .people import synthetic_people

if TYPE_CHECKING:
    from xietong.exchange.localnodes import LocalNode


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


IMPORT = """
from django.core.files.uploadedfile import SimpleUploadedFile
from xietong.core.models import Organization, Region
from xietong.insurance import actions
org, _ = Organization.objects.get_or_create(code="{code}", defaults=dict(name="{code}", kind="hrss_bureau",
    region=Region.objects.get(code="{region}")))
with open("{path}", "rb") as handle:
    print(actions.roster_import_start(organization=org, kind="{kind}", title="{kind}", mapping={{}},
        acting_user=None, uploaded=SimpleUploadedFile("{kind}.csv", handle.read())).pk)
"""

RUN = """
from xietong.insurance import actions
from xietong.insurance.models import BenefitRoster
print(actions.certification_run_start(roster=BenefitRoster.objects.get(pk={pk}), partners={partners!r},
    checks=["fraud_suspected", "duplicate"], acting_user=None).pk)
"""


def roster_imported(node: LocalNode, path: Path, kind: str, code: str, region: str) -> tuple[int, float]:
    """Import a roster file on a running node as its page would (the task worker does the work) and
    wait until it is stored: the roster's id and the seconds it took; ``RuntimeError`` if it failed."""
    started = time.perf_counter()
    pk = int(node.shell(IMPORT.format(code=code, region=region, path=path, kind=kind)))
    while True:
        rows = node.query("SELECT status, message FROM exchange_benefitroster WHERE id = ?", (pk,))
        if rows and rows[0][0] == "failed":
            raise RuntimeError(rows[0][1])
        if rows and rows[0][0] == "done":
            return pk, time.perf_counter() - started
        time.sleep(0.5)


def run_started(node: LocalNode, roster: int, partners: tuple[str, ...] = ("tj",)) -> int:
    """Open a certification run of ``roster`` with ``partners`` (天津) and both checks, on a running
    node: its id."""
    return int(node.shell(RUN.format(pk=roster, partners=list(partners))))

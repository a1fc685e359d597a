#!/usr/bin/env python
"""Eligibility certification between two real nodes on loopback (each ``xietong serve`` with SQLite).

    .venv/bin/python bench/certification_bench.py [--recipients 20000] [--deaths 20000]

The Beijing node imports a pension roster of N recipients, the Tianjin node a death roster of M
registrations, of which 2 % are Beijing recipients (a tenth of those with a mistyped ID digit, which
only the probabilistic pass can find). Beijing opens a run with Tianjin; the benchmark times each
import and the run until every chunk is answered, then scores the findings against the truth.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
roster = BenefitRoster.objects.get(pk={pk})
print(actions.certification_run_start(roster=roster, partners=["tj"], checks=["fraud_suspected"],
    acting_user=None).pk)
"""


def rosters(folder: Path, recipients: int, deaths: int) -> tuple[Path, Path, set[str]]:
    """The two CSV files and the record ids of the recipients who died in Tianjin."""
    from xietong.demo.people import synthetic_people
    from xietong.lib import idnumber

    people = synthetic_people(2026, "110105", recipients + deaths)
    rng = random.Random(7)
    pensions, others = people[:recipients], people[recipients:]
    died = set(rng.sample(range(recipients), max(1, deaths // 50)))
    rows = [(f"YL{i:07d}", p.name, p.id_number) for i, p in enumerate(pensions)]
    death_rows = []
    for i in sorted(died):
        number = pensions[i].id_number
        if rng.random() < 0.1:  # one digit mistyped in the sequence part: the check digit no longer fits
            digit = str((int(number[15]) + 1) % 10)
            number = number[:15] + digit + number[16:]
            if idnumber.is_valid(number):
                number = number[:17] + ("0" if number[17] != "0" else "1")
        death_rows.append((f"SW{i:07d}", pensions[i].name, number, _birth(pensions[i].id_number)))
    death_rows += [
        (f"SX{i:07d}", p.name, p.id_number, _birth(p.id_number))
        for i, p in enumerate(others[: deaths - len(died)])
    ]
    pension_file, death_file = folder / "pensions.csv", folder / "deaths.csv"
    pension_file.write_text(
        "人员编号,姓名,身份证号码\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows), encoding="utf-8"
    )
    death_file.write_text(
        "人员编号,姓名,身份证号码,出生日期,死亡日期\n"
        + "".join(f"{a},{b},{c},{d},2025-03-02\n" for a, b, c, d in death_rows),
        encoding="utf-8",
    )
    return pension_file, death_file, {f"YL{i:07d}" for i in died}


def _birth(number: str) -> str:
    return f"{number[6:10]}-{number[10:12]}-{number[12:14]}"


def wait(check, seconds: float = 3600) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > seconds:
            raise TimeoutError
        time.sleep(0.2)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=20000)
    parser.add_argument("--deaths", type=int, default=20000)
    args = parser.parse_args()
    from xietong.exchange.localnodes import region_group

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pension_file, death_file, truth = rosters(folder, args.recipients, args.deaths)
        bj, tj = region_group(folder / "nodes", count=2, extra_env={"XIETONG_EXCHANGE_REGISTRY_SECONDS": "1"})
        try:
            bj.start()
            tj.start()
            wait(lambda: tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"))
            figures: dict[str, object] = {"recipients": args.recipients, "deaths": args.deaths}
            imports = {}
            for node, path, kind, code, region in (
                (bj, pension_file, "pension", "bj-rsj", "110000"),
                (tj, death_file, "death", "tj-rsj", "120000"),
            ):
                pk = int(node.shell(IMPORT.format(code=code, region=region, path=path, kind=kind)))
                imports[kind] = pk

                def done(node=node, pk=pk) -> bool:  # type: ignore[no-untyped-def]
                    rows = node.query(
                        "SELECT status, message FROM exchange_benefitroster WHERE id = ?", (pk,)
                    )
                    if rows and rows[0][0] == "failed":
                        raise RuntimeError(rows[0][1])
                    return bool(rows) and rows[0][0] == "done"

                seconds = wait(done)
                figures[f"import_{kind}_rows_per_s"] = round(
                    (args.recipients if kind == "pension" else args.deaths) / seconds
                )
            run = int(bj.shell(RUN.format(pk=imports["pension"])))
            seconds = wait(
                lambda: (
                    bj.query("SELECT stage FROM exchange_eligibilitycheck WHERE id = ?", (run,))[0][0]
                    in ("complete", "partial")
                )
            )
            failed = bj.query(
                "SELECT partner, error FROM exchange_certificationrequest"
                " WHERE run_id = ? AND status = 'failed'",
                (run,),
            )
            if failed:
                raise RuntimeError(f"partner failed: {failed}")
            found = {
                row[0]
                for row in bj.query(
                    "SELECT e.record_id FROM exchange_certificationfinding f JOIN exchange_rosterentry e "
                    "ON e.id = f.entry_id WHERE f.run_id = ? AND f.score >= 0.99",
                    (run,),
                )
            }
            review = bj.query(
                "SELECT count(*) FROM exchange_certificationfinding WHERE run_id = ? AND score < 0.99", (run,)
            )[0][0]
            size = bj.query(
                "SELECT avg(length(body)) FROM exchange_exchangemessage WHERE kind = 'certification.request'"
            )[0][0]
            file_bytes = bj.query(
                "SELECT sum(f.size) FROM exchange_messagefile f JOIN exchange_exchangemessage m"
                " ON m.id = f.message_id WHERE m.kind = 'certification.request'"
            )[0][0]
            hits = len(found & truth)
            figures.update(
                run_seconds=round(seconds, 1),
                records_per_s=round(args.recipients / seconds),
                request_message_bytes=round(size or 0),
                request_file_bytes=file_bytes or 0,
                findings=len(found),
                review_band=review,
                precision=round(hits / len(found), 4) if found else None,
                recall=round(hits / len(truth), 4),
            )
            print(json.dumps(figures, ensure_ascii=False))
        finally:
            bj.stop()
            tj.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

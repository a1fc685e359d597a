#!/usr/bin/env python
"""Member import speed against PostgreSQL, beside a plain COPY of the same rows for scale.

    bash scripts/with-postgres.sh .venv/bin/python bench/member_import_bench.py --rows 1000000

Generates a roll of N valid rows (CSV, the import template's columns), imports it into an empty
union through ``membership.actions.member_import_run`` (every row checked, encrypted, blind-indexed,
committed), then times ``COPY`` of the same N rows into a plain table with a primary key and one
index. Prints one JSON line: rows, seconds, rows/s of each, and their ratio (import time / COPY time);
also the database's share (the imported rows copied straight back into the real tables, see
``_database_share``: the floor for any import) and what a worker's first import costs extra.
Needs ``DATABASE_URL`` (``scripts/with-postgres.sh`` starts a throw-away server and sets it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


BEIJING = ("110101", "110102", "110105", "110106", "110108")


def _roll(path: Path, rows: int, regions: tuple[str, ...] = BEIJING) -> None:
    """N members with distinct ID numbers: a thousand sequence numbers per birth day, 40 years of
    birth days per region (unique up to 14.6 million rows per region)."""
    from xietong.lib import idnumber

    days = 14_600
    with path.open("w", encoding="utf-8") as out:
        out.write("姓名,身份证号码,性别,出生日期,手机号码,入会日期\n")
        for i in range(rows):
            birth = date(1960, 1, 1) + timedelta(days=(i // 1000) % days)
            region = regions[i // (1000 * days) % len(regions)]
            body = f"{region}{birth:%Y%m%d}{i % 1000:03d}"
            number = body + idnumber.check_digit(body)
            gender = "男" if int(number[16]) % 2 else "女"
            out.write(f"职工{i},{number},{gender},{birth.isoformat()},139{i % 10**8:08d},2026-01-05\n")


def _import(org: Any, roll: Path) -> Any:
    from django.core.files import File

    from xietong.membership import actions
    from xietong.membership.models import MemberImport

    job = MemberImport(organization=org, original_name=roll.name)
    with roll.open("rb") as handle:
        job.file.save(roll.name, File(handle), save=True)
    return actions.member_import_run(job=job)


def _database_share(org_id: int) -> float:
    """Seconds the database alone needs to store what the import stored: the imported people and
    members copied out (already checked and encrypted), deleted, and copied back into the real
    tables with their indexes and foreign keys, committed. No import can be faster than this."""
    from django.db import connection, transaction

    members = f"SELECT * FROM membership_member WHERE organization_id = {int(org_id)}"
    people = f"SELECT p.* FROM core_person p JOIN ({members}) m ON m.person_id = p.id"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        dumped = {}
        for table, query in (("core_person", people), ("membership_member", members)):
            with raw.copy(f"COPY ({query}) TO STDOUT") as copy:
                dumped[table] = b"".join(bytes(part) for part in copy)
        cursor.execute(f"CREATE TEMP TABLE gone AS SELECT person_id FROM ({members}) m")
        cursor.execute(f"DELETE FROM membership_member WHERE organization_id = {int(org_id)}")
        cursor.execute("DELETE FROM core_person WHERE id IN (SELECT person_id FROM gone)")
        cursor.execute("DROP TABLE gone")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, data in dumped.items():
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(data)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error(
            "需要 PostgreSQL：bash scripts/with-postgres.sh .venv/bin/python bench/member_import_bench.py"
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings.base")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from xietong.core.models import Organization, Region
    from xietong.membership.models import Member

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(
        code="bench-union",
        defaults={
            "name": "基准测试工会",
            "kind": "grassroots_union",
            "region": Region.objects.get(code="110101"),
        },
    )
    Member.objects.filter(organization=org).delete()
    with tempfile.TemporaryDirectory() as tmp:
        roll = Path(tmp) / "roll.csv"
        _roll(roll, args.rows)
        # A worker loads Arrow, pandas and the region table on its first import (seconds here); the
        # figure is for a worker that has imported before, so a small roll of other people goes first.
        warmup = Path(tmp) / "warmup.csv"
        _roll(warmup, 1000, regions=("120101",))
        started = time.perf_counter()
        _import(org, warmup)
        warmup_seconds = time.perf_counter() - started
        Member.objects.filter(organization=org).delete()
        started = time.perf_counter()
        job = _import(org, roll)
        import_seconds = time.perf_counter() - started
        assert job.created_count == args.rows, job.message
        database_seconds = _database_share(org.pk)

        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_copy")
            cursor.execute(
                "CREATE TABLE bench_copy (id bigserial PRIMARY KEY, name text, id_number text, gender text,"
                " birth_date date, phone text, joined_on date)"
            )
            cursor.execute("CREATE INDEX bench_copy_id_number ON bench_copy (id_number)")
            data = io.BytesIO(roll.read_bytes())
            started = time.perf_counter()
            columns = "name, id_number, gender, birth_date, phone, joined_on"
            with cursor.cursor.copy(
                f"COPY bench_copy ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
            copy_seconds = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_copy")
    result = {
        "rows": args.rows,
        "import_seconds": round(import_seconds, 1),
        "import_rows_per_s": round(args.rows / import_seconds),
        "copy_seconds": round(copy_seconds, 1),
        "copy_rows_per_s": round(args.rows / copy_seconds),
        "ratio": round(import_seconds / copy_seconds, 2),
        "database_share_seconds": round(database_seconds, 1),
        "database_share_ratio": round(database_seconds / copy_seconds, 2),
        "first_import_in_process_seconds": round(warmup_seconds, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

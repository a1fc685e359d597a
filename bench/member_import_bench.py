#!/usr/bin/env python
"""Member import speed against PostgreSQL, beside a plain COPY of the same rows for scale.

    bash scripts/with-postgres.sh .venv/bin/python bench/member_import_bench.py --rows 1000000

Generates a roll of N valid rows (CSV, the import template's columns), imports it into an empty
union through ``membership.actions.member_import_run`` (every row checked, encrypted, blind-indexed,
committed), then times ``COPY`` of the same N rows into a plain table with a primary key and one
index. Prints one JSON line: rows, seconds, rows/s of each, and their ratio (import time / COPY time).
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
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _roll(path: Path, rows: int) -> None:
    from xietong.lib import idnumber

    with path.open("w", encoding="utf-8") as out:
        out.write("姓名,身份证号码,性别,出生日期,手机号码,入会日期\n")
        for i in range(rows):
            birth = date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
            region = ("110101", "110102", "110105", "110106", "110108")[i // 200_000 % 5]
            body = f"{region}{birth:%Y%m%d}{(i // 5) % 1000:03d}"
            number = body + idnumber.check_digit(body)
            gender = "男" if int(number[16]) % 2 else "女"
            out.write(f"职工{i},{number},{gender},{birth.isoformat()},139{i % 10**8:08d},2026-01-05\n")


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
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    from xietong.core.models import Organization, Region
    from xietong.membership import actions
    from xietong.membership.models import Member, MemberImport

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
        job = MemberImport(organization=org, original_name="roll.csv")
        with roll.open("rb") as handle:
            job.file.save("bench-roll.csv", File(handle), save=True)
        started = time.perf_counter()
        job = actions.member_import_run(job=job)
        import_seconds = time.perf_counter() - started
        assert job.created_count == args.rows, job.message

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
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Benefit roster import speed against PostgreSQL, beside the database's own share of the same rows.

    bash scripts/with-postgres.sh .venv/bin/python bench/roster_import_bench.py --rows 100000

Generates a pension roster of N valid rows (CSV: 人员编号, 姓名, 身份证号码, 待遇起始日期), imports it
through ``insurance.actions.roster_import_run`` (read and normalised by the comparison engine, checked
as whole columns, encrypted, blind-indexed, written with COPY, committed, then encoded once for every
run, ADR 018), and measures as ``member_import_bench.py`` does: a plain ``COPY`` of the same rows into
a table with a primary key and one index, and the database's share (the stored entries copied out,
deleted and copied straight back: the floor for any import). Prints one JSON line; ``encode_seconds``
is the one-off encoding included in ``import_seconds`` (``reencode_after_key_change_seconds``: the
same from the stored, encrypted entries).
Needs ``DATABASE_URL`` (``scripts/with-postgres.sh`` starts a throw-away server and sets it).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import secrets
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _roster(path: Path, rows: int, region: str = "110105") -> None:
    """N recipients with distinct ID numbers: a thousand sequence numbers per birth day."""
    from xietong.lib import idnumber

    with path.open("w", encoding="utf-8") as out:
        out.write("人员编号,姓名,身份证号码,待遇起始日期\n")
        for i in range(rows):
            birth = date(1940, 1, 1) + timedelta(days=(i // 1000) % 7300)
            body = f"{region}{birth:%Y%m%d}{i % 1000:03d}"
            out.write(f"YL{i:08d},退休职工{i},{body + idnumber.check_digit(body)},2008-04-01\n")


def _import(org: Any, path: Path) -> Any:
    from django.core.files import File

    from xietong.insurance import actions
    from xietong.insurance.models import BenefitRoster

    roster = BenefitRoster(
        organization=org, kind="pension", title=path.stem, original_name=path.name, status="running"
    )
    with path.open("rb") as handle:
        roster.file.save(path.name, File(handle), save=True)
    return actions.roster_import_run(job=roster)


def _database_share(roster_id: int) -> float:
    """Seconds the database alone needs to store the roster's entries (already checked and
    encrypted): copied out, deleted, and copied back with their indexes and constraints, committed."""
    from django.db import connection, transaction

    query = f"SELECT * FROM exchange_rosterentry WHERE roster_id = {int(roster_id)}"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
            dumped = b"".join(bytes(part) for part in copy)
        cursor.execute(f"DELETE FROM exchange_rosterentry WHERE roster_id = {int(roster_id)}")
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy("COPY exchange_rosterentry FROM STDIN") as copy,
    ):
        copy.write(dumped)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error(
            "需要 PostgreSQL：bash scripts/with-postgres.sh .venv/bin/python bench/roster_import_bench.py"
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings.base")
    os.environ.setdefault("XIETONG_GROUP_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from xietong.core.models import Organization, Region
    from xietong.insurance import actions
    from xietong.insurance.actions import certification

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(
        code="bench-rsj",
        defaults={
            "name": "基准测试人社局",
            "kind": "hrss_bureau",
            "region": Region.objects.get(code="110105"),
        },
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pensions.csv"
        _roster(path, args.rows)
        warmup = Path(tmp) / "warmup.csv"  # a worker's first import loads DuckDB, Arrow and the engine
        _roster(warmup, 1000, region="120101")
        _import(org, warmup)
        spent: list[float] = []
        encode = certification.roster_encode

        def timed(**kwargs: Any) -> Any:  # the import's one-off encoding, timed apart
            started = time.perf_counter()
            try:
                return encode(**kwargs)
            finally:
                spent.append(time.perf_counter() - started)

        certification.roster_encode = timed
        started = time.perf_counter()
        roster = _import(org, path)
        import_seconds = time.perf_counter() - started
        certification.roster_encode = encode
        assert roster.status == "done", roster.message
        assert roster.processed_rows == args.rows
        encode_seconds = spent[-1]
        started = time.perf_counter()
        actions.roster_encode(roster=roster)  # what a key change costs: decrypt and encode again
        reencode_seconds = time.perf_counter() - started
        database_seconds = _database_share(roster.pk)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_copy")
            cursor.execute(
                "CREATE TABLE bench_copy (id bigserial PRIMARY KEY, record_id text, name text,"
                " id_number text, event_date date)"
            )
            cursor.execute("CREATE INDEX bench_copy_id_number ON bench_copy (id_number)")
            data = io.BytesIO(path.read_bytes())
            started = time.perf_counter()
            with cursor.cursor.copy(
                "COPY bench_copy (record_id, name, id_number, event_date)"
                " FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
            copy_seconds = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_copy")
    print(
        json.dumps(
            {
                "rows": args.rows,
                "import_seconds": round(import_seconds, 1),
                "import_rows_per_s": round(args.rows / import_seconds),
                "encode_seconds": round(encode_seconds, 1),
                "reencode_after_key_change_seconds": round(reencode_seconds, 1),
                "import_without_encoding_rows_per_s": round(
                    args.rows / max(import_seconds - encode_seconds, 0.01)
                ),
                "copy_seconds": round(copy_seconds, 1),
                "database_share_seconds": round(database_seconds, 1),
                "ratio_to_database_share": round(import_seconds / database_seconds, 2),
                "ratio_to_database_share_without_encoding": round(
                    (import_seconds - encode_seconds) / database_seconds, 2
                ),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

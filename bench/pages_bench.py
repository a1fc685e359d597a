#!/usr/bin/env python
"""A city federation's whole roll (issue 16): list pages, searches, figures and an export at scale.

    .venv/bin/python bench/pages_bench.py --scale 121500              # SQLite, then PostgreSQL
    .venv/bin/python bench/pages_bench.py --scale 121500 --db sqlite
    bash scripts/with-postgres.sh .venv/bin/python bench/pages_bench.py --scale 121500 --db postgres

For each database: builds the scaled demo in a fresh var folder (``xietong demo --scale N
--no-serve``: 北京市政法卫生文化工会 grows to N real-name members with the seed's card ratio), signs
in as ``zfws_officer`` (that union's officer) with Django's test client (the whole request: middleware,
scoping, templates; no HTTP server) and times ``--runs`` requests of each page after one warm-up:
the member list's first page, its last page (``page=last``), the page before the last as its link
reaches it, the first and last pages again with the total counted in every request (a filter's first
request; later ones within ``XIETONG_LIST_COUNT_SECONDS`` reuse the total), the three searches
(name, membership number, ID number) and the figures page. Then the whole roll's Excel export: the
request that starts it (it answers at once with the job's page) and the time until the file is
ready, written by ``xietong db_worker --batch`` in a child process whose maximum resident set size
is the export's peak memory. Prints one JSON line per database and a table of p50/p95 in ms.

``--db both`` (the default) runs the PostgreSQL half through ``scripts/with-postgres.sh`` (a
throw-away server on ``XIETONG_TEST_PG_PORT``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"p50": round(statistics.median(ordered), 1), "p95": round(p95, 1)}


def _build(scale: int, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-m", "xietong.cli", "demo", "--scale", str(scale), "--no-serve"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return round(time.perf_counter() - started, 1)


def _measure(scale: int, runs: int, database: str) -> dict[str, Any]:
    """Build the demo and time the pages in this process (the environment names the database)."""
    var = Path(tempfile.mkdtemp(prefix=f"xietong-pages-{database}-"))
    env = {**os.environ, "XIETONG_VAR_DIR": str(var), "XIETONG_ALLOWED_HOSTS": "testserver,127.0.0.1"}
    if database == "sqlite":
        env.pop("DATABASE_URL", None)
    os.environ.update(env)
    if database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    build_seconds = _build(scale, env)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings.base")
    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from xietong.core import pii
    from xietong.core.models import ExportJob, User
    from xietong.membership.models import Member

    officer = User.objects.get(username="zfws_officer")
    client = Client()
    client.force_login(officer)
    roll = Member.objects.filter(organization__path__startswith=officer.organization.path)
    sample = roll.select_related("person").order_by("pk")[roll.count() // 2]
    list_url = reverse("membership:member_list")

    def timed(url: str, params: dict[str, str] | None = None, *, counted: bool = True) -> dict[str, float]:
        """p50/p95 of ``runs`` requests; ``counted=False`` empties the cache before each, so the
        list's total is counted in every request (as in the first request of a filter)."""
        client.get(url, params or {})  # warm-up: caches, first query plans
        samples = []
        for _ in range(runs):
            if not counted:
                cache.clear()
            started = time.perf_counter()
            response = client.get(url, params or {})
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, params, response.status_code)
        return _percentiles(samples)

    last = client.get(list_url, {"page": "last"}).content.decode()
    before_last = re.findall(r'href="\?([^"]*)">(?:上一页|Previous)', last)[0].replace("&amp;", "&")
    total = int(re.findall(r"共 (\d+) 条", last)[0])
    figures: dict[str, Any] = {
        "database": database,
        "scale": scale,
        "members_in_view": total,
        "build_seconds": build_seconds,
        "first_page": timed(list_url),
        "first_page_counting": timed(list_url, counted=False),
        "last_page_counting": timed(list_url, {"page": "last"}, counted=False),
        "last_page": timed(list_url, {"page": "last"}),
        "page_before_last_by_link": timed(f"{list_url}?{before_last}"),
        "search_name": timed(list_url, {"q": sample.person.name}),
        "search_number": timed(list_url, {"q": sample.number}),
        "search_id_number": timed(
            list_url, {"q": pii.decrypt(sample.person.id_number_cipher, field="id_number")}
        ),
        "figures_page": timed(reverse("membership:figures")),
    }

    # The whole roll's export: the request queues a job; a worker process writes it. The demo's own
    # tasks (roster imports) are run first, so that the worker measured runs the export alone.
    worker_command = [PYTHON, "-m", "xietong.cli", "db_worker", "--batch", "--no-startup-delay"]
    subprocess.run(worker_command, cwd=ROOT, env={**os.environ}, check=True, capture_output=True)
    started = time.perf_counter()
    response = client.get(list_url, {"export": "xlsx"})
    figures["export_request_ms"] = round((time.perf_counter() - started) * 1000, 1)
    assert response.status_code == 302, response.status_code
    job = ExportJob.objects.latest("pk")
    worker = subprocess.Popen(
        worker_command,
        cwd=ROOT, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _pid, status, usage = os.wait4(worker.pid, 0)
    ready = time.perf_counter() - started
    job.refresh_from_db()
    figures["export"] = {
        "status": job.status,
        "rows": job.written_rows,
        "ready_seconds": round(ready, 1),
        "peak_memory_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        "file_mb": round(job.file.size / 1e6, 1) if job.file else 0,
        "worker_exit": os.waitstatus_to_exitcode(status),
    }
    shutil.rmtree(var, ignore_errors=True)  # the demo's database: about 1 GB at a million members
    return figures


def _table(results: list[dict[str, Any]]) -> str:
    keys = [
        ("first_page", "member list, first page"),
        ("last_page", "member list, last page"),
        ("first_page_counting", "first page, total counted in the request"),
        ("last_page_counting", "last page, total counted in the request"),
        ("page_before_last_by_link", "the page before the last, by its link"),
        ("search_name", "search by name"),
        ("search_number", "search by membership number"),
        ("search_id_number", "search by ID number"),
        ("figures_page", "figures page"),
    ]
    header = "| measure | " + " | ".join(f"{r['database']} p50 / p95 ms" for r in results) + " |"
    lines = [header, "| --- |" + " --- |" * len(results)]
    for key, label in keys:
        lines.append(
            f"| {label} | " + " | ".join(f"{r[key]['p50']} / {r[key]['p95']}" for r in results) + " |"
        )
    lines.append(
        "| export of the whole roll | "
        + " | ".join(
            f"request {r['export_request_ms']} ms; ready in {r['export']['ready_seconds']} s "
            f"({r['export']['rows']} rows, {r['export']['file_mb']} MB), "
            f"peak {r['export']['peak_memory_mb']} MB"
            for r in results
        )
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=121500)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    if args.db == "postgres" and not os.environ.get("DATABASE_URL"):
        parser.error("--db postgres needs DATABASE_URL (run it through scripts/with-postgres.sh)")
    if args.db != "both":
        result = _measure(args.scale, args.runs, args.db)
        print(json.dumps(result, ensure_ascii=False))
        if not args.json_only:
            print(_table([result]))
        return
    results = []
    for database in ("sqlite", "postgres"):
        command = [PYTHON, __file__, "--scale", str(args.scale), "--runs", str(args.runs), "--db", database]
        if database == "postgres":
            command = ["bash", str(ROOT / "scripts/with-postgres.sh"), *command]
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        output = subprocess.run(
            [*command, "--json-only"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        line = [text for text in output.stdout.splitlines() if text.startswith("{")][-1]
        results.append(json.loads(line))
        print(line, flush=True)
    print(_table(results))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""A city federation's node under load (issue 15 §4): locust against gunicorn on PostgreSQL.

    .venv/bin/python bench/load_bench.py --scale 121500 --minutes 10       # one command, nothing else

Without ``DATABASE_URL`` the run restarts itself through ``scripts/with-postgres.sh`` (a throw-away
server on ``XIETONG_TEST_PG_PORT``, default 54329); with one, it uses that database (empty, or left by
an earlier run with ``--var``). Steps:

1. builds ``xietong demo --scale N --no-serve`` (北京市政法卫生文化工会 with N real-name members and
   the seed's card ratio, 11.81 of 12.15; idempotent: an earlier build is counted, not repeated) and
   runs the tasks it queued (roster imports) with ``db_worker --batch``, timing both;
2. writes the scenario's data (``load-data.json`` in the var folder): members, people and search
   terms of the roll, card numbers with the last four ID characters, members' phones (decrypted
   here, for the portal sign-in), the join QR code's union, the demo accounts' password;
3. starts the node with production settings (``xietong.settings.production``: secrets and keys in
   the environment, ``DEBUG`` off): gunicorn with ``--workers`` workers and ``--task-workers``
   task workers (``xietong db_worker``) as separate processes, the SMS backend writing to a file the scenario
   reads (``FileSender``: no test hook in the application);
4. runs ``locust`` headless (``bench/load/locustfile.py``) for ``--minutes`` with ``--users``, and
   samples every process's resident memory every 10 s;
5. prints requests/s, p50/p95/p99 and failures per kind of page, and memory per process (start,
   after the warm-up, end, maximum; "flat" when the end is within 10 % of the post-warm-up value).

Rate limits: every request comes from 127.0.0.1, so the per-address limits are raised through their
environment variables for the node under test (``BENCH_LIMITS``); the per-value limits (an ID
number, a phone, a card) stay as they are and the scenario spreads its values over thousands of
members. Exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# Per-address limits raised for a load test from one address (the node's defaults: 20–30 per hour).
BENCH_LIMITS = {
    "XIETONG_RATE_JOIN": "100000/h",
    "XIETONG_RATE_JOIN_STATUS": "100000/h",
    "XIETONG_RATE_JOIN_FIND": "100000/h",
    "XIETONG_RATE_LOGIN": "100000/10m",
    "XIETONG_RATE_PORTAL_CODE": "100000/h",
    "XIETONG_RATE_PORTAL_VERIFY": "100000/h",
    "XIETONG_RATE_DESK_CARD_NUMBER": "100000/h",
}
SAMPLE_SECONDS = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str], env: dict[str, str], log: Path) -> float:
    """Run a step to its end, its output appended to ``log``; seconds it took."""
    started = time.perf_counter()
    with log.open("ab") as out:
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=out, stderr=subprocess.STDOUT)
    return round(time.perf_counter() - started, 1)


def prepare(out: Path, samples: int) -> None:
    """Step 2, in a child process with the embedded settings (the key files of the var folder)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings.base")
    import django

    django.setup()
    from xietong.core import pii
    from xietong.core.models import Organization, User
    from xietong.demo.accounts import DEMO_PASSWORD
    from xietong.membership.models import Member, MemberCard, ServicePoint

    root = Organization.objects.get(code="bj-zfws")
    roll = Member.objects.filter(organization__path__startswith=root.path, status="active")
    total = roll.count()
    step = max(1, total // samples)
    members = list(
        roll.select_related("person")
        .order_by("pk")
        .values(
            "pk", "number", "person_id", "person__name", "person__id_number_cipher", "person__phone_cipher"
        )[::step][:samples]
    )
    cards = MemberCard.objects.filter(member__in=[m["pk"] for m in members], status="active").values_list(
        "number", "member__person__id_number_cipher"
    )
    desk = User.objects.get(username="hospital_desk")
    point = ServicePoint.objects.filter(accounts=desk).order_by("pk").first()
    join_union = next(org for org in Organization.objects.filter(path__startswith=root.path) if org.is_union)
    data = {
        "members_in_roll": total,
        "password": DEMO_PASSWORD,
        "officers": ["zfws_officer", "zfws_clerk"],
        "desk": desk.username,
        "service_point": point.pk if point else None,
        "benefit": (point.benefits or ["free_registration"])[0] if point else "free_registration",
        "join_code": join_union.code,
        "members": [m["pk"] for m in members],
        "people": [m["person_id"] for m in members],
        "names": [m["person__name"] for m in members[:200]],
        "numbers": [m["number"] for m in members[:200]],
        "id_numbers": [pii.decrypt(m["person__id_number_cipher"], field="id_number") for m in members[:200]],
        "phones": sorted(
            {
                pii.decrypt(m["person__phone_cipher"], field="phone")
                for m in members
                if m["person__phone_cipher"]
            }
        ),
        "cards": [[number, pii.decrypt(cipher, field="id_number")[-4:]] for number, cipher in cards],
    }
    out.write_text(json.dumps(data, ensure_ascii=False))


def _processes(server: subprocess.Popen[bytes], workers: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    import psutil

    found = {"gunicorn master": psutil.Process(server.pid)}
    for index, child in enumerate(sorted(found["gunicorn master"].children(), key=lambda p: p.pid)):
        found[f"gunicorn worker {index + 1}"] = child
    for index, worker in enumerate(workers):
        found[f"db_worker {index + 1}"] = psutil.Process(worker.pid)
    return found


def _sample_memory(
    server: subprocess.Popen[bytes],
    workers: list[subprocess.Popen[bytes]],
    stop: threading.Event,
    into: list[Any],
) -> None:
    """Every SAMPLE_SECONDS: (seconds since start, {process: RSS in MB})."""
    import psutil

    started = time.monotonic()
    while not stop.is_set():
        row = {}
        for name, process in _processes(server, workers).items():
            try:
                row[name] = round(process.memory_info().rss / 2**20, 1)
            except psutil.NoSuchProcess:
                row[name] = None
        row["load average (1 min)"] = round(os.getloadavg()[0], 2)  # the machine's, for context
        into.append((round(time.monotonic() - started), row))
        stop.wait(SAMPLE_SECONDS)


def _wait_until_served(url: str) -> None:
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"服务未在 60 秒内启动：{url}")


def _memory_table(samples: list[Any], warm_up: int) -> tuple[list[str], bool]:
    """Start, after the warm-up (the median of the samples after ``warm_up`` seconds, or after the
    process first grew by 10 % if that came later), end and maximum of each process; flat when the
    end is within 10 % of the post-warm-up value."""
    names = list(samples[0][1]) if samples else []
    lines = [
        "| process | start MB | after warm-up MB (median) | end MB | max MB | end / after warm-up |",
        "| --- |" + " ---: |" * 5,
    ]
    flat = True
    for name in names:
        if name.startswith("load average"):
            continue
        values = [(t, row.get(name)) for t, row in samples if row.get(name) is not None]
        if not values:
            continue
        # Warm from ``warm_up`` seconds, or later for a process that did its first work later (a
        # task worker idle until its first job grows then by loading what the job needs).
        start = values[0][1]
        grew = next((t for t, v in values if v >= 1.1 * start), 0)
        later = [v for t, v in values if t >= max(warm_up, grew)] or [values[-1][1]]
        after = statistics.median(later)
        end, peak = values[-1][1], max(v for _t, v in values)
        ratio = end / after if after else 1.0
        flat = flat and ratio <= 1.10
        lines.append(f"| {name} | {values[0][1]} | {after} | {end} | {peak} | {ratio:.2f} |")
    loads = [row["load average (1 min)"] for _t, row in samples if "load average (1 min)" in row]
    if loads:
        lines.append(
            f"\nmachine load average (1 min) during the run: min {min(loads)}, "
            f"median {statistics.median(loads)}, max {max(loads)} on {os.cpu_count()} CPUs"
        )
    return lines, flat


def _stats_table(stats_csv: Path, seconds: float) -> tuple[list[str], int, dict[str, Any]]:
    rows = list(csv.DictReader(stats_csv.open(encoding="utf-8")))
    lines = ["| kind | requests | req/s | p50 ms | p95 ms | p99 ms | failures |", "| --- |" + " ---: |" * 6]
    failures = 0
    summary: dict[str, Any] = {}
    for row in rows:
        name = row["Name"] if row["Type"] else "all"
        name = "all" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        count, failed = int(row["Request Count"]), int(row["Failure Count"])
        failures += failed if row["Name"] != "Aggregated" else 0
        rps = round(float(row["Requests/s"]), 1)
        lines.append(f"| {name} | {count} | {rps} | {row['50%']} | {row['95%']} | {row['99%']} | {failed} |")
        summary[name] = {
            "requests": count,
            "rps": rps,
            "p50": row["50%"],
            "p95": row["95%"],
            "p99": row["99%"],
            "failures": failed,
        }
    return lines, failures, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=121500)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=30, help="simulated people at once")
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("XIETONG_WORKERS", "4")))
    parser.add_argument(
        "--task-workers",
        type=int,
        default=2,
        help="task worker processes (one alone holds sign-in codes behind a whole-roll export)",
    )
    parser.add_argument("--warm-up", type=int, default=60, help="seconds before memory counts as warm")
    parser.add_argument("--var", type=Path, help="the node's var folder (kept); default: a temporary one")
    parser.add_argument("--samples", type=int, default=3000, help="members the scenario draws from")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare, args.samples)
        return 0
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        command = ["bash", str(ROOT / "scripts/with-postgres.sh"), PYTHON, __file__, *sys.argv[1:]]
        return subprocess.run(command, cwd=ROOT, check=False).returncode

    var = args.var or Path(tempfile.mkdtemp(prefix="xietong-load-"))
    var.mkdir(parents=True, exist_ok=True)
    embedded = {**os.environ, "XIETONG_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "xietong.settings.base"}
    print(f"==> building xietong demo --scale {args.scale} in {var}", flush=True)
    cli = [PYTHON, "-m", "xietong.cli"]
    logs = Path(tempfile.mkdtemp(prefix="xietong-load-logs-"))  # kept after the run
    print(f"    the output of every process goes to {logs}", flush=True)
    build_log = logs / "build.log"
    build_seconds = _run([*cli, "demo", "--scale", str(args.scale), "--no-serve"], embedded, build_log)
    tasks_seconds = _run([*cli, "db_worker", "--batch", "--no-startup-delay"], embedded, build_log)
    data_file = var / "load-data.json"
    prepare_command = [PYTHON, __file__, "--prepare", str(data_file), "--samples", str(args.samples)]
    _run(prepare_command, embedded, build_log)
    data = json.loads(data_file.read_text(encoding="utf-8"))
    print(
        f"    built in {build_seconds} s, queued tasks run in {tasks_seconds} s; "
        f"{data['members_in_roll']} members in the roll, {len(data['cards'])} cards and "
        f"{len(data['phones'])} phones drawn",
        flush=True,
    )

    keys = var / "keys"
    port = _free_port()
    sms_file = var / "sms" / "load-outbox.log"
    production = {
        **os.environ,
        **BENCH_LIMITS,
        "DJANGO_SETTINGS_MODULE": "xietong.settings.production",
        "XIETONG_VAR_DIR": str(var),
        "XIETONG_SECRET_KEY": secrets.token_urlsafe(40),
        "XIETONG_PII_KEY": (keys / "pii.key").read_text().strip(),
        "XIETONG_NODE_SIGNING_KEY": (keys / "node-signing.key").read_text().strip(),
        "XIETONG_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "XIETONG_SECURE_COOKIES": "0",  # plain HTTP on loopback: no TLS proxy in front
        "XIETONG_SMS_BACKEND": "xietong.portal.sms.FileSender",
        "XIETONG_SMS_FILE": str(sms_file),
        "XIETONG_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "xietong.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=production, stdout=(logs / "gunicorn.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    workers = [
        subprocess.Popen(
            [*cli, "db_worker", "--interval", "0.5"],
            cwd=ROOT,
            env=production,
            stdout=(logs / f"db_worker-{n + 1}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        for n in range(args.task_workers)
    ]
    samples: list[Any] = []
    stop = threading.Event()
    out = Path(tempfile.mkdtemp(prefix="xietong-locust-"))
    try:
        _wait_until_served(f"http://127.0.0.1:{port}/healthz")
        time.sleep(2)  # every worker has loaded Django
        sampler = threading.Thread(target=_sample_memory, args=(server, workers, stop, samples), daemon=True)
        sampler.start()
        seconds = int(args.minutes * 60)
        print(
            f"==> locust: {args.users} users for {seconds} s against gunicorn ({args.workers} workers)",
            flush=True,
        )
        scenario = {**os.environ, "XIETONG_LOAD_DATA": str(data_file), "XIETONG_LOAD_SMS_FILE": str(sms_file)}
        locust = subprocess.run(
            [PYTHON, "-m", "locust", "-f", str(ROOT / "bench/load/locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{seconds}s",
             "--host", f"http://127.0.0.1:{port}", "--csv", str(out / "load"), "--only-summary",
             "--stop-timeout", "30", "--loglevel", "WARNING"],
            cwd=ROOT, env=scenario, check=False,
        )  # fmt: skip
    finally:
        stop.set()
        for process in (server, *workers):
            process.terminate()
        for process in (server, *workers):
            process.wait(timeout=30)

    stats, failures, summary = _stats_table(out / "load_stats.csv", seconds)
    memory, flat = _memory_table(samples, args.warm_up)
    failures_file = out / "load_failures.csv"
    result = {
        "scale": args.scale, "members_in_roll": data["members_in_roll"], "users": args.users,
        "minutes": args.minutes, "gunicorn_workers": args.workers, "build_seconds": build_seconds,
        "pages": summary, "memory_samples": samples, "memory_flat": flat,
    }  # fmt: skip
    print(json.dumps(result, ensure_ascii=False))
    print("\n".join(stats))
    print()
    print("\n".join(memory))
    print(f"\nmemory flat (end within 10 % of the value after {args.warm_up} s): {'yes' if flat else 'NO'}")
    if failures_file.exists() and failures:
        print("\nfailures:\n" + failures_file.read_text(encoding="utf-8"))
    if args.var is None:
        shutil.rmtree(var, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return 1 if failures or locust.returncode not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main())

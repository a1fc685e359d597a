#!/usr/bin/env python
"""Exchange throughput between two real nodes on loopback (each ``xietong serve`` with its SQLite).

    .venv/bin/python bench/exchange_bench.py [--messages 2000]

Sets up 北京 (hub) and 天津 under a temporary folder, lists N employers on the Beijing node in one
transaction (N outbox messages), then times until the Tianjin node has applied all N (its own
database, read directly). Prints one JSON line: messages, seconds, messages/s, mean message size.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ENQUEUE = """
import datetime, random
from django.db import transaction
from xietong.core.models import Organization, Region
from xietong.inspection import actions
from xietong.lib import creditcode
org, _ = Organization.objects.get_or_create(code="bench-jc", defaults=dict(name="基准监察大队",
    kind="labour_inspection", region=Region.objects.get(code="110105")))
with transaction.atomic():
    for i in range({n}):
        first17 = f"91110105MA{{i:07d}}"
        actions.arrears_list(organization=org, credit_code=first17 + creditcode.check_char(first17),
            employer_name=f"基准单位{{i}}", amount_owed="10000", workers_affected=3,
            decision_no=f"基准〔2026〕{{i}}号", listed_on=datetime.date(2026, 11, 20), acting_user=None)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    from xietong.exchange.localnodes import region_group

    with tempfile.TemporaryDirectory() as tmp:
        bj, tj = region_group(Path(tmp), count=2, extra_env={"XIETONG_EXCHANGE_REGISTRY_SECONDS": "1"})
        try:
            bj.start()
            tj.start()
            while not tj.query("SELECT 1 FROM exchange_exchangenode WHERE node_id = 'bj'"):
                time.sleep(0.2)
            enqueued = time.perf_counter()
            bj.shell(ENQUEUE.format(n=args.messages))
            queued = time.perf_counter() - enqueued
            started = time.perf_counter()
            while (
                tj.query("SELECT count(*) FROM exchange_exchangemessage WHERE direction = 'in'")[0][0]
                < args.messages
            ):
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            size = bj.query("SELECT avg(length(body)) FROM exchange_exchangemessage WHERE direction = 'out'")[
                0
            ][0]
        finally:
            bj.stop()
            tj.stop()
    print(
        json.dumps(
            {
                "messages": args.messages,
                "enqueue_seconds": round(queued, 1),
                "deliver_seconds": round(seconds, 1),
                "messages_per_s": round(args.messages / seconds),
                "mean_body_bytes": round(size or 0),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

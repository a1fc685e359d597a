#!/usr/bin/env python
"""Card verification throughput against PostgreSQL under gunicorn, beside a trivial endpoint.

    bash scripts/with-postgres.sh .venv/bin/python bench/card_verify_bench.py [--seconds 10]

Builds members with cards, a service point account with an API token and a file of fresh signed
card tokens (each is accepted once), starts ``xietong serve``'s gunicorn with 2 workers on a free
port, and drives ``POST /api/membership/cards/verify/`` with wrk (Debian package ``wrk``; a Lua
script takes the next token for each request). Then the same wrk run against ``/healthz`` (a
trivial Django JSON endpoint). Prints one JSON line: requests/s and p99 latency of each, accepted
verifications, and the ratio verify/trivial.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LUA = r"""
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local counter = 0
local thread_id = 0
function setup(thread) thread:set("id", thread_id); thread_id = thread_id + 1 end
function init(args) counter = id end
request = function()
  counter = counter + %(threads)d
  local token = tokens[(counter %% #tokens) + 1]
  local body = '{"token":"' .. token .. '","service_point":%(point)d,"benefit":"free_registration"}'
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Token %(api)s"}
  return wrk.format("POST", nil, headers, body)
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wrk(
    url: str, seconds: int, threads: int, connections: int, script: Path | None = None
) -> dict[str, float]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"rps": round(rps), "p99_ms": round(float(p99.group(1)) * scale[p99.group(2)], 1) if p99 else -1}


def _wait_until_served(url: str) -> None:
    """Wait for a worker to answer: gunicorn binds the port before its workers have loaded Django."""
    import urllib.request

    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"服务未在 30 秒内启动：{url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--members", type=int, default=2000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error(
            "需要 PostgreSQL：bash scripts/with-postgres.sh .venv/bin/python bench/card_verify_bench.py"
        )
    if not shutil.which("wrk"):
        parser.error("需要 wrk：apt-get install wrk")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings.base")
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from xietong.core import actions as core_actions
    from xietong.core.models import Organization, Person, Region, Role, User
    from xietong.lib import idnumber
    from xietong.membership import actions, selectors
    from xietong.membership.choices import Benefit, MemberSource, ServicePointKind
    from xietong.membership.models import CardUse, Member, MemberCard, ServicePoint

    call_command("migrate", verbosity=0)
    core_actions.roles_sync()
    org, _ = Organization.objects.get_or_create(
        code="bench-verify",
        defaults={
            "name": "核验基准工会",
            "kind": "grassroots_union",
            "region": Region.objects.get(code="110101"),
        },
    )
    cards = list(MemberCard.objects.filter(member__organization=org, status="active"))
    for i in range(len(cards), args.members):
        body = f"110101{date(1960 + i % 40, 1 + i % 12, 1 + i % 28):%Y%m%d}{i % 1000:03d}"
        number = body + idnumber.check_digit(body)
        person = Person.objects.filter(
            id_number_index=core_actions._id_index(number)
        ).first() or core_actions.person_create(
            name=f"职工{i}", id_number=number, organization=org, acting_user=None
        )
        member = Member.objects.filter(person=person).first() or actions.member_create(
            person=person,
            organization=org,
            joined_on=date(2026, 1, 5),
            source=MemberSource.MANUAL,
            acting_user=None,
        )
        cards.append(selectors.active_card(member) or actions.card_issue(member=member, acting_user=None))
    desk = User.objects.filter(username="bench-desk").first() or core_actions.user_create(
        username="bench-desk",
        password="Verify-load-2026!",
        display_name="核验基准",
        organization=org,
        acting_user=None,
    )
    core_actions.role_grant(
        user=desk, role=Role.objects.get(code="service_point"), organization=org, acting_user=None
    )
    point, _ = ServicePoint.objects.get_or_create(
        organization=org,
        name="基准医院",
        defaults={"kind": ServicePointKind.HOSPITAL, "benefits": [Benefit.FREE_REGISTRATION]},
    )
    point.accounts.add(desk)
    api_token, _ = Token.objects.get_or_create(user=desk)
    needed = 4000 * args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        tokens = Path(tmp) / "tokens.txt"
        tokens.write_text(
            "\n".join(selectors.card_token(cards[i % len(cards)]) for i in range(needed)) + "\n"
        )
        threads = 2
        script = Path(tmp) / "verify.lua"
        script.write_text(
            LUA % {"tokens": tokens, "threads": threads, "point": point.pk, "api": api_token.key}
        )
        port = _free_port()
        env = {**os.environ, "XIETONG_ALLOWED_HOSTS": "127.0.0.1,localhost"}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "xietong.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning"],
            env=env, cwd=ROOT,
        )  # fmt: skip
        try:
            _wait_until_served(f"http://127.0.0.1:{port}/healthz")
            _wrk(f"http://127.0.0.1:{port}/healthz", 2, threads, args.connections)  # warm both workers
            before = CardUse.objects.count()
            verify = _wrk(f"http://127.0.0.1:{port}/api/membership/cards/verify/", args.seconds, threads,
                          args.connections, script)  # fmt: skip
            accepted = CardUse.objects.count() - before
            trivial = _wrk(f"http://127.0.0.1:{port}/healthz", args.seconds, threads, args.connections)
        finally:
            server.terminate()
            server.wait(timeout=10)
    result = {
        "verify_rps": verify["rps"], "verify_p99_ms": verify["p99_ms"], "accepted": accepted,
        "trivial_rps": trivial["rps"], "trivial_p99_ms": trivial["p99_ms"],
        "ratio": round(verify["rps"] / trivial["rps"], 2) if trivial["rps"] else None,
    }  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

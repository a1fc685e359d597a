"""The production set-up on PostgreSQL (issue 15 §1): production settings, and the web server
(gunicorn, ``xietong serve --no-task-worker``), the task worker (``xietong worker``) and the exchange
worker (``xietong exchange deliver --loop``) each a process of its own, as the systemd units in
docs/examples run them. A worker joins on the public form, an officer approves, the hospital desk
verifies the e-card, and an arrears listing reaches a second node (a plain embedded node, the hub).

Needs ``DATABASE_URL`` naming a PostgreSQL server (``make test-postgres``, or
``scripts/with-postgres.sh``); skipped otherwise. It creates a database of its own there and drops it.
"""

from __future__ import annotations

import base64
import contextlib
import html
import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from xietong.core.tests.factories import valid_id_number

from ..localnodes import LocalNode, free_port, wait_for

pytestmark = [pytest.mark.nodes, pytest.mark.postgres]

DEMO_PASSWORD = "Xietong-demo-2026"  # xietong.demo.accounts (not imported: the demo is off limits)

LIST = """
import datetime
from xietong.core.models import Organization
from xietong.inspection import actions
listing = actions.arrears_list(organization=Organization.objects.get(code="bj-insp"),
    credit_code="91110108MA01ABCD1E", employer_name="北京某建筑劳务有限公司", amount_owed="356000.00",
    workers_affected=23, decision_no="京人社监令〔2026〕1号", listed_on=datetime.date(2026, 11, 20),
    acting_user=None)
print(listing.uid)
"""


def key() -> str:
    """A fresh 32-byte key as the settings take it (base64url, no padding)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


class Browser:
    """A cookie-keeping HTTP client that fills Django's CSRF token into its form posts."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.endpoint + path, data=body, headers={"Referer": self.endpoint + path}
        )
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def get(self, path: str) -> str:
        status, text = self.open(path)
        assert status == 200, f"GET {path}: {status}\n{text[-2000:]}"
        return text

    def post(self, path: str, data: dict[str, str], *, form_from: str | None = None) -> str:
        """POST ``data`` with the CSRF token of the page at ``form_from`` (default: ``path``)."""
        page = self.get(form_from or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, f"no CSRF token on {form_from or path}"
        status, text = self.open(path, {"csrfmiddlewaretoken": token.group(1), **data})
        assert status == 200, f"POST {path}: {status}\n{text[-2000:]}"
        return text

    def login(self, username: str) -> None:
        page = self.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert "csrfmiddlewaretoken" in page and "/accounts/logout/" in page, f"{username} not signed in"


@dataclass
class Production:
    bj: LocalNode
    tj: LocalNode
    logs: Path


def _database(url: str, name: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.format(name=name))  # our own generated name, no user input


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        pytest.skip("需要 PostgreSQL：make test-postgres，或 scripts/with-postgres.sh 运行本测试")
    base = tmp_path_factory.mktemp("production")
    name = f"xietong_production_{os.getpid()}"
    _database(server, name, "CREATE DATABASE {name}")
    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(server)._replace(path=f"/{name}"))
    tj = LocalNode(
        "tj", "天津节点", "120000", free_port(), base / "tj", {"XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2"}
    )
    settings = {
        "DJANGO_SETTINGS_MODULE": "xietong.settings.production",
        "DATABASE_URL": url,
        "XIETONG_SECRET_KEY": key(),
        "XIETONG_PII_KEY": key(),
        "XIETONG_NODE_SIGNING_KEY": key(),
        "XIETONG_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "XIETONG_SECURE_COOKIES": "0",  # plain HTTP on loopback; the proxy terminates TLS in production
        "XIETONG_HEARTBEAT_SECONDS": "1",
        "XIETONG_EXCHANGE_RETRY_MAX_SECONDS": "2",
        "XIETONG_EXCHANGE_REGISTRY_SECONDS": "2",
        "XIETONG_METRICS_ALLOWED": "127.0.0.1",
    }
    bj = LocalNode("bj", "北京节点", "110000", free_port(), base / "bj", settings)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        tj.init(None)
        bj.init(tj)
        for node in (tj, bj):
            node.run("migrate", "--no-input")
        tj.run(
            "exchange", "register", str(tj.var_dir / "node-entry.json"), str(bj.var_dir / "node-entry.json")
        )
        bj.run("demo", "--node", "bj", "--no-serve", "--people-per-org", "1")
        commands = {
            "web": ["serve", "--no-task-worker", "--bind", f"127.0.0.1:{bj.port}", "--workers", "2"],
            "worker": ["worker", "--interval", "0.5"],
            "exchange": ["exchange", "deliver", "--loop", "--interval", "0.5"],
        }
        for role, args in commands.items():
            with (base / f"bj-{role}.log").open("ab") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "xietong.cli", *args],
                        env=bj.env(),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        tj.start(base / "tj.log")
        wait_for(bj.answers)
        yield Production(bj, tj, base)
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        tj.stop()
        _database(server, name, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def health(node: LocalNode, path: str = "/health/") -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(node.endpoint + path, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_each_process_runs_alone_and_reports_healthy(production: Production) -> None:
    bj = production.bj
    _status, body = wait_for(lambda: (answer := health(bj))[0] == 200 and answer)
    assert set(body["processes"]) == {"worker", "exchange"} and body["database"] == "ok"
    for role in ("web", "worker", "exchange"):
        assert health(bj, f"/health/{role}/")[0] == 200
    # Three processes, three ids, none supervised: the service manager restarts them.
    rows = bj.shell(
        "import json\nfrom xietong.core.models import ProcessState\n"
        "print(json.dumps({s.name: [s.pid, s.supervised] for s in ProcessState.objects.all()}))"
    )
    states = json.loads(rows)
    assert {"web", "worker", "exchange"} <= set(states)
    assert len({states[role][0] for role in ("web", "worker", "exchange")}) == 3
    assert not any(supervised for _pid, supervised in states.values())
    # JSON logs, one object a line, naming the process.
    worker_lines = (production.logs / "bj-worker.log").read_text(encoding="utf-8").splitlines()
    logged = [json.loads(line) for line in worker_lines if line.startswith("{")]
    assert logged and all({"time", "level", "logger", "message", "process"} <= set(entry) for entry in logged)
    with urllib.request.urlopen(bj.endpoint + "/metrics", timeout=10) as answer:
        metrics = answer.read().decode()
    assert (
        'xietong_exchange_queue_messages{peer="tj"}' in metrics
        and "xietong_tasks_oldest_ready_age_seconds" in metrics
    )


def test_join_approve_verify_and_a_listing_reaching_the_other_node(production: Production) -> None:
    bj, tj = production.bj, production.tj
    event = bj.shell(
        "from xietong.membership.models import OutreachEvent\nprint(OutreachEvent.objects.get().code)"
    )
    number = valid_id_number(region="110108", sequence=523)

    # The worker joins on the public form a QR code opens.
    phone = Browser(bj.endpoint)
    received = phone.post(
        f"/join/e/{event}/",
        {
            "name": "周 子 涵",
            "id_number": number,
            "phone_number": "13911113333",
            "employer_name": "快手集团",
            "consent": "on",
        },
    )
    assert "已收到" in received
    status_path = html.unescape(re.search(r'data-testid="status-link" href="([^"]+)"', received).group(1))  # type: ignore[union-attr]

    # The officer approves it.
    officer = Browser(bj.endpoint)
    officer.login("bj_officer")
    queue = officer.get("/membership/applications/")
    approve = re.search(r'action="(/membership/applications/\d+/approve/)"', queue)
    assert approve, "the application is not in the officer's queue"
    done = officer.post(approve.group(1), {}, form_from="/membership/applications/")
    assert "周子涵" in done and "已通过" in done

    # The worker opens the e-card; the hospital desk verifies it.
    outcome = phone.post(status_path, {"phone_number": "13911113333"})
    card_link = re.search(r'href="(/join/status/[^"]+/card/)"', outcome)
    assert card_link, "no e-card link on the status page"
    card = phone.get(html.unescape(card_link.group(1)))
    token = html.unescape(re.search(r'data-token="([^"]+)"', card).group(1))  # type: ignore[union-attr]
    desk = Browser(bj.endpoint)
    desk.login("hospital_desk")
    form = desk.get("/membership/verify/")
    point = re.search(r'name="service_point"[^>]*>.*?<option value="(\d+)"', form, re.S)
    benefit = re.search(r'name="benefit"[^>]*>.*?<option value="([^"]+)"', form, re.S)
    assert point and benefit
    verdict = desk.post(
        "/membership/verify/", {"token": token, "service_point": point.group(1), "benefit": benefit.group(1)}
    )
    assert 'data-testid="verify-ok"' in verdict and "周子涵" in verdict

    # An arrears listing made on the production node reaches the other node through the exchange worker.
    uid = bj.shell(LIST).splitlines()[-1]
    wait_for(lambda: tj.query("SELECT employer_name FROM exchange_arrearslisting WHERE uid = ?", (uid,)))
    assert tj.query("SELECT origin_node FROM exchange_arrearslisting WHERE uid = ?", (uid,)) == [("bj",)]

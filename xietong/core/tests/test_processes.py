"""The node's processes (issue 15 §1): heartbeats, /health/, the embedded supervisor, JSON logs,
request ids and the Prometheus metrics' guard."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import logging.config
import sys
import time

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from xietong.core import middleware, processes
from xietong.core.models import ProcessState
from xietong.settings.base import logging_config

pytestmark = pytest.mark.django_db

BOTH = override_settings(XIETONG_HEALTH_PROCESSES=["worker", "exchange"])


@pytest.fixture(autouse=True)
def _no_recent_beats() -> None:
    """Beats are throttled per process: each test starts as a process that has not beaten."""
    processes._last_beat.clear()


def _beat(name: str, seconds_ago: float = 0, **fields: object) -> ProcessState:
    beat_at = timezone.now() - dt.timedelta(seconds=seconds_ago)
    state, _ = ProcessState.objects.update_or_create(name=name, defaults={"beat_at": beat_at, **fields})
    return state


@BOTH
def test_health_answers_503_naming_the_processes_that_did_not_beat() -> None:
    _beat("worker")
    response = Client().get(reverse("core:health"))
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["exchange"] and body["database"] == "ok"
    assert body["processes"]["worker"]["ok"] and body["processes"]["exchange"]["state"] == "unknown"


@BOTH
def test_health_answers_200_when_every_process_beat_recently() -> None:
    _beat("worker", 3)
    _beat("exchange", 1)
    response = Client().get(reverse("core:health"))
    assert response.status_code == 200 and response.json()["status"] == "ok"
    # Answering is the web process's own beat.
    assert ProcessState.objects.get(name="web").beat_at is not None


@BOTH
@override_settings(XIETONG_HEALTH_STALE_SECONDS=60)
def test_a_stale_or_restarting_process_fails_its_own_endpoint() -> None:
    _beat("worker", 120)
    _beat("exchange", 1, state=ProcessState.State.RESTARTING, restarts=2, last_error="Traceback: 110101…")
    worker = Client().get(reverse("core:health_process", args=["worker"]))
    assert worker.status_code == 503 and worker.json()["processes"]["worker"]["beat_seconds_ago"] >= 120
    exchange = Client().get(reverse("core:health_process", args=["exchange"]))
    assert exchange.status_code == 503 and exchange.json()["processes"]["exchange"]["restarts"] == 2
    assert "Traceback" not in exchange.content.decode()  # no error text (personal data) in public
    assert Client().get(reverse("core:health_process", args=["web"])).status_code == 200
    assert Client().get(reverse("core:health_process", args=["nothing"])).status_code == 404


def test_heartbeat_creates_the_row_then_updates_at_most_every_few_seconds() -> None:
    processes.heartbeat("worker")
    first = ProcessState.objects.get(name="worker")
    assert first.since is not None and first.state == ProcessState.State.RUNNING
    processes.heartbeat("worker")  # within XIETONG_HEARTBEAT_SECONDS: no write
    assert ProcessState.objects.get(name="worker").beat_at == first.beat_at
    processes.heartbeat("worker", force=True)
    again = ProcessState.objects.get(name="worker")
    assert again.beat_at and first.beat_at and again.beat_at > first.beat_at
    assert again.since == first.since


def _crashing(code: int) -> list[str]:
    script = (
        f"import sys; sys.stderr.write('Traceback (most recent call last):\\nboom {code}\\n'); "
        f"sys.exit({code})"
    )
    return [sys.executable, "-c", script]


def _wait_exit(supervisor: processes.Supervisor) -> None:
    deadline = time.monotonic() + 20
    while supervisor.children[0].process is not None and time.monotonic() < deadline:
        supervisor.poll()
        time.sleep(0.05)
    assert supervisor.children[0].process is None, "the child did not exit"


def test_supervisor_logs_a_dying_child_and_restarts_it_with_back_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = processes.Supervisor({"worker": _crashing(3)}, stderr=io.StringIO())
    child = supervisor.children[0]
    supervisor.start(child)
    with caplog.at_level(logging.ERROR, logger="xietong.core.processes"):
        _wait_exit(supervisor)
    assert "worker 已退出（退出码 3）" in caplog.text and "boom 3" in caplog.text
    state = ProcessState.objects.get(name="worker")
    assert state.state == ProcessState.State.RESTARTING and state.restarts == 1 and state.supervised
    assert state.last_exit == "退出码 3" and "boom 3" in state.last_error
    delays = []
    for _ in range(7):
        child.restart_at = 0  # the back-off is over: the next poll starts it again
        supervisor.poll()
        assert ProcessState.objects.get(name="worker").state == ProcessState.State.RUNNING
        start = time.monotonic()
        _wait_exit(supervisor)
        delays.append(round(child.restart_at - start))
    assert child.restarts == 8 and ProcessState.objects.get(name="worker").restarts == 8
    assert delays[:5] == [2, 4, 8, 16, 32] and delays[5:] == [60, 60]  # doubled, at most 60 s


def test_supervisor_reports_a_signal_and_stops_its_children() -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    supervisor = processes.Supervisor({"worker": sleeper, "exchange": sleeper}, stderr=io.StringIO())
    for child in supervisor.children:
        supervisor.start(child)
    worker = supervisor.children[0]
    assert worker.process is not None
    worker.process.kill()
    _wait_exit(supervisor)
    assert ProcessState.objects.get(name="worker").last_exit == "信号 SIGKILL"
    supervisor.shutdown()
    assert ProcessState.objects.get(name="exchange").state == ProcessState.State.STOPPED


def test_json_logs_carry_time_level_logger_process_and_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes.logs, "_current_name", "")
    monkeypatch.setenv("XIETONG_PROCESS_NAME", "")
    config = logging_config("json")
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream  # type: ignore[index]
    config["root"]["handlers"] = ["console"]  # type: ignore[index]
    config["disable_existing_loggers"] = False
    logging.config.dictConfig(config)
    try:
        processes.set_name("worker")
        token = middleware._request_id.set("req-12345678")
        logging.getLogger("xietong.test").warning("导入完成：%d 行", 3)
        middleware._request_id.reset(token)
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert (
        line["message"] == "导入完成：3 行"
        and line["level"] == "WARNING"
        and line["logger"] == "xietong.test"
    )
    assert line["process"] == "worker" and line["request_id"] == "req-12345678" and line["time"]


def test_each_answer_carries_a_request_id_kept_from_the_proxy_when_valid() -> None:
    made = Client().get(reverse("core:healthz"))
    assert len(made["X-Request-ID"]) == 32
    kept = Client().get(reverse("core:healthz"), HTTP_X_REQUEST_ID="abcdef0123456789")
    assert kept["X-Request-ID"] == "abcdef0123456789"
    replaced = Client().get(reverse("core:healthz"), HTTP_X_REQUEST_ID="<script>")
    assert replaced["X-Request-ID"] != "<script>"


@override_settings(XIETONG_METRICS_ALLOWED=["127.0.0.1"], XIETONG_METRICS_TOKEN="")
def test_metrics_answer_an_allowed_address_with_requests_queues_and_processes() -> None:
    _beat("worker", 2, restarts=3)
    response = Client().get(reverse("core:metrics"))
    assert response.status_code == 200
    text = response.content.decode()
    for name in (
        "django_http_requests_total_by_method_total",
        "xietong_tasks_oldest_ready_age_seconds",
        'xietong_process_restarts{process="worker"} 3.0',
        "xietong_exchange_refused_deliveries",
    ):
        assert name in text


@override_settings(XIETONG_METRICS_ALLOWED=["10.0.0.0/8"], XIETONG_METRICS_TOKEN="s3cret-token")
def test_metrics_refuse_other_addresses_unless_the_bearer_token_is_given() -> None:
    assert Client().get(reverse("core:metrics")).status_code == 403
    assert Client().get(reverse("core:metrics"), HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert Client().get(reverse("core:metrics"), HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    assert Client().get(reverse("core:metrics"), REMOTE_ADDR="10.1.2.3").status_code == 200


@override_settings(XIETONG_METRICS_ALLOWED=["10.0.0.0/8"], XIETONG_CLIENT_ADDRESS_HEADER="HTTP_X_REAL_IP")
def test_metrics_read_the_client_address_the_proxy_sets() -> None:
    assert Client().get(reverse("core:metrics"), HTTP_X_REAL_IP="10.9.9.9").status_code == 200
    assert Client().get(reverse("core:metrics"), HTTP_X_REAL_IP="192.0.2.1").status_code == 403


@BOTH
def test_the_operator_page_shows_each_process_with_its_restarts_and_last_exit() -> None:
    from xietong.core.testing import client_for, make_user

    _beat("worker", 2, restarts=2, last_exit="信号 SIGKILL", last_error="Traceback: worker died")
    operator = client_for(make_user("ops", perms=["exchange.operate_exchange"], node_wide=True))
    page = operator.get(reverse("exchange:operations")).content.decode()
    assert 'data-testid="process-worker"' in page and "信号 SIGKILL" in page and "worker died" in page
    assert 'data-testid="process-exchange"' in page and "未运行" in page  # expected, never reported
    clerk = client_for(make_user("clerk", perms=["core.view_person"], node_wide=True))
    assert clerk.get(reverse("exchange:operations")).status_code == 403

"""Prometheus metrics at ``/metrics`` (issue 15 §1): django-prometheus's request, response and
database figures, and this node's own gauges read at scrape time with a few COUNT queries: the task
queue (length, oldest age), the processes (heartbeat age, restarts) and what the apps register
(``register``: the exchange's queue per peer, failed and refused deliveries).

Who may read it is decided here, not by an account: a scraper has none. Only the addresses or
networks of ``XIETONG_METRICS_ALLOWED`` (the client address as ``ratelimit.client_address`` reads it
behind a proxy), or a request with ``Authorization: Bearer XIETONG_METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView
from django_tasks_db.models import DBTaskResult
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .generic import public
from .models import ProcessState
from .ratelimit import client_address

logger = logging.getLogger(__name__)

Source = Callable[[], Iterable[Metric]]
_sources: dict[str, Source] = {}


def register(key: str, source: Source) -> None:
    """Add a source of metrics read at each scrape (an app's ``ready``); ``key`` names it once."""
    _sources[key] = source


def task_metrics() -> Iterable[Metric]:
    """The background task queue (django-tasks-db's table): tasks by status, the oldest ready one."""
    now = timezone.now()
    by_status = GaugeMetricFamily("xietong_tasks", "后台任务数（按状态）", labels=["status"])
    for row in DBTaskResult.objects.values("status").annotate(n=Count("id")).order_by("status"):
        by_status.add_metric([row["status"].lower()], row["n"])
    yield by_status
    oldest = DBTaskResult.objects.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
    yield GaugeMetricFamily(
        "xietong_tasks_oldest_ready_age_seconds",
        "最早一条待运行任务已等待的秒数（队列为空时为 0）",
        value=(now - oldest).total_seconds() if oldest else 0.0,
    )


def process_metrics() -> Iterable[Metric]:
    """Each process's heartbeat age, restarts by the embedded supervisor, and whether it runs."""
    now = timezone.now()
    age = GaugeMetricFamily(
        "xietong_process_heartbeat_age_seconds", "进程最近心跳距今秒数", labels=["process"]
    )
    restarts = GaugeMetricFamily(
        "xietong_process_restarts", "内置守护进程重启该进程的次数", labels=["process"]
    )
    running = GaugeMetricFamily("xietong_process_running", "进程是否在运行（1 是，0 否）", labels=["process"])
    for state in ProcessState.objects.all():
        if state.beat_at is not None:
            age.add_metric([state.name], (now - state.beat_at).total_seconds())
        restarts.add_metric([state.name], state.restarts)
        running.add_metric([state.name], 1 if state.state == ProcessState.State.RUNNING else 0)
    yield from (age, restarts, running)


class NodeCollector(Collector):
    """This node's gauges, read from the database at each scrape; a failing source is logged and
    left out, so the scrape still answers."""

    def collect(self) -> Iterable[Metric]:
        for key, source in [("tasks", task_metrics), ("processes", process_metrics), *_sources.items()]:
            try:
                yield from list(source())
            except Exception:
                logger.exception("指标来源 %s 读取失败", key)


registry = CollectorRegistry(auto_describe=False)
registry.register(NodeCollector())


def allowed(request: HttpRequest) -> bool:
    """Whether the request may read the metrics: a matching bearer token, or an allowed address."""
    token = settings.XIETONG_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    for entry in settings.XIETONG_METRICS_ALLOWED:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            logger.warning("XIETONG_METRICS_ALLOWED 中的地址无效：%s", entry)
    return False


# Public in the URL walk's sense (no account signs in to it): ``allowed`` is its guard.
@public
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format: django-prometheus's metrics, then this node's gauges."""
    if not allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    exported = ExportToDjangoView(request)
    return HttpResponse(exported.content + generate_latest(registry), content_type=exported["Content-Type"])

"""The node's long-running processes (issue 15 §1): heartbeats, their health, and the embedded
supervisor that ``xietong serve`` runs.

Each process has a role name: ``web`` (gunicorn), ``worker`` (``xietong worker``: background tasks
and reminders) and ``exchange`` (``xietong exchange deliver --loop``). A process beats (writes
``ProcessState.beat_at``) at most every ``XIETONG_HEARTBEAT_SECONDS``; ``/health/`` answers 503 when an
expected process has not beaten for ``XIETONG_HEALTH_STALE_SECONDS``. In production each process is
its own service restarted by the service manager; on an embedded node (``xietong serve`` without
``--no-task-worker``) ``Supervisor`` starts them, logs a child's exit with the tail of its error
output, restarts it with back-off (1, 2, 4 … 60 seconds) and records it where the health endpoint and
the operator page read it.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from xietong.lib.nodesetup import node_setup_problem

from . import logs
from .models import ProcessState

logger = logging.getLogger(__name__)

WEB, WORKER, EXCHANGE = "web", "worker", "exchange"
NAMES = (WEB, WORKER, EXCHANGE)
_last_beat: dict[str, float] = {}
set_name = logs.set_process_name
current_name = logs.process_name


def heartbeat(name: str, *, force: bool = False) -> None:
    """Record that process ``name`` is alive (at most every ``XIETONG_HEARTBEAT_SECONDS``). A database
    error is logged, never raised: a beat must not stop the work it reports on."""
    now = time.monotonic()
    if not force and now - _last_beat.get(name, -1e9) < settings.XIETONG_HEARTBEAT_SECONDS:
        return
    _last_beat[name] = now
    beat_at = timezone.now()
    fields: dict[str, Any] = {"beat_at": beat_at, "pid": os.getpid(), "host": socket.gethostname()}
    try:
        if not ProcessState.objects.filter(name=name, pid=os.getpid()).update(**fields):
            # A new process (or the first beat): it runs since now.
            ProcessState.objects.update_or_create(
                name=name,
                defaults={**fields, "state": ProcessState.State.RUNNING, "since": beat_at},
            )
    except DatabaseError:
        logger.exception("心跳写入失败：%s", name)


class Ticker:
    """Beats for ``name`` from a thread while the main thread is busy (a long task), so that a worker
    running a ten-minute import is not reported dead."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"heartbeat-{name}")

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.XIETONG_HEARTBEAT_SECONDS):
                heartbeat(self.name, force=True)
        finally:
            connection.close()  # this thread's own connection


def expected() -> list[str]:
    """The processes ``/health/`` requires: ``XIETONG_HEALTH_PROCESSES``, or by default the task worker
    and, on a node of a region group (``xietong node init``), the exchange worker."""
    if settings.XIETONG_HEALTH_PROCESSES:
        return [name for name in settings.XIETONG_HEALTH_PROCESSES if name in NAMES]
    names = [WORKER]
    if node_setup_problem(os.environ, settings.VAR_DIR) is None:
        names.append(EXCHANGE)
    return names


def database_answers() -> bool:
    """True when the database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def describe(state: ProcessState | None, name: str, now: Any = None) -> dict[str, Any]:
    """The public health of one process (no error text: a traceback may hold personal data)."""
    now = now or timezone.now()
    if name == WEB:  # the web process is the one answering
        return {"ok": True, "state": ProcessState.State.RUNNING, "restarts": state.restarts if state else 0}
    if state is None or state.beat_at is None:
        return {"ok": False, "state": "unknown", "beat_seconds_ago": None, "restarts": 0}
    age = (now - state.beat_at).total_seconds()
    ok = age <= settings.XIETONG_HEALTH_STALE_SECONDS and state.state == ProcessState.State.RUNNING
    return {"ok": ok, "state": state.state, "beat_seconds_ago": round(age, 1), "restarts": state.restarts}


def health(names: Sequence[str] | None = None) -> dict[str, Any]:
    """The node's health: the database, and each process of ``names`` (default ``expected()``)."""
    names = list(names) if names is not None else expected()
    database = database_answers()
    states = {state.name: state for state in ProcessState.objects.filter(name__in=names)} if database else {}
    now = timezone.now()
    processes = {name: describe(states.get(name), name, now) for name in names}
    failing = [name for name, answer in processes.items() if not answer["ok"]]
    return {
        "status": "ok" if database and not failing else "fail",
        "node": settings.XIETONG_NODE_ID,
        "database": "ok" if database else "fail",
        "processes": processes,
        "failing": failing if database else ["database", *failing],
    }


@dataclass(frozen=True)
class ProcessRow:
    """A process as the operator page shows it: its record (``None`` before its first report),
    whether ``/health/`` counts it, and its health there."""

    name: str
    state: ProcessState | None
    expected: bool
    ok: bool
    beat_seconds_ago: float | None


def overview() -> list[ProcessRow]:
    """Every known or expected process with its health, in the order web, worker, exchange."""
    now = timezone.now()
    states = {state.name: state for state in ProcessState.objects.all()}
    wanted = expected()
    rows = []
    for name in [*NAMES, *sorted(set(states) - set(NAMES))]:
        if name not in states and name not in wanted and name != WEB:
            continue
        answer = describe(states.get(name), name, now)
        age = answer.get("beat_seconds_ago")
        rows.append(ProcessRow(name, states.get(name), name in wanted, answer["ok"], age))
    return rows


# The supervisor -------------------------------------------------------------------------------------


def exit_text(code: int) -> str:
    """A child's exit status in words: its exit code or the signal that ended it."""
    if code < 0:
        try:
            return f"信号 {signal.Signals(-code).name}"
        except ValueError:
            return f"信号 {-code}"
    return f"退出码 {code}"


@dataclass
class Child:
    """A supervised child: its role name and command, the running process and its recent stderr."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = 1.0
    restart_at: float = 0.0
    restarts: int = 0
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=40))
    reader: threading.Thread | None = None


class Supervisor:
    """Starts children, restarts one that dies (back-off 1, 2, 4 … ``XIETONG_SUPERVISOR_MAX_BACKOFF``
    seconds, back to 1 once a child has run a minute), logs each exit with the tail of the child's
    error output, and records every start and exit in ``ProcessState``. ``run`` returns when ``stop``
    is called (SIGTERM, SIGINT) and stops the children."""

    STABLE_SECONDS = 60.0

    def __init__(self, children: dict[str, list[str]], *, stderr: IO[str] | None = None) -> None:
        self.children = [Child(name, argv) for name, argv in children.items()]
        self.stderr = stderr or sys.stderr
        self.stopping = threading.Event()

    def start(self, child: Child) -> None:
        env = {**os.environ, "XIETONG_PROCESS_NAME": child.name}
        child.tail.clear()
        child.process = subprocess.Popen(child.argv, env=env, stderr=subprocess.PIPE)
        child.started = time.monotonic()
        child.reader = threading.Thread(target=self._read, args=(child, child.process), daemon=True)
        child.reader.start()
        self._record(child, state=ProcessState.State.RUNNING, since=timezone.now(), pid=child.process.pid)
        logger.info("已启动子进程 %s（进程号 %s）", child.name, child.process.pid)

    def _read(self, child: Child, process: subprocess.Popen[bytes]) -> None:
        """Pass the child's error output through, keeping its last lines for the exit report."""
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace")
            child.tail.append(line.rstrip("\n"))
            try:
                self.stderr.write(line)
                self.stderr.flush()
            except (OSError, ValueError):
                pass

    def _record(self, child: Child, **fields: Any) -> None:
        try:
            ProcessState.objects.update_or_create(
                name=child.name,
                defaults={
                    "supervised": True,
                    "host": socket.gethostname(),
                    "restarts": child.restarts,
                    **fields,
                },
            )
        except DatabaseError:
            logger.exception("无法记录子进程状态：%s", child.name)

    def exited(self, child: Child, code: int) -> None:
        """Log and record a child's exit; schedule its restart."""
        assert child.process is not None
        if child.reader is not None:
            child.reader.join(timeout=2)  # the last lines of its traceback
        now = time.monotonic()
        if now - child.started >= self.STABLE_SECONDS:
            child.backoff = 1.0
        delay = child.backoff
        child.backoff = min(child.backoff * 2, float(settings.XIETONG_SUPERVISOR_MAX_BACKOFF))
        child.restart_at = now + delay
        child.restarts += 1
        child.process = None
        tail = "\n".join(child.tail)
        logger.error(
            "子进程 %s 已退出（%s），%.0f 秒后重启（第 %d 次）\n%s",
            child.name,
            exit_text(code),
            delay,
            child.restarts,
            tail,
        )
        self._record(
            child,
            state=ProcessState.State.RESTARTING,
            last_exit=exit_text(code),
            last_exit_at=timezone.now(),
            last_error=tail[-4000:],
        )

    def poll(self) -> None:
        """One round: notice exits, start what is due."""
        for child in self.children:
            if child.process is not None:
                code = child.process.poll()
                if code is not None:
                    self.exited(child, code)
            elif time.monotonic() >= child.restart_at and not self.stopping.is_set():
                self.start(child)

    def run(self, *, on_started: Callable[[], None] | None = None, interval: float = 0.2) -> None:
        for child in self.children:
            self.start(child)
        if on_started is not None:
            on_started()
        try:
            while not self.stopping.wait(interval):
                close_old_connections()  # a connection broken by a database restart is reopened
                self.poll()
        finally:
            self.shutdown()

    def stop(self, *_args: Any) -> None:
        self.stopping.set()

    def shutdown(self) -> None:
        """Terminate every child, then kill those still running after ten seconds."""
        running = [child for child in self.children if child.process is not None]
        for child in running:
            if child.process is not None and child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + 10
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            self._record(
                child, state=ProcessState.State.STOPPED, last_exit=exit_text(child.process.returncode)
            )

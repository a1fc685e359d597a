"""Several Xietong nodes on one machine, each a real process with its own folder and database,
talking over loopback: what the two-node tests and the benchmarks run on. The demo's launcher
(``make demo``, the 京津冀 region group with restarts) is ``xietong.demo.regiongroup``, built on this.

Each node's database is a SQLite file in its folder, or, when ``XIETONG_NODES_DATABASE_URL`` names a
PostgreSQL server (the test suite sets it when it runs on PostgreSQL), a database of its own on that
server (``xtnode_<token>_<node id>``), which ``drop_databases`` removes afterwards.

Each node gets ``XIETONG_VAR_DIR=<base>/<id>``; ``xietong node init`` writes its identity there, the
hub (the first node) registers every node, and ``xietong serve`` runs its web server, task worker
and exchange worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION_GROUP = (("bj", "北京节点", "110000"), ("tj", "天津节点", "120000"), ("hb", "河北节点", "130000"))

# The PostgreSQL server on which each node gets a database of its own (unset: SQLite files).
NODES_DATABASE_ENV = "XIETONG_NODES_DATABASE_URL"
DATABASE_PREFIX = "xtnode_"


def nodes_database_server() -> str:
    """The server URL from ``XIETONG_NODES_DATABASE_URL`` when it names PostgreSQL, else ``""``."""
    url = os.environ.get(NODES_DATABASE_ENV, "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


def _database_url(server: str, name: str) -> str:
    """``server`` with its database replaced by ``name``."""
    parts = urllib.parse.urlsplit(server)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _admin(server: str) -> Any:
    """An autocommit connection to the server's maintenance database (CREATE/DROP DATABASE)."""
    import psycopg

    return psycopg.connect(_database_url(server, "postgres"), autocommit=True)


def create_database(server: str, node_id: str) -> str:
    """A new, empty database for one node on ``server``; its URL."""
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:10]}_{node_id}"
    with _admin(server) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return _database_url(server, name)


def node_databases(server: str) -> list[str]:
    """The node databases on ``server`` (named ``xtnode_…``)."""
    with _admin(server) as db:
        pattern = DATABASE_PREFIX.replace("_", r"\_") + "%"
        rows = db.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,)).fetchall()
    return [row[0] for row in rows]


def drop_databases(server: str, *, keep: Iterable[str] = ()) -> int:
    """Drop the node databases on ``server`` except ``keep`` (those that existed before a test session
    began), closing what still connects to them (a node left running); the number dropped."""
    keep = set(keep)
    names = [name for name in node_databases(server) if name not in keep]
    with _admin(server) as db:
        for name in names:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return len(names)


def wait_for(check: Callable[[], Any], *, seconds: float = 60, every: float = 0.5) -> Any:
    """Poll ``check()`` every ``every`` seconds until it is truthy (nodes work asynchronously) and
    return its value; fail the test with the last value after ``seconds``."""
    deadline = time.monotonic() + seconds
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = check()
    assert value, f"not reached within {seconds} s: {value!r}"
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalNode:
    """One node: its id, port and folder; ``run`` runs an ``xietong`` command as this node."""

    node_id: str
    name: str
    region: str
    port: int
    var_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen[bytes] | None = None
    # The node's own PostgreSQL database; "" for its SQLite file in ``var_dir``.
    database_url: str = ""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("XIETONG_", "DATABASE_URL"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="xietong.settings.base",
            XIETONG_VAR_DIR=str(self.var_dir),
            XIETONG_ALLOWED_HOSTS="127.0.0.1,localhost",
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)  # may name other settings (a test's own message kinds)
        return env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``xietong ARGS`` as this node and wait."""
        return subprocess.run(
            [sys.executable, "-m", "xietong.cli", *args],
            env=self.env(),
            check=check,
            capture_output=True,
            text=True,
        )

    def shell(self, code: str) -> str:
        """Run Python in this node's Django (``xietong shell -c``) and return what it printed."""
        return self.run("shell", "--no-imports", "-c", code).stdout.strip()

    def init(self, hub: LocalNode | None) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        args = ["node", "init", "--id", self.node_id, "--name", self.name, "--endpoint", self.endpoint]
        args += ["--region", self.region]
        if hub is not None:
            args += ["--hub-entry", str(hub.var_dir / "node-entry.json")]
            args += ["--group-key-file", str(hub.var_dir / "keys" / "group-match.key")]
        self.run(*args)

    def spawn(self, log: Path | None = None) -> None:
        """Start ``xietong serve`` (web, task worker, exchange worker) in its own process group,
        its output going to ``log`` (appended) or nowhere; do not wait for it."""
        output = log.open("ab") if log is not None else subprocess.DEVNULL
        try:
            self.server = subprocess.Popen(
                [
                    sys.executable, "-m", "xietong.cli", "serve",
                    "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
                ],
                env=self.env(),
                stdout=output,
                stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        finally:
            if log is not None:
                output.close()  # type: ignore[union-attr]

    def answers(self) -> bool:
        """True when the node's web server answers its health check."""
        try:
            with urllib.request.urlopen(self.endpoint + "/healthz", timeout=1) as answer:  # noqa: S310 - loopback
                return bool(answer.status == 200)
        except OSError:
            return False

    def start(self, log: Path | None = None, timeout: float = 60) -> None:
        """Start the node and wait until it answers."""
        self.spawn(log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers():
                return
            time.sleep(0.2)
        raise RuntimeError(f"节点 {self.node_id} 未能在 {timeout:.0f} 秒内启动")

    def stop(self) -> None:
        """Stop the node's processes (the whole process group), as a crash or a shutdown would; also
        what is left of the group when its leader died alone (a worker still holding the port)."""
        if self.server is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()
        for attempt in range(50):  # the rest of the group, if any, outliving its leader
            try:
                os.killpg(self.server.pid, signal.SIGTERM if attempt < 25 else signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        self.server = None

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read this node's own database directly (the test's view of what the node holds). ``sql``
        uses ``?`` placeholders on either database; JSON comes back as text, as SQLite gives it."""
        url = self.database_url or self.extra_env.get("DATABASE_URL", "")
        if url:
            import psycopg
            from psycopg.types.string import TextLoader

            with psycopg.connect(url, autocommit=True) as db:
                for json_type in ("json", "jsonb"):
                    db.adapters.register_loader(json_type, TextLoader)
                return db.execute(sql.replace("%", "%%").replace("?", "%s"), params).fetchall()
        with sqlite3.connect(f"file:{self.var_dir / 'xietong.sqlite3'}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql, params).fetchall()


def region_group(
    base: Path,
    *,
    first_port: int = 0,
    count: int = 3,
    extra_env: dict[str, str] | None = None,
    ids: tuple[str, ...] = (),
    node_env: dict[str, dict[str, str]] | None = None,
    database_server: str | None = None,
) -> list[LocalNode]:
    """Set up ``count`` nodes of 京津冀 under ``base`` (the first is the hub), or the nodes ``ids``
    of it (``("bj", "hb")``: a test that needs only those two): keys, settings, databases, and the
    hub's registry of all of them. Nothing is started. Each node's database is on the PostgreSQL
    ``database_server`` (default: ``XIETONG_NODES_DATABASE_URL``) when there is one, else SQLite;
    ``node_env`` adds settings to one node (``{"bj": {"DATABASE_URL": …}}``: that node on a database
    of the caller's)."""
    server = database_server if database_server is not None else nodes_database_server()
    members = [row for row in REGION_GROUP if row[0] in ids] if ids else list(REGION_GROUP[:count])
    nodes = [
        LocalNode(node_id, name, region, first_port + i if first_port else free_port(), base / node_id,
                  {**(extra_env or {}), **(node_env or {}).get(node_id, {})})
        for i, (node_id, name, region) in enumerate(members)
    ]  # fmt: skip
    hub = nodes[0]
    for node in nodes:
        own = "DATABASE_URL" in node.extra_env  # a database the caller gave this node
        node.database_url = create_database(server, node.node_id) if server and not own else ""
        node.init(None if node is hub else hub)
    migrations = [
        subprocess.Popen([sys.executable, "-m", "xietong.cli", "migrate", "--no-input"], env=node.env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for node in nodes
    ]  # fmt: skip
    for node, process in zip(nodes, migrations, strict=True):
        _, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"节点 {node.node_id} 数据库迁移失败：{err.decode()[-2000:]}")
    hub.run("exchange", "register", *(str(node.var_dir / "node-entry.json") for node in nodes))
    return nodes


if __name__ == "__main__":  # the launcher moved to the demo app
    print("本机多节点演示已改为 make demo（python -m xietong.demo.regiongroup）", file=sys.stderr)
    sys.exit(2)

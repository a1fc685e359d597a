"""A PostgreSQL server of the test's own, in a temporary folder, that a test may stop and restart
(what ``scripts/with-postgres.sh`` does for the suite, but under the test's control). Tests that
need it are skipped where the PostgreSQL server binaries are not installed."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from xietong.exchange.localnodes import free_port


def _bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@dataclass
class Server:
    """A throw-away PostgreSQL server on a private port: ``create`` a database, ``restart`` it."""

    bin: Path
    folder: Path
    port: int

    def _run(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l",
                  str(self.folder / "server.log"), "-w", "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Stop the server (every connection is cut) and start it again, as an upgrade or a crash would."""
        self.stop()
        self.start()

    def create(self, name: str) -> str:
        """A new database; its ``DATABASE_URL``."""
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "xietong", name)
        return f"postgres://xietong@127.0.0.1:{self.port}/{name}"


@pytest.fixture
def postgres() -> Iterator[Server]:
    found = _bin()
    if found is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("PostgreSQL server binaries not installed (postgresql-15)")
    folder = Path(tempfile.mkdtemp(prefix="xietong-pg-fault."))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    server = Server(found, folder, free_port())
    initdb = [str(found / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "xietong"]
    server._run(*initdb, "-E", "UTF8", "--locale=C.UTF-8")
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)

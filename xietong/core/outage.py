"""What the long-running loops of a node (the task worker, the exchange worker, the reminders) do when
the database goes away under them (PostgreSQL restarted, a connection dropped): drop their
connections, wait a little longer each time (1, 2, 4 … 30 s) and carry on, instead of ending and
leaving the node answering pages but doing no work."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, connections

# The errors of a database that does not answer (or a connection it closed): worth waiting out.
DATABASE_DOWN = (OperationalError, InterfaceError)


def close_connections() -> None:
    """Drop this thread's database connections, broken ones too, so that the next query reconnects."""
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(Exception):
            connection.close()


@dataclass
class Backoff:
    """Seconds to wait after each failure in a row: ``first``, doubled each time, at most ``most``."""

    first: float = 1.0
    most: float = 30.0
    _next: float = 0.0

    def next(self) -> float:
        delay = self._next or self.first
        self._next = min(delay * 2, self.most)
        return delay

    def reset(self) -> None:
        self._next = 0.0

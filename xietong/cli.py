"""The ``xietong`` console command: Django's management commands under one name.

``xietong demo``, ``xietong serve``, ``xietong idnumber VALUE``, ``xietong audit verify`` and every
other management command (``xietong migrate``, ``xietong createsuperuser`` …).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from xietong.lib.nodesetup import node_setup_problem


def _match() -> Callable[[list[str]], int]:
    from xietong.matching.cli import main as match_main

    return match_main


def _match_encode() -> Callable[[list[str]], int]:
    from xietong.matching.cli import encode_main

    return encode_main


def _match_bench() -> Callable[[list[str]], int]:
    from xietong.matching.bench import main as bench_main

    return bench_main


PURE_COMMANDS: dict[str, Callable[[], Callable[[list[str]], int]]] = {
    "match": _match,
    "match-encode": _match_encode,
    "match-bench": _match_bench,
}

# Commands that act as this node of the region group: without its identity (``xietong node init``)
# and its database they would crash on empty tables, after creating an empty database file.
NODE_COMMANDS = frozenset({"exchange"})
DEFAULT_VAR_DIR = Path(__file__).resolve().parent.parent / "var"  # as xietong/settings/base.py


def main(argv: list[str] | None = None) -> None:
    """Run a management command; settings default to the embedded node (``xietong.settings.base``)."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in PURE_COMMANDS:  # the comparison engine needs no Django
        sys.exit(PURE_COMMANDS[args[0]]()(args[1:]))
    if args and args[0] in NODE_COMMANDS and not {"-h", "--help"} & set(args):
        problem = node_setup_problem(os.environ, DEFAULT_VAR_DIR)
        if problem is not None:  # before Django: its settings would create the data folder
            print(problem, file=sys.stderr)
            sys.exit(2)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xietong", *args])


if __name__ == "__main__":
    main()

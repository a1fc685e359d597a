"""Outbox delivery runs one way (ADR 013, addendum): only the exchange worker (``xietong exchange
deliver --loop``, which ``xietong serve`` starts) delivers; no background task does, and the one
task of the code base is the job pipeline's ``run_job``. Read from the source, so that a second way
added later fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import xietong

ROOT = Path(xietong.__file__).parent


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(ROOT.parent)), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(ROOT.rglob("*.py"))
        if "tests" not in path.parts and "migrations" not in path.parts
    ]


def _name(node: ast.expr) -> str:
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def test_the_only_background_task_is_the_job_pipelines() -> None:
    tasks = {
        f"{module}:{node.name}"
        for module, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(_name(decorator) == "task" for decorator in node.decorator_list)
    }
    assert tasks == {"xietong/core/tasks.py:run_job"}


def test_only_the_exchange_worker_delivers_the_outbox() -> None:
    callers = {
        module
        for module, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node) == "deliver_due"
    }
    assert callers == {"xietong/exchange/management/commands/exchange.py"}
